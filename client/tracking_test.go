package client

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// fakeNode is a RESP3 node that answers the tracking handshake, PING, and
// GET and PTTL of its one key; after the reply to a PTTL it pushes the
// invalidation of that key, as a node does when a write lands right
// after a tracked read. It counts the GETs it served.
type fakeNode struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	gets int
	conn []net.Conn
}

func startFakeNode(t *testing.T) *fakeNode {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeNode{ln: ln}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conn = append(f.conn, c)
			f.mu.Unlock()
			f.wg.Add(1)
			go func() { defer f.wg.Done(); f.serve(c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.conn {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *fakeNode) serve(c net.Conn) {
	r := bufio.NewReader(c)
	for {
		v, err := readValue(r)
		if err != nil {
			return
		}
		var out string
		switch strings.ToUpper(string(v.elems[0].str)) {
		case "HELLO":
			out = "%1\r\n+server\r\n+fake\r\n"
		case "CLIENT":
			out = "+OK\r\n"
		case "PING":
			out = "+PONG\r\n"
		case "GET":
			f.mu.Lock()
			f.gets++
			f.mu.Unlock()
			out = "$3\r\nold\r\n"
		case "PTTL":
			key := string(v.elems[1].str)
			out = ":-1\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$" + itoa(int64(len(key))) + "\r\n" + key + "\r\n"
		default:
			out = "-ERR unknown\r\n"
		}
		if _, err := c.Write([]byte(out)); err != nil {
			return
		}
	}
}

func (f *fakeNode) served() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets
}

// TestNearCacheInvalidationOvertakesRead: an invalidation that the
// tracking connection's reader applies after handing a read its reply,
// but before the read fills the cache, keeps the reply out of the cache.
func TestNearCacheInvalidationOvertakesRead(t *testing.T) {
	f := startFakeNode(t)
	addr := f.ln.Addr().String()
	cfg := DefaultConfig(addr).withDefaults()
	cfg.NearCache = &NearCache{MaxEntries: 10}
	c := &Client{cfg: cfg, addr: addr, single: redis.NewClient(&redis.Options{Addr: addr}),
		breakers: map[string]*breaker{}, seeds: map[string]*redis.Client{}, trackers: map[string]*tracker{}, stop: make(chan struct{})}
	c.near = newNearCache(*cfg.NearCache, nil)
	t.Cleanup(func() { c.Close() })
	var fills uint64
	c.near.beforeFill = func(string) {
		// Wait for the reader to apply the invalidation pushed after this
		// reply.
		fills++
		deadline := time.Now().Add(5 * time.Second)
		for c.near.snapshot().Invalidations < fills && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 1; i <= 2; i++ {
		if v, err := c.Get(ctx, "k"); err != nil || string(v) != "old" {
			t.Fatalf("Get = %q, %v", v, err)
		}
		if f.served() != i {
			t.Fatalf("Get %d: the node served %d GETs: the overtaken reply was cached", i, f.served())
		}
	}
	if st := c.NearCacheStats(); st.Entries != 0 || st.Invalidations != 2 {
		t.Fatalf("stats %+v", st)
	}
}
