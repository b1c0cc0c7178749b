package ginkey

import (
	"maps"
	"net"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginkey/ginkey/internal/testkit"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// faultProxy is a TCP proxy on 127.0.0.1 that a test owns and puts between
// a guard and the real PostgreSQL: it can kill every connection and refuse
// new ones (a crashed or unreachable server), or freeze them (packets
// dropped: nothing is refused, nothing answers), and heal again.
type faultProxy struct {
	t        *testing.T
	ln       net.Listener
	upstream string

	// armed: the next COMMIT a client sends reaches the server, and its
	// reply is lost with the connection.
	armed atomic.Bool
	cuts  atomic.Int64

	mu     sync.Mutex
	cond   *sync.Cond
	mode   proxyMode
	conns  map[net.Conn]struct{}
	closed bool
}

type proxyMode int

const (
	proxyPass proxyMode = iota
	proxyRefuse
	proxyFreeze
)

func newFaultProxy(t *testing.T, upstream string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{t: t, ln: ln, upstream: upstream, conns: map[net.Conn]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *faultProxy) addr() string { return p.ln.Addr().String() }

func (p *faultProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed || p.mode == proxyRefuse {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		go p.serve(c)
	}
}

func (p *faultProxy) serve(client net.Conn) {
	server, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		p.drop(client)
		return
	}
	p.mu.Lock()
	if p.closed || p.mode == proxyRefuse {
		p.mu.Unlock()
		_ = server.Close()
		p.drop(client)
		return
	}
	p.conns[server] = struct{}{}
	p.mu.Unlock()
	var cut atomic.Bool // this connection's replies are being lost
	go p.pipe(server, client, func(b []byte) bool {
		if p.armed.Load() && commitQuery.Match(b) && p.armed.CompareAndSwap(true, false) {
			cut.Store(true)
		}
		return true
	})
	p.pipe(client, server, func([]byte) bool {
		if cut.Load() {
			p.cuts.Add(1)
			return false
		}
		return true
	})
}

// commitQuery finds a COMMIT in what a PostgreSQL client sends.
var commitQuery = regexp.MustCompile(`(?i)\bcommit\b`)

// pipe copies src to dst, holding every chunk while the proxy is frozen;
// pass sees each chunk first, and ends the connection by returning false.
func (p *faultProxy) pipe(dst, src net.Conn, pass func([]byte) bool) {
	defer p.drop(dst)
	defer p.drop(src)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.gate() || !pass(buf[:n]) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// gate waits while the proxy is frozen; false once it is closed.
func (p *faultProxy) gate() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.mode == proxyFreeze && !p.closed {
		p.cond.Wait()
	}
	return !p.closed
}

func (p *faultProxy) drop(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

func (p *faultProxy) set(m proxyMode) {
	p.mu.Lock()
	p.mode = m
	var kill []net.Conn
	if m == proxyRefuse {
		for c := range p.conns {
			kill = append(kill, c)
		}
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	for _, c := range kill {
		p.drop(c)
	}
}

// kill closes every connection and refuses new ones.
func (p *faultProxy) kill() { p.set(proxyRefuse) }

// cut closes every connection and goes on accepting new ones: what a
// pooler's restart or a failover behind one address does to a pool.
func (p *faultProxy) cut() int {
	p.mu.Lock()
	kill := slices.Collect(maps.Keys(p.conns))
	p.mu.Unlock()
	for _, c := range kill {
		p.drop(c)
	}
	return len(kill) / 2
}

// freeze holds every byte in both directions, on old and new connections.
func (p *faultProxy) freeze() { p.set(proxyFreeze) }

// loseNextCommitReply lets the next COMMIT through to the server and loses
// its reply with the connection: the client cannot tell whether it held.
func (p *faultProxy) loseNextCommitReply() { p.armed.Store(true) }

// heal lets traffic through again; frozen connections resume.
func (p *faultProxy) heal() { p.set(proxyPass) }

func (p *faultProxy) close() {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	_ = p.ln.Close()
	p.set(proxyRefuse)
}

// proxiedPostgres opens the test PostgreSQL through a new faultProxy and
// returns the database, a table prefix of the test's own and the proxy.
// The tables are dropped through a direct connection when the test ends.
func proxiedPostgres(t *testing.T) (*gorm.DB, string, *faultProxy) {
	t.Helper()
	dsn := testkit.PostgresDSN(t)
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("GINKEY_TEST_POSTGRES: %v", err)
	}
	p := newFaultProxy(t, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	host, port, _ := net.SplitHostPort(p.addr())
	// In a key=value DSN the last of a repeated key wins.
	db, err := gorm.Open(postgres.Open(dsn+" host="+host+" port="+port+" connect_timeout=5"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("PostgreSQL through the proxy: %v", err)
	}
	_, prefix := testkit.OpenPostgres(t) // drops the tables at the end
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	return db, prefix, p
}
