package peer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeServer is a small scripted RESP server on 127.0.0.1: it reads arrays
// of bulk strings, records them per connection in arrival order, and
// answers by command name:
//
//	PING              +PONG
//	ECHO x            x as a bulk string
//	HELLO 3           a RESP3 map (the connection then counts as RESP3)
//	AUTH pw           +OK if pw is the fake's password, else -WRONGPASS
//	SLEEP ms          +OK after ms milliseconds (delays the replies behind it)
//	HANG              no reply, now or for any later command on the connection
//	DIE               closes the connection
//	BIG n             a bulk string of n bytes
//	MANY n            an array of the integers 0..n-1
//	SPLIT x           x as a bulk string, written one byte per write
//	PUSH x            a push ">2 invalidate x", then +OK
//	GARBAGE           bytes that are not RESP
//	anything else     -ERR unknown command
//
// Replies are flushed when no more input is buffered, as a real server
// pipelines.
type fakeServer struct {
	t        *testing.T
	addr     string
	reads    atomic.Int64 // read system calls that returned data
	cmdCount atomic.Int64

	mu       sync.Mutex // guards ln, conns, all, password
	password string
	ln       net.Listener
	conns    map[*fakeConn]struct{}
	all      []*fakeConn // every connection ever accepted, in order
	wg       sync.WaitGroup
}

type fakeConn struct {
	nc    net.Conn
	mu    sync.Mutex // guards cmds and proto
	cmds  []string   // commands as space-joined arguments, in arrival order
	proto int        // 3 after HELLO 3
}

func (c *fakeConn) protocol() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proto
}

func (c *fakeConn) log() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.cmds...)
}

// countingReader counts reads that returned data.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n.Add(1)
	}
	return n, err
}

func startFake(t *testing.T) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{t: t, addr: ln.Addr().String(), conns: make(map[*fakeConn]struct{})}
	s.serve(ln)
	t.Cleanup(s.stop)
	return s
}

func (s *fakeServer) serve(ln net.Listener) {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			c := &fakeConn{nc: nc, proto: 2}
			s.mu.Lock()
			s.conns[c] = struct{}{}
			s.all = append(s.all, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.handle(c)
				nc.Close()
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
		}
	}()
}

// stop closes the listener and every connection, and waits for them.
func (s *fakeServer) stop() {
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// restart listens again on the same address after stop.
func (s *fakeServer) restart() {
	s.t.Helper()
	var ln net.Listener
	waitFor(s.t, "the port to be free again", func() bool {
		var err error
		ln, err = net.Listen("tcp", s.addr)
		return err == nil
	})
	s.serve(ln)
}

func (s *fakeServer) setPassword(pw string) {
	s.mu.Lock()
	s.password = pw
	s.mu.Unlock()
}

// connections returns every connection accepted so far.
func (s *fakeServer) connections() []*fakeConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*fakeConn(nil), s.all...)
}

func (s *fakeServer) openConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *fakeServer) handle(c *fakeConn) {
	r := bufio.NewReader(countingReader{c.nc, &s.reads})
	w := bufio.NewWriter(c.nc)
	hung := false
	for {
		args, err := readCommand(r)
		if err != nil {
			return
		}
		s.cmdCount.Add(1)
		c.mu.Lock()
		c.cmds = append(c.cmds, strings.Join(args, " "))
		c.mu.Unlock()
		if hung {
			continue
		}
		switch strings.ToUpper(args[0]) {
		case "PING":
			w.WriteString("+PONG\r\n")
		case "ECHO":
			writeBulk(w, args[1])
		case "HELLO":
			if len(args) > 1 && args[1] == "3" {
				c.mu.Lock()
				c.proto = 3
				c.mu.Unlock()
				w.WriteString("%2\r\n$6\r\nserver\r\n$4\r\nfake\r\n$5\r\nproto\r\n:3\r\n")
			} else {
				w.WriteString("*4\r\n$6\r\nserver\r\n$4\r\nfake\r\n$5\r\nproto\r\n:2\r\n")
			}
		case "AUTH":
			s.mu.Lock()
			ok := args[len(args)-1] == s.password
			s.mu.Unlock()
			if ok {
				w.WriteString("+OK\r\n")
			} else {
				w.WriteString("-WRONGPASS invalid password\r\n")
			}
		case "SLEEP":
			ms, _ := strconv.Atoi(args[1])
			w.Flush()
			time.Sleep(time.Duration(ms) * time.Millisecond)
			w.WriteString("+OK\r\n")
		case "HANG":
			hung = true
			w.Flush()
			continue
		case "DIE":
			w.Flush()
			return
		case "BIG":
			n, _ := strconv.Atoi(args[1])
			writeBulk(w, strings.Repeat("x", n))
		case "MANY":
			n, _ := strconv.Atoi(args[1])
			fmt.Fprintf(w, "*%d\r\n", n)
			for i := range n {
				fmt.Fprintf(w, ":%d\r\n", i)
			}
		case "SPLIT":
			w.Flush()
			reply := fmt.Sprintf("$%d\r\n%s\r\n", len(args[1]), args[1])
			for i := range len(reply) {
				if _, err := c.nc.Write([]byte{reply[i]}); err != nil {
					return
				}
			}
			continue
		case "PUSH":
			fmt.Fprintf(w, ">2\r\n$10\r\ninvalidate\r\n$%d\r\n%s\r\n+OK\r\n", len(args[1]), args[1])
		case "GARBAGE":
			w.WriteString("?what\r\n")
		default:
			w.WriteString("-ERR unknown command\r\n")
		}
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return
			}
		}
	}
}

func writeBulk(w *bufio.Writer, s string) {
	fmt.Fprintf(w, "$%d\r\n%s\r\n", len(s), s)
}

// readCommand reads one array of bulk strings.
func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 4 || line[0] != '*' {
		return nil, errors.New("fake: not an array")
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil || n < 1 {
		return nil, errors.New("fake: bad array length")
	}
	args := make([]string, n)
	for i := range args {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if line[0] != '$' {
			return nil, errors.New("fake: not a bulk string")
		}
		l, err := strconv.Atoi(strings.TrimSpace(line[1:]))
		if err != nil || l < 0 {
			return nil, errors.New("fake: bad bulk length")
		}
		buf := make([]byte, l+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		args[i] = string(buf[:l])
	}
	return args, nil
}

// waitFor polls cond until it holds or a few seconds pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// newTestPool returns a pool with a quiet logger, closed at cleanup.
func newTestPool(t testing.TB, edit func(*Config)) *Pool {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	if edit != nil {
		edit(&cfg)
	}
	p, err := NewPool(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// cmd builds a command from strings.
func cmd(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

// bulk is the RESP bulk string holding s.
func bulk(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }
