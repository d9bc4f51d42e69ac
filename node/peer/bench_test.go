package peer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// startBenchServer answers every command of the fixed encoded length
// cmdLen with reply, allocating nothing per command, so the benchmarks
// measure the client (allocations are counted process-wide).
func startBenchServer(b *testing.B, cmdLen int, reply []byte) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			wg.Go(func() {
				in := make([]byte, 64<<10)
				batch := bytes.Repeat(reply, 256)
				partial := 0
				for {
					n, err := nc.Read(in)
					if err != nil {
						return
					}
					partial += n
					k := partial / cmdLen
					partial %= cmdLen
					for k > 0 {
						m := min(k, 256)
						if _, err := nc.Write(batch[:m*len(reply)]); err != nil {
							return
						}
						k -= m
					}
				}
			})
		}
	})
	b.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, nc := range conns {
			nc.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func reportOps(b *testing.B) {
	if secs := b.Elapsed().Seconds(); secs > 0 {
		b.ReportMetric(float64(b.N)/secs, "ops/s")
	}
}

func reportCombining(b *testing.B, p *Pool) {
	if st := p.Stats(); len(st) == 1 && st[0].Writes > 0 {
		b.ReportMetric(float64(st[0].Calls)/float64(st[0].Writes), "calls/write")
	}
}

// BenchmarkCall is one synchronous round trip to a peer on loopback;
// conn=raw is the floor: the same exchange on a bare net.Conn, no pool.
func BenchmarkCall(b *testing.B) {
	for _, size := range []int{16, 1024} {
		args := cmd("ECHO", strings.Repeat("v", size))
		reply := []byte(bulk(strings.Repeat("v", size)))
		b.Run(fmt.Sprintf("valSz=%db/conn=raw", size), func(b *testing.B) {
			encoded := appendCommand(nil, args)
			nc, err := net.Dial("tcp", startBenchServer(b, len(encoded), reply))
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			in := make([]byte, len(reply))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := nc.Write(encoded); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(nc, in); err != nil {
					b.Fatal(err)
				}
			}
			reportOps(b)
		})
		b.Run(fmt.Sprintf("valSz=%db/conn=pool", size), func(b *testing.B) {
			addr := startBenchServer(b, len(appendCommand(nil, args)), reply)
			p := newTestPool(b, func(c *Config) { c.ConnsPerPeer = 1 })
			ctx := context.Background()
			if _, err := p.Call(ctx, addr, 2, 0, args); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Call(ctx, addr, 2, 0, args); err != nil {
					b.Fatal(err)
				}
			}
			reportOps(b)
		})
	}
}

// BenchmarkCallParallel is many goroutines calling one peer at once: the
// pipelines and write combining at work.
func BenchmarkCallParallel(b *testing.B) {
	args := cmd("ECHO", strings.Repeat("v", 16))
	reply := []byte(bulk(strings.Repeat("v", 16)))
	for _, conns := range []int{1, 4} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			addr := startBenchServer(b, len(appendCommand(nil, args)), reply)
			p := newTestPool(b, func(c *Config) { c.ConnsPerPeer = conns })
			ctx := context.Background()
			if _, err := p.Call(ctx, addr, 2, 0, args); err != nil {
				b.Fatal(err)
			}
			var hints atomic.Uint64
			b.ReportAllocs()
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				hint := hints.Add(1)
				for pb.Next() {
					if _, err := p.Call(ctx, addr, 2, hint, args); err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportOps(b)
			reportCombining(b, p)
		})
	}
}

// BenchmarkGoPipelined is one goroutine keeping a window of asynchronous
// calls in flight.
func BenchmarkGoPipelined(b *testing.B) {
	args := cmd("ECHO", strings.Repeat("v", 16))
	reply := []byte(bulk(strings.Repeat("v", 16)))
	addr := startBenchServer(b, len(appendCommand(nil, args)), reply)
	p := newTestPool(b, func(c *Config) { c.ConnsPerPeer = 1 })
	if _, err := p.Call(context.Background(), addr, 2, 0, args); err != nil {
		b.Fatal(err)
	}
	const window = 1000
	slots := make(chan struct{}, window)
	done := func(_ []byte, err error) {
		if err != nil {
			b.Error(err)
		}
		<-slots
	}
	b.ReportAllocs()
	for b.Loop() {
		slots <- struct{}{}
		p.Go(addr, 2, 0, args, done)
	}
	for range window {
		slots <- struct{}{}
	}
	reportOps(b)
	reportCombining(b, p)
}

func BenchmarkReplyLen(b *testing.B) {
	array := "*100\r\n" + strings.Repeat("$5\r\nvalue\r\n", 100)
	for _, bc := range []struct{ name, reply string }{
		{"simple", "+OK\r\n"},
		{"integer", ":1234567\r\n"},
		{"bulk=16b", bulk(strings.Repeat("v", 16))},
		{"bulk=64KiB", bulk(strings.Repeat("v", 64<<10))},
		{"array=100", array},
		{"map=10x10", "%10\r\n" + strings.Repeat("+k\r\n*10\r\n"+strings.Repeat(":1\r\n", 10), 10)},
	} {
		buf := []byte(bc.reply)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				if n, err := ReplyLen(buf); n != len(buf) || err != nil {
					b.Fatal(n, err)
				}
			}
			reportOps(b)
		})
	}
}

// BenchmarkReadReplies frames small replies off a buffer as the reader
// goroutine does, one allocation (the reply's copy) each.
func BenchmarkReadReplies(b *testing.B) {
	const perRead = 1000
	stream := bytes.Repeat([]byte(bulk("value")), perRead)
	src := bytes.NewReader(stream)
	rr := newReplyReader(src, MaxDeclaredLen)
	b.ReportAllocs()
	b.SetBytes(int64(len(bulk("value"))))
	i := 0
	for b.Loop() {
		if i%perRead == 0 {
			src.Reset(stream)
			rr.br.Reset(src)
		}
		if _, err := rr.next(true); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportOps(b)
}
