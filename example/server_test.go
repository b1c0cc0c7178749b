package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The example's server limits, shortened for tests. A limit newServer does
// not set stays unset, so that a test of it fails without it.
const (
	testReadHeaderTimeout = 300 * time.Millisecond
	testReadTimeout       = 300 * time.Millisecond
	testWriteTimeout      = 2 * time.Second
	testIdleTimeout       = 1200 * time.Millisecond // longer than the read timeout, as in newServer
)

// countingListener counts the bytes the server reads from its connections.
type countingListener struct {
	net.Listener
	read atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, read: &l.read}, nil
}

type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// shortServer serves the example's router with newServer's limits
// shortened, on 127.0.0.1, and returns its address, its listener and an
// admin-made key with the items scopes.
func shortServer(t *testing.T) (addr string, ln *countingListener, key string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln = &countingListener{Listener: l}
	srv := newServer(l.Addr().String(), newTestGuard(t, false).Engine)
	for _, d := range []struct {
		field *time.Duration
		short time.Duration
	}{
		{&srv.ReadHeaderTimeout, testReadHeaderTimeout},
		{&srv.ReadTimeout, testReadTimeout},
		{&srv.WriteTimeout, testWriteTimeout},
		{&srv.IdleTimeout, testIdleTimeout},
	} {
		if *d.field > 0 {
			*d.field = d.short
		}
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	req, err := http.NewRequest(http.MethodPost, "http://"+srv.Addr+"/auth/keys", strings.NewReader(`{"name":"items","scopes":["items:read","items:write"]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Admin-Secret", testSecret)
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var created struct{ Key string }
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create a key: %d %v", resp.StatusCode, err)
	}
	return srv.Addr, ln, created.Key
}

// dial opens a raw connection to addr; the test's deadline bounds every read.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// closedWithin reads (and discards) from c until the server closes it, and
// returns how long that took; it fails the test if c is still open after
// limit.
func closedWithin(t *testing.T, c net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if err := c.SetReadDeadline(start.Add(limit)); err != nil {
		t.Fatal(err)
	}
	_, err := io.Copy(io.Discard, c)
	took := time.Since(start)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open for %s", limit)
	}
	return took
}

func TestServerClosesAConnectionWhoseBodyNeverComes(t *testing.T) {
	t.Parallel()
	addr, _, key := shortServer(t)
	start := time.Now() // before the server can start its clock
	c := dial(t, addr)
	_, err := fmt.Fprintf(c, "POST /items HTTP/1.1\r\nHost: %s\r\nX-API-Key: %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n", addr, key)
	if err != nil {
		t.Fatal(err)
	}
	closedWithin(t, c, testReadTimeout+2*time.Second)
	took := time.Since(start)
	t.Logf("connection closed %s after the headers (ReadTimeout %s)", took.Round(time.Millisecond), testReadTimeout)
	if took < testReadTimeout-50*time.Millisecond {
		t.Errorf("closed after %s, before the read timeout: something else closed it", took)
	}
}

func TestServerClosesAnIdleKeepAliveConnection(t *testing.T) {
	t.Parallel()
	addr, _, _ := shortServer(t)
	c := dial(t, addr)
	if _, err := fmt.Fprintf(c, "GET /public HTTP/1.1\r\nHost: %s\r\n\r\n", addr); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("GET /public: %d, close %v; want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
	}
	idleSince := time.Now()
	took := closedWithin(t, &bufferedConn{Conn: c, r: br}, testIdleTimeout+2*time.Second)
	t.Logf("idle connection closed after %s (IdleTimeout %s, ReadTimeout %s)", took.Round(time.Millisecond), testIdleTimeout, testReadTimeout)
	// Without IdleTimeout, net/http falls back to ReadTimeout: closing at
	// that, earlier, means IdleTimeout is not set.
	if took := time.Since(idleSince); took < testIdleTimeout-200*time.Millisecond {
		t.Errorf("closed after %s of idleness, before IdleTimeout (%s): IdleTimeout is not what applies", took, testIdleTimeout)
	}
}

type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestLargeItemBodyIsRefusedUnread(t *testing.T) {
	t.Parallel()
	addr, ln, key := shortServer(t)
	const size = 2 << 20
	c := dial(t, addr)
	before := ln.read.Load()
	// The body is a valid JSON object of 2 MB, so that a server without the
	// cap would read it to its end (and answer 400 for a name too long).
	go func() {
		_, _ = fmt.Fprintf(c, "POST /items HTTP/1.1\r\nHost: %s\r\nX-API-Key: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"name\":\"", addr, key, size)
		filler := strings.Repeat("a", 64<<10)
		for sent := len(`{"name":"`); sent < size-2; sent += len(filler) {
			if _, err := io.WriteString(c, filler[:min(len(filler), size-2-sent)]); err != nil {
				return // the server closed the connection: expected
			}
		}
		_, _ = io.WriteString(c, `"}`)
	}()
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	// Give the server a moment to read what it would still read.
	time.Sleep(200 * time.Millisecond)
	read := ln.read.Load() - before
	t.Logf("a %d-byte body: %d %s; the server read %d bytes of the request", size, resp.StatusCode, body.Error.Code, read)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || body.Error.Code != "payload_too_large" || body.Error.Message == "" {
		t.Errorf("answer %d %+v, want 413 payload_too_large", resp.StatusCode, body.Error)
	}
	// After the handler net/http itself reads up to 256 KiB more of an
	// unread body, so that the client sees the answer instead of a reset.
	if limit := int64(maxItemBodyBytes + 256<<10 + 64<<10); read > limit {
		t.Errorf("the server read %d bytes of a body it should refuse after %d (limit %d)", read, maxItemBodyBytes, limit)
	}
}
