package ginkey

import (
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"
)

const (
	maxAllowedIPs   = 64
	maxAllowedIPLen = 64
)

// parseAllowedIPs validates an allow-list of CIDR prefixes and single
// addresses, IPv4 or IPv6, and returns it in canonical form ("10.1.2.3/8"
// becomes "10.0.0.0/8", "::ffff:10.0.0.1" becomes "10.0.0.1") with the parsed
// prefixes. Duplicates are dropped, order kept.
func parseAllowedIPs(entries []string) ([]string, []netip.Prefix, *Error) {
	if len(entries) > maxAllowedIPs {
		return nil, nil, badField("allowed_ips", "must hold at most 64 entries")
	}
	canon := make([]string, 0, len(entries))
	prefixes := make([]netip.Prefix, 0, len(entries))
	seen := make(map[netip.Prefix]bool, len(entries))
	for _, s := range entries {
		p, ok := parseIPEntry(s)
		if !ok {
			return nil, nil, badField("allowed_ips", "entries must be IPv4 or IPv6 addresses or CIDR prefixes, e.g. 10.0.0.0/8 or 2001:db8::/32")
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		prefixes = append(prefixes, p)
		if p.IsSingleIP() {
			canon = append(canon, p.Addr().String())
		} else {
			canon = append(canon, p.String())
		}
	}
	return canon, prefixes, nil
}

func parseIPEntry(s string) (netip.Prefix, bool) {
	if s == "" || len(s) > maxAllowedIPLen {
		return netip.Prefix{}, false
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, false
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, false
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	// Client addresses are unmapped before matching, so an IPv4-mapped
	// prefix is stored as the IPv4 prefix it means.
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// clientAddr is the request's client address as gin reports it: the peer,
// or an X-Forwarded-For / X-Real-IP entry only when the peer is one of the
// engine's trusted proxies. An unparsable address is the zero Addr, which no
// allow-list contains.
func clientAddr(c *gin.Context) netip.Addr {
	a, err := netip.ParseAddr(c.ClientIP())
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

// checkIP enforces the key's allow-list, if it has one.
func checkIP(c *gin.Context, p *keyPolicy) error {
	if !p.ipRestricted {
		return nil
	}
	a := clientAddr(c)
	for _, n := range p.nets {
		if n.Contains(a) {
			return nil
		}
	}
	return ErrIPNotAllowed
}
