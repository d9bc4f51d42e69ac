package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestRun starts the whole program, talks RESP to it and stops it by
// cancelling its context, as SIGTERM would.
func TestRun(t *testing.T) {
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--port", strconv.Itoa(port), "--maxmemory", "64mb", "--grpc-port", "0", "--admin-port", "0"}, env(), io.Discard)
	}()
	var conn net.Conn
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			conn = c
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	rd := bufio.NewReader(conn)
	for _, tc := range []struct{ cmd, want string }{
		{"PING\r\n", "+PONG\r\n"},
		{"SET greeting hello\r\n", "+OK\r\n"},
		{"CONFIG GET maxmemory\r\n", "*2\r\n"},
	} {
		if _, err := conn.Write([]byte(tc.cmd)); err != nil {
			t.Fatal(err)
		}
		line, err := rd.ReadString('\n')
		if err != nil || line != tc.want {
			t.Fatalf("%q: got %q, %v; want %q", tc.cmd, line, err, tc.want)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not stop")
	}
}

func TestRunBadConfig(t *testing.T) {
	err := run(context.Background(), []string{"--maxmemory", "x"}, env(), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "maxmemory") {
		t.Fatalf("err = %v, want a maxmemory error", err)
	}
}

func TestRunPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	err = run(context.Background(), []string{"--port", port, "--grpc-port", "0"}, env(), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("err = %v, want a listen error", err)
	}
}

// TestRunCluster starts two clustered nodes the way a StatefulSet would,
// writes through one and reads through the other, then stops them: the
// first hands its keys to the second before it exits, losing none.
func TestRunCluster(t *testing.T) {
	type proc struct {
		port, gossip string
		cancel       context.CancelFunc
		done         chan error
	}
	start := func(name string, extra ...string) *proc {
		p := &proc{port: strconv.Itoa(freePort(t)), gossip: strconv.Itoa(freePort(t)), done: make(chan error, 1)}
		args := append([]string{"--port", p.port, "--peer-port", strconv.Itoa(freePort(t)), "--gossip-port", p.gossip,
			"--node-name", name, "--cluster-enabled", "yes", "--replicas", "1", "--grpc-port", "0", "--admin-port", "0"}, extra...)
		var ctx context.Context
		ctx, p.cancel = context.WithCancel(context.Background())
		go func() { p.done <- run(ctx, args, env(), io.Discard) }()
		return p
	}
	stop := func(p *proc) {
		p.cancel()
		select {
		case err := <-p.done:
			if err != nil {
				t.Errorf("run returned %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("run did not stop")
		}
	}
	a := start("a")
	b := start("b", "--join", "127.0.0.1:"+a.gossip)
	defer stop(b)
	ca, cb := dialRESP(t, a.port), dialRESP(t, b.port)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(cb.do(t, "CLUSTER INFO"), "cluster_known_nodes:2") {
		if time.Now().After(deadline) {
			t.Fatal("the nodes did not find each other")
		}
		time.Sleep(50 * time.Millisecond)
	}
	const keys = 200
	for i := range keys {
		if got := ca.do(t, "SET k"+strconv.Itoa(i)+" v"+strconv.Itoa(i)); got != "+OK" {
			t.Fatalf("SET via a: %q", got)
		}
	}
	ca.conn.Close()
	stop(a)
	for i := range keys {
		if got := cb.do(t, "GET k"+strconv.Itoa(i)); got != "v"+strconv.Itoa(i) {
			t.Fatalf("GET k%d via b after a left: %q", i, got)
		}
	}
}

// respConn is a raw RESP connection for the whole-program tests.
type respConn struct {
	conn net.Conn
	rd   *bufio.Reader
}

func dialRESP(t *testing.T, port string) *respConn {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", port))
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return &respConn{conn: c, rd: bufio.NewReader(c)}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no server on port %s: %v", port, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// do sends an inline command and returns the reply's first line without
// its type byte, or a bulk string's payload.
func (r *respConn) do(t *testing.T, cmd string) string {
	t.Helper()
	r.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.conn.Write([]byte(cmd + "\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := r.rd.ReadString('\n')
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	line = strings.TrimSuffix(line, "\r\n")
	if !strings.HasPrefix(line, "$") || line == "$-1" {
		return line
	}
	n, _ := strconv.Atoi(line[1:])
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(r.rd, buf); err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}
