package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

type result struct {
	reply []byte
	err   error
}

// goAsync starts a call and returns where its result will arrive.
func goAsync(p *Pool, addr string, proto int, hint uint64, args [][]byte) <-chan result {
	ch := make(chan result, 1)
	p.Go(addr, proto, hint, args, func(reply []byte, err error) { ch <- result{reply, err} })
	return ch
}

// await returns a call's result, failing the test after a few seconds.
func await(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("call never completed")
		return result{}
	}
}

func mustCall(t *testing.T, p *Pool, addr string, proto int, hint uint64, args ...string) string {
	t.Helper()
	reply, err := p.Call(context.Background(), addr, proto, hint, cmd(args...))
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return string(reply)
}

func TestCall(t *testing.T) {
	fake := startFake(t)
	p := newTestPool(t, func(c *Config) { c.ConnsPerPeer = 1 })
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			if got := mustCall(t, p, fake.addr, proto, 0, "ECHO", "hi"); got != bulk("hi") {
				t.Fatalf("ECHO = %q", got)
			}
			if got := mustCall(t, p, fake.addr, proto, 7, "NOPE"); got != "-ERR unknown command\r\n" {
				t.Fatalf("NOPE = %q", got)
			}
		})
	}
	conns := fake.connections()
	if len(conns) != 2 {
		t.Fatalf("%d connections, want one per protocol", len(conns))
	}
	for _, c := range conns {
		log := c.log()
		want := []string{"ECHO hi", "NOPE"}
		if c.protocol() == 3 {
			want = append([]string{"HELLO 3"}, want...)
		}
		if !slices.Equal(log, want) {
			t.Fatalf("RESP%d connection got %q, want %q", c.protocol(), log, want)
		}
	}
}

func TestInvalidArguments(t *testing.T) {
	fake := startFake(t)
	p := newTestPool(t, nil)
	for _, tc := range []struct {
		name  string
		proto int
		args  [][]byte
	}{
		{"protocol 1", 1, cmd("PING")},
		{"protocol 4", 4, cmd("PING")},
		{"empty command", 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			called := false
			p.Go(fake.addr, tc.proto, 0, tc.args, func(_ []byte, err error) {
				called = err != nil
			})
			if !called {
				t.Fatal("done not called at once with an error")
			}
		})
	}
	if _, err := p.Dedicated(context.Background(), fake.addr, 5); err == nil {
		t.Fatal("Dedicated accepted protocol 5")
	}
}

// TestConcurrentCallsMatched: thousands of concurrent calls over a few
// connections each get their own reply.
func TestConcurrentCallsMatched(t *testing.T) {
	fake := startFake(t)
	p := newTestPool(t, func(c *Config) { c.ConnsPerPeer = 4 })
	const goroutines, perG = 50, 200
	var wg sync.WaitGroup
	var bad atomic.Int64
	for g := range goroutines {
		wg.Go(func() {
			var calls sync.WaitGroup
			for i := range perG {
				payload := fmt.Sprintf("g%d-call%d-%s", g, i, strings.Repeat("p", i%50))
				calls.Add(1)
				p.Go(fake.addr, 2+g%2, uint64(i), cmd("ECHO", payload), func(reply []byte, err error) {
					if err != nil || string(reply) != bulk(payload) {
						bad.Add(1)
					}
					calls.Done()
				})
			}
			calls.Wait()
		})
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d of %d calls got a wrong reply or an error", bad.Load(), goroutines*perG)
	}
}

// TestOrderPerHint: calls with one hint reach the peer, and complete, in
// the order they were made.
func TestOrderPerHint(t *testing.T) {
	fake := startFake(t)
	p := newTestPool(t, func(c *Config) { c.ConnsPerPeer = 4 })
	const hints, perHint = 16, 500
	var mu sync.Mutex
	completed := make([][]int, hints)
	var wg, calls sync.WaitGroup
	for h := range hints {
		wg.Go(func() {
			for i := range perHint {
				calls.Add(1)
				p.Go(fake.addr, 2, uint64(h), cmd("ECHO", fmt.Sprintf("%d:%d", h, i)), func(reply []byte, err error) {
					defer calls.Done()
					if err != nil || string(reply) != bulk(fmt.Sprintf("%d:%d", h, i)) {
						t.Errorf("hint %d call %d: %q, %v", h, i, reply, err)
					}
					mu.Lock()
					completed[h] = append(completed[h], i)
					mu.Unlock()
				})
			}
		})
	}
	wg.Wait()
	calls.Wait()
	for h, order := range completed {
		if len(order) != perHint || !slices.IsSorted(order) {
			t.Fatalf("hint %d completed out of order: %v", h, order)
		}
	}
	// On the wire: each hint on one connection, its commands in order.
	connOf := make(map[int]*fakeConn)
	for _, c := range fake.connections() {
		last := make(map[int]int)
		for _, line := range c.log() {
			var h, i int
			if _, err := fmt.Sscanf(line, "ECHO %d:%d", &h, &i); err != nil {
				t.Fatalf("unexpected command %q", line)
			}
			if prev, ok := connOf[h]; ok && prev != c {
				t.Fatalf("hint %d spread over connections", h)
			}
			connOf[h] = c
			if n, seen := last[h]; seen && i != n+1 {
				t.Fatalf("hint %d: %d arrived after %d", h, i, n)
			}
			last[h] = i
		}
	}
}

// TestWriteCombining: concurrent calls share write system calls.
func TestWriteCombining(t *testing.T) {
	fake := startFake(t)
	p := newTestPool(t, func(c *Config) { c.ConnsPerPeer = 1 })
	mustCall(t, p, fake.addr, 2, 0, "PING") // connect first

	t.Run("burst", func(t *testing.T) {
		before := p.Stats()[0]
		const n = 5000
		var calls sync.WaitGroup
		calls.Add(n)
		for i := range n {
			p.Go(fake.addr, 2, 0, cmd("ECHO", fmt.Sprint(i)), func([]byte, error) { calls.Done() })
		}
		calls.Wait()
		st := p.Stats()[0]
		writes := st.Writes - before.Writes
		t.Logf("%d calls in a burst: %d writes (%.0f calls per write)", n, writes, float64(n)/float64(writes))
		if writes >= n {
			t.Fatalf("%d writes for %d calls: no combining", writes, n)
		}
	})
	t.Run("concurrent callers", func(t *testing.T) {
		before := p.Stats()[0]
		const callers, perCaller = 64, 100
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				for range perCaller {
					if _, err := p.Call(context.Background(), fake.addr, 2, 0, cmd("PING")); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		st := p.Stats()[0]
		calls, writes := st.Calls-before.Calls, st.Writes-before.Writes
		t.Logf("%d callers, %d round trips: %d writes (%.1f calls per write), server reads %d",
			callers, calls, writes, float64(calls)/float64(writes), fake.reads.Load())
	})
}

func TestTimeout(t *testing.T) {
	fake := startFake(t)
	const timeout = 150 * time.Millisecond
	p := newTestPool(t, func(c *Config) {
		c.ConnsPerPeer = 1
		c.CallTimeout = timeout
	})
	mustCall(t, p, fake.addr, 2, 0, "PING")
	start := time.Now()
	hung := goAsync(p, fake.addr, 2, 0, cmd("HANG"))
	behind := goAsync(p, fake.addr, 2, 0, cmd("ECHO", "behind"))
	r := await(t, hung)
	if !errors.Is(r.err, ErrTimeout) {
		t.Fatalf("hung call: %v, want ErrTimeout", r.err)
	}
	if elapsed := time.Since(start); elapsed < timeout {
		t.Fatalf("timed out after %v, before CallTimeout %v", elapsed, timeout)
	}
	if !strings.Contains(r.err.Error(), fake.addr) {
		t.Fatalf("error %q does not name the peer", r.err)
	}
	if r := await(t, behind); !errors.Is(r.err, ErrConnClosed) && !errors.Is(r.err, ErrTimeout) {
		t.Fatalf("call behind the hung one: %v, want ErrConnClosed or ErrTimeout", r.err)
	}
	if got := mustCall(t, p, fake.addr, 2, 0, "ECHO", "after"); got != bulk("after") {
		t.Fatalf("after the timeout: %q", got)
	}
	if n := len(fake.connections()); n != 2 {
		t.Fatalf("%d connections, want a fresh one after the timeout", n)
	}
	waitFor(t, "the timed-out connection to close", func() bool { return fake.openConns() == 1 })
	if st := p.Stats()[0]; st.Timeouts < 1 || st.Errors < st.Timeouts {
		t.Fatalf("stats %+v: timeout not counted", st)
	}
}

func TestOverloaded(t *testing.T) {
	fake := startFake(t)
	p := newTestPool(t, func(c *Config) {
		c.ConnsPerPeer = 1
		c.MaxInFlight = 8
	})
	var pending []<-chan result
	for range 8 { // queued while dialing, then hung
		pending = append(pending, goAsync(p, fake.addr, 2, 0, cmd("HANG")))
	}
	var got error
	p.Go(fake.addr, 2, 0, cmd("PING"), func(_ []byte, err error) { got = err })
	if !errors.Is(got, ErrOverloaded) {
		t.Fatalf("call beyond MaxInFlight: %v, want ErrOverloaded at once", got)
	}
	if _, err := p.Batch(context.Background(), fake.addr, 2, 1, [][][]byte{cmd("PING"), cmd("PING")}); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("Batch beyond MaxInFlight: %v", err)
	}
	big := make([][][]byte, 9)
	for i := range big {
		big[i] = cmd("PING")
	}
	if _, err := p.Batch(context.Background(), fake.addr, 3, 0, big); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("Batch larger than MaxInFlight: %v", err)
	}
	if st := p.Stats(); st[0].InFlight != 8 {
		t.Fatalf("stats %+v, want 8 in flight", st)
	}
	p.Close()
	for _, ch := range pending {
		if r := await(t, ch); !errors.Is(r.err, ErrClosed) {
			t.Fatalf("pending call after Close: %v", r.err)
		}
	}
}

