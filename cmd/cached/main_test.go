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
		done <- run(ctx, []string{"--port", strconv.Itoa(port), "--maxmemory", "64mb"}, env(), io.Discard)
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
	err = run(context.Background(), []string{"--port", port}, env(), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("err = %v, want a listen error", err)
	}
}
