package ginkey

import (
	"errors"
	"strings"

	"github.com/gin-gonic/gin"
)

// SourceKind says where in a request a key may be found.
type SourceKind int

// The places a key may come from.
const (
	FromHeader SourceKind = iota + 1 // a request header, e.g. X-API-Key
	FromQuery                        // a query parameter, e.g. api_key
	FromBearer                       // Authorization: Bearer <key>
	FromCookie                       // a cookie
)

// Source is one place a key may come from. Name is the header, parameter or
// cookie name; FromBearer ignores it.
type Source struct {
	From SourceKind
	Name string
}

// DefaultSources are used when Config.Sources is empty: the X-API-Key header,
// the api_key query parameter and an Authorization bearer token, in that order.
func DefaultSources() []Source {
	return []Source{
		{From: FromHeader, Name: "X-API-Key"},
		{From: FromQuery, Name: "api_key"},
		{From: FromBearer},
	}
}

func validateSources(sources []Source) error {
	for _, s := range sources {
		switch s.From {
		case FromHeader, FromQuery, FromCookie:
			if strings.TrimSpace(s.Name) == "" {
				return errors.New("ginkey: a header, query or cookie Source needs a Name")
			}
		case FromBearer:
		default:
			return errors.New("ginkey: unknown Source kind")
		}
	}
	return nil
}

// extractKey returns the first credential found in the configured sources,
// or "" when there is none. The query string is parsed only when no earlier
// source carried a key.
func extractKey(c *gin.Context, sources []Source) string {
	for _, s := range sources {
		var v string
		switch s.From {
		case FromHeader:
			v = c.GetHeader(s.Name)
		case FromQuery:
			if c.Request.URL.RawQuery != "" {
				v = c.Query(s.Name)
			}
		case FromBearer:
			v = bearerToken(c.GetHeader("Authorization"))
		case FromCookie:
			v, _ = c.Cookie(s.Name)
		}
		if v != "" {
			return v
		}
	}
	return ""
}

func bearerToken(h string) string {
	const scheme = "Bearer "
	if len(h) > len(scheme) && strings.EqualFold(h[:len(scheme)], scheme) {
		return strings.TrimSpace(h[len(scheme):])
	}
	return ""
}