// TestServerDies: the peer going away fails every pending call; calls
// made while it is down fail to dial; when it returns, calls succeed.
func TestServerDies(t *testing.T) {
	fake := startFake(t)
	p := newTestPool(t, func(c *Config) { c.ConnsPerPeer = 2 })
	var pending []<-chan result
	for i := range 20 {
		pending = append(pending, goAsync(p, fake.addr, 2, uint64(i), cmd("HANG")))
	}
	waitFor(t, "the calls to reach the server", func() bool { return fake.cmdCount.Load() == 20 })
	fake.stop()
	for _, ch := range pending {
		if r := await(t, ch); !errors.Is(r.err, ErrConnClosed) {
			t.Fatalf("pending call: %v, want ErrConnClosed", r.err)
		}
	}
	if _, err := p.Call(context.Background(), fake.addr, 2, 0, cmd("PING")); !errors.Is(err, ErrDial) {
		t.Fatalf("call while the server is down: %v, want ErrDial", err)
	}
	fake.restart()
	for h := range uint64(2) {
		if got := mustCall(t, p, fake.addr, 2, h, "ECHO", "back"); got != bulk("back") {
			t.Fatalf("after restart: %q", got)
		}
	}
}

// TestConnectionDropsMidCall: the peer closing one connection fails that
// connection's calls only.
func TestConnectionDropsMidCall(t *testing.T) {
	fake := startFake(t)
	p := newTestPool(t, func(c *Config) { c.ConnsPerPeer = 2 })
	mustCall(t, p, fake.addr, 2, 1, "PING")
	die := goAsync(p, fake.addr, 2, 0, cmd("DIE"))
	behind := goAsync(p, fake.addr, 2, 0, cmd("PING"))
	for _, ch := range []<-chan result{die, behind} {
		if r := await(t, ch); !errors.Is(r.err, ErrConnClosed) {
			t.Fatalf("call on the dropped connection: %v", r.err)
		}
	}
	if got := mustCall(t, p, fake.addr, 2, 1, "PING"); got != "+PONG\r\n" {
		t.Fatalf("other connection: %q", got)
	}
	if got := mustCall(t, p, fake.addr, 2, 0, "PING"); got != "+PONG\r\n" {
		t.Fatalf("redialed connection: %q", got)
	}
}

// TestBatchContiguous: a batch's commands reach the peer back to back
// while other calls share the connection.
func TestBatchContiguous(t *testing.T) {
	fake := startFake(t)
	p := newTestPool(t, func(c *Config) { c.ConnsPerPeer = 1 })
	stop := make(chan struct{})
	var noise sync.WaitGroup
	for g := range 4 {
		noise.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := p.Call(context.Background(), fake.addr, 2, 0, cmd("ECHO", fmt.Sprintf("noise%d-%d", g, i))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	const batches, size = 40, 12
	var wg sync.WaitGroup
	for b := range batches {
		wg.Go(func() {
			cmds := make([][][]byte, size)
			for i := range cmds {
				cmds[i] = cmd("ECHO", fmt.Sprintf("b%d-%d", b, i))
			}
			cmds[0], cmds[size-1] = cmd("ECHO", fmt.Sprintf("b%d-0", b)), cmd("NOPE", fmt.Sprintf("b%d-%d", b, size-1))
			replies, err := p.Batch(context.Background(), fake.addr, 2, 0, cmds)
			if err != nil {
				t.Error(err)
				return
			}
			for i, r := range replies[:size-1] {
				if string(r) != bulk(fmt.Sprintf("b%d-%d", b, i)) {
					t.Errorf("batch %d reply %d = %q", b, i, r)
				}
			}
			if msg, ok := ReplyError(replies[size-1]); !ok || msg != "ERR unknown command" {
				t.Errorf("batch %d last reply = %q", b, replies[size-1])
			}
		})
	}
	wg.Wait()
	close(stop)
	noise.Wait()

	log := fake.connections()[0].log()
	for b := range batches {
		first := slices.Index(log, fmt.Sprintf("ECHO b%d-0", b))
		if first < 0 || first+size > len(log) {
			t.Fatalf("batch %d not found", b)
		}
		for i := range size {
			name := "ECHO"
			if i == size-1 {
				name = "NOPE"
			}
			if want := fmt.Sprintf("%s b%d-%d", name, b, i); log[first+i] != want {
				t.Fatalf("batch %d: %q arrived where %q belongs", b, log[first+i], want)
			}
		}
	}
}

func TestBatchFails(t *testing.T) {
	fake := startFake(t)
	p := newTestPool(t, func(c *Config) {
		c.ConnsPerPeer = 1
		c.CallTimeout = 100 * time.Millisecond
	})
	if replies, err := p.Batch(context.Background(), fake.addr, 2, 0, nil); replies != nil || err != nil {
		t.Fatalf("empty batch: %q, %v", replies, err)
	}
	_, err := p.Batch(context.Background(), fake.addr, 2, 0, [][][]byte{cmd("PING"), cmd("HANG"), cmd("PING")})
	if !errors.Is(err, ErrTimeout) && !errors.Is(err, ErrConnClosed) {
		t.Fatalf("batch with a hung command: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Batch(ctx, fake.addr, 2, 0, [][][]byte{cmd("PING")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("batch with a cancelled context: %v", err)
	}
}

func TestCallContext(t *testing.T) {
	fake := startFake(t)
	p := newTestPool(t, func(c *Config) { c.ConnsPerPeer = 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Call(ctx, fake.addr, 2, 0, cmd("HANG")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call past its context: %v", err)
	}
	if _, err := p.Call(ctx, fake.addr, 2, 1, cmd("PING")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call with a done context: %v", err)
	}
	if got := mustCall(t, p, fake.addr, 2, 1, "PING"); got != "+PONG\r\n" {
		t.Fatalf("other connection: %q", got)
	}
}

func TestDedicated(t *testing.T) {
	fake := startFake(t)
	p := newTestPool(t, func(c *Config) { c.ConnsPerPeer = 1 })
	d, err := p.Dedicated(context.Background(), fake.addr, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got, err := d.Call(context.Background(), cmd("ECHO", "own")); err != nil || string(got) != bulk("own") {
		t.Fatalf("dedicated ECHO: %q, %v", got, err)
	}
	if log := fake.connections()[0].log(); !slices.Equal(log, []string{"HELLO 3", "ECHO own"}) {
		t.Fatalf("dedicated connection got %q", log)
	}

	// A blocked dedicated call stalls nothing else.
	ctx, cancel := context.WithCancel(context.Background())
	blocked := make(chan error, 1)
	go func() {
		_, err := d.Call(ctx, cmd("HANG"))
		blocked <- err
	}()
	waitFor(t, "the blocking command to arrive", func() bool { return fake.cmdCount.Load() == 3 })
	for i := range 10 {
		if got := mustCall(t, p, fake.addr, 3, 0, "ECHO", fmt.Sprint(i)); got != bulk(fmt.Sprint(i)) {
			t.Fatalf("pooled call while blocked: %q", got)
		}
	}
	cancel()
	if err := <-blocked; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled dedicated call: %v", err)
	}
	if _, err := d.Call(context.Background(), cmd("PING")); !errors.Is(err, ErrConnClosed) {
		t.Fatalf("call after an interrupted one: %v, want ErrConnClosed", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	t.Run("deadline", func(t *testing.T) {
		d, err := p.Dedicated(context.Background(), fake.addr, 2)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := d.Call(ctx, cmd("HANG")); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("dedicated call past its deadline: %v", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		if _, err := p.Dedicated(context.Background(), closedAddr(t), 2); !errors.Is(err, ErrDial) {
			t.Fatalf("Dedicated to a closed port: %v", err)
		}
	})
	t.Run("handshake error", func(t *testing.T) {
		fake.setPassword("secret")
		defer fake.setPassword("")
		p := newTestPool(t, func(c *Config) { c.Handshake = [][][]byte{cmd("AUTH", "wrong")} })
		if _, err := p.Dedicated(context.Background(), fake.addr, 2); !errors.Is(err, ErrHandshake) {
			t.Fatalf("Dedicated with a bad AUTH: %v", err)
		}
	})
}

// closedAddr returns an address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestDialFailure(t *testing.T) {
	p := newTestPool(t, nil)
	addr := closedAddr(t)
	for range 3 { // each call redials
		if _, err := p.Call(context.Background(), addr, 2, 0, cmd("PING")); !errors.Is(err, ErrDial) || !strings.Contains(err.Error(), addr) {
			t.Fatalf("call to a closed port: %v", err)
		}
	}
	if st := p.Stats(); len(st) != 1 || st[0].Errors != 3 || st[0].Calls != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestHandshake(t *testing.T) {
	fake := startFake(t)
	fake.setPassword("s3cret")
	t.Run("accepted", func(t *testing.T) {
		p := newTestPool(t, func(c *Config) {
			c.ConnsPerPeer = 1
			c.Handshake = [][][]byte{cmd("AUTH", "s3cret"), cmd("CLIENT", "SETNAME", "node-1")}
		})
		// CLIENT is unknown to the fake: its error must fail the handshake...
		if _, err := p.Call(context.Background(), fake.addr, 3, 0, cmd("PING")); !errors.Is(err, ErrHandshake) || !strings.Contains(err.Error(), "CLIENT") {
			t.Fatalf("handshake with an error reply: %v", err)
		}
		p2 := newTestPool(t, func(c *Config) {
			c.ConnsPerPeer = 1
			c.Handshake = [][][]byte{cmd("AUTH", "s3cret")}
		})
		// ... while AUTH alone passes, before HELLO 3.
		if got := mustCall(t, p2, fake.addr, 3, 0, "PING"); got != "+PONG\r\n" {
			t.Fatalf("PING = %q", got)
		}
		conns := fake.connections()
		if log := conns[len(conns)-1].log(); !slices.Equal(log, []string{"AUTH s3cret", "HELLO 3", "PING"}) {
			t.Fatalf("connection got %q", log)
		}
	})
	t.Run("rejected", func(t *testing.T) {
		p := newTestPool(t, func(c *Config) { c.Handshake = [][][]byte{cmd("AUTH", "wrong")} })
		before := fake.cmdCount.Load()
		_, err := p.Call(context.Background(), fake.addr, 2, 0, cmd("ECHO", "x"))
		if !errors.Is(err, ErrHandshake) || !strings.Contains(err.Error(), "WRONGPASS") {
			t.Fatalf("call after a rejected AUTH: %v", err)
		}
		if sent := fake.cmdCount.Load() - before; sent != 1 {
			t.Fatalf("%d commands reached the server, want the AUTH alone", sent)
		}
	})
}

func TestLargeAndSplitReplies(t *testing.T) {
	fake := startFake(t)
	p := newTestPool(t, func(c *Config) { c.ConnsPerPeer = 1 })
	for _, n := range []int{readBufferSize - 10, readBufferSize, 200_000, 3 << 20} {
		t.Run(fmt.Sprintf("bulk %d", n), func(t *testing.T) {
			if got := mustCall(t, p, fake.addr, 2, 0, "BIG", fmt.Sprint(n)); got != bulk(strings.Repeat("x", n)) {
				t.Fatalf("BIG %d: %d bytes", n, len(got))
			}
		})
	}
	t.Run("array of many small elements", func(t *testing.T) {
		const n = 100_000
		reply, err := p.Call(context.Background(), fake.addr, 2, 0, cmd("MANY", fmt.Sprint(n)))
		if err != nil {
			t.Fatal(err)
		}
		elems, err := ParseArray(reply)
		if err != nil || len(elems) != n {
			t.Fatalf("MANY: %d elements, %v", len(elems), err)
		}
		if v, err := ParseInt(elems[n-1]); v != n-1 || err != nil {
			t.Fatalf("last element %q", elems[n-1])
		}
	})
	t.Run("split", func(t *testing.T) {
		if got := mustCall(t, p, fake.addr, 2, 0, "SPLIT", "one byte at a time"); got != bulk("one byte at a time") {
			t.Fatalf("SPLIT = %q", got)
		}
	})
	t.Run("pipelined mix", func(t *testing.T) {
		var chans []<-chan result
		var want []string
		for i := range 60 {
			switch i % 3 {
			case 0:
				chans = append(chans, goAsync(p, fake.addr, 2, 0, cmd("BIG", fmt.Sprint(30_000+i*1000))))
				want = append(want, bulk(strings.Repeat("x", 30_000+i*1000)))
			case 1:
				chans = append(chans, goAsync(p, fake.addr, 2, 0, cmd("ECHO", fmt.Sprint(i))))
				want = append(want, bulk(fmt.Sprint(i)))
			default:
				chans = append(chans, goAsync(p, fake.addr, 2, 0, cmd("SPLIT", fmt.Sprint(i))))
				want = append(want, bulk(fmt.Sprint(i)))
			}
		}
		for i, ch := range chans {
			if r := await(t, ch); r.err != nil || string(r.reply) != want[i] {
				t.Fatalf("call %d: %d bytes, %v", i, len(r.reply), r.err)
			}
		}
	})
	t.Run("above MaxReplyLen", func(t *testing.T) {
		small := newTestPool(t, func(c *Config) { c.MaxReplyLen = 1000 })
		for _, n := range []int{5000, 1 << 20} {
			_, err := small.Call(context.Background(), fake.addr, 2, 0, cmd("BIG", fmt.Sprint(n)))
			if !errors.Is(err, ErrConnClosed) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("reply of %d bytes over the limit: %v", n, err)
			}
		}
		if got := mustCall(t, small, fake.addr, 2, 0, "BIG", "900"); len(got) != 900+len("$900\r\n\r\n") {
			t.Fatalf("reply under the limit: %d bytes", len(got))
		}
	})
}

func TestMalformedReply(t *testing.T) {
	fake := startFake(t)
	p := newTestPool(t, func(c *Config) { c.ConnsPerPeer = 1 })
	if _, err := p.Call(context.Background(), fake.addr, 2, 0, cmd("GARBAGE")); !errors.Is(err, ErrConnClosed) || !errors.Is(err, ErrMalformed) {
		t.Fatalf("garbage reply: %v", err)
	}
	if got := mustCall(t, p, fake.addr, 2, 0, "PING"); got != "+PONG\r\n" {
		t.Fatalf("after garbage: %q", got)
	}
}

func TestOnPush(t *testing.T) {
	fake := startFake(t)
	pushes := make(chan string, 10)
	p := newTestPool(t, func(c *Config) {
		c.OnPush = func(addr string, msg []byte) {
			if addr != fake.addr {
				t.Errorf("push from %q", addr)
			}
			pushes <- string(msg)
		}
	})
	if got := mustCall(t, p, fake.addr, 3, 0, "PUSH", "user:1"); got != "+OK\r\n" {
		t.Fatalf("PUSH reply %q", got)
	}
	if got := mustCall(t, p, fake.addr, 3, 0, "PING"); got != "+PONG\r\n" {
		t.Fatalf("next reply %q", got)
	}
	want := ">2\r\n$10\r\ninvalidate\r\n$6\r\nuser:1\r\n"
	if got := <-pushes; got != want {
		t.Fatalf("push %q, want %q", got, want)
	}
	d, err := p.Dedicated(context.Background(), fake.addr, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got, err := d.Call(context.Background(), cmd("PUSH", "k")); err != nil || string(got) != "+OK\r\n" {
		t.Fatalf("dedicated PUSH: %q, %v", got, err)
	}
	if got := <-pushes; !strings.HasSuffix(got, "$1\r\nk\r\n") {
		t.Fatalf("dedicated push %q", got)
	}
}

func TestForget(t *testing.T) {
	fake := startFake(t)
	other := startFake(t)
	p := newTestPool(t, nil)
	hung := goAsync(p, fake.addr, 2, 0, cmd("HANG"))
	hung3 := goAsync(p, fake.addr, 3, 0, cmd("HANG"))
	mustCall(t, p, other.addr, 2, 0, "PING")
	waitFor(t, "the calls to reach the server", func() bool { return fake.cmdCount.Load() == 3 })
	p.Forget(fake.addr)
	for _, ch := range []<-chan result{hung, hung3} {
		if r := await(t, ch); !errors.Is(r.err, ErrConnClosed) {
			t.Fatalf("call to a forgotten peer: %v", r.err)
		}
	}
	if st := p.Stats(); len(st) != 1 || st[0].Addr != other.addr {
		t.Fatalf("stats after Forget: %+v", st)
	}
	waitFor(t, "the connections to close", func() bool { return fake.openConns() == 0 })
	if got := mustCall(t, p, fake.addr, 2, 0, "PING"); got != "+PONG\r\n" {
		t.Fatalf("after Forget: %q", got)
	}
	p.Forget("127.0.0.1:1") // unknown: nothing to do
}

func TestStats(t *testing.T) {
	a, b := startFake(t), startFake(t)
	p := newTestPool(t, func(c *Config) { c.ConnsPerPeer = 2 })
	for i := range 10 {
		mustCall(t, p, a.addr, 2, uint64(i), "PING")
	}
	mustCall(t, p, a.addr, 3, 0, "PING")
	hung := goAsync(p, b.addr, 2, 0, cmd("HANG"))
	waitFor(t, "the call to reach the server", func() bool { return b.cmdCount.Load() == 1 })
	st := p.Stats()
	if len(st) != 2 {
		t.Fatalf("stats %+v", st)
	}
	sa, sb := st[0], st[1]
	if sa.Addr != a.addr {
		sa, sb = sb, sa
	}
	if sa.Calls != 11 || sa.Conns != 3 || sa.InFlight != 0 || sa.Errors != 0 || sa.Writes < 3 {
		t.Fatalf("stats of %s: %+v", a.addr, sa)
	}
	if sb.Calls != 1 || sb.Conns != 1 || sb.InFlight != 1 {
		t.Fatalf("stats of %s: %+v", b.addr, sb)
	}
	p.Close()
	if r := await(t, hung); !errors.Is(r.err, ErrClosed) {
		t.Fatalf("hung call after Close: %v", r.err)
	}
}

// TestCloseFailsPending: Close fails every pending call, pooled or
// dedicated, with ErrClosed, waits for its goroutines and leaks none.
func TestCloseFailsPending(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	fake := startFake(t)
	defer fake.stop()
	cfg := DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	p, err := NewPool(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var pending []<-chan result
	for i := range 100 {
		pending = append(pending, goAsync(p, fake.addr, 2+i%2, uint64(i), cmd("HANG")))
	}
	d, err := p.Dedicated(context.Background(), fake.addr, 2)
	if err != nil {
		t.Fatal(err)
	}
	blocked := make(chan error, 1)
	go func() {
		_, err := d.Call(context.Background(), cmd("HANG"))
		blocked <- err
	}()
	waitFor(t, "the calls to reach the server", func() bool { return fake.cmdCount.Load() >= 101 })
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ch := range pending {
		if r := await(t, ch); !errors.Is(r.err, ErrClosed) {
			t.Fatalf("pending call after Close: %v", r.err)
		}
	}
	if err := <-blocked; !errors.Is(err, ErrClosed) {
		t.Fatalf("dedicated call after Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	var got error
	p.Go(fake.addr, 2, 0, cmd("PING"), func(_ []byte, err error) { got = err })
	if !errors.Is(got, ErrClosed) {
		t.Fatalf("Go after Close: %v", got)
	}
	if _, err := p.Dedicated(context.Background(), fake.addr, 2); !errors.Is(err, ErrClosed) {
		t.Fatalf("Dedicated after Close: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}
