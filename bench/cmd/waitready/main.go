// Command waitready polls a RESP server that is starting up until it is
// ready: PING answers PONG (not a LOADING error) and DBSIZE equals -keys.
// It prints how long that took, measured from -since (the Unix time in
// nanoseconds at which the caller started the server), so persist.sh can
// time a restart from process start to a fully loaded data set.
//
// Output, one line: "connect_s=S pong_s=S ready_s=S dbsize=N", where
// connect_s is the first accepted TCP connection (redis-server accepts
// connections while it loads; cached only once loaded), pong_s the first
// PONG and ready_s the first PONG with DBSIZE == -keys. It exits non-zero
// when -timeout passes first, still printing the last DBSIZE seen.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server address")
	keys := flag.Int64("keys", 0, "DBSIZE that means loaded")
	since := flag.Int64("since", 0, "Unix nanoseconds the server was started at (0: now)")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long")
	poll := flag.Duration("poll", 2*time.Millisecond, "pause between attempts")
	flag.Parse()
	start := time.Now()
	if *since > 0 {
		start = time.Unix(0, *since)
	}
	if *keys < 0 || *poll <= 0 || *timeout <= 0 {
		log.Fatal("waitready: -keys must not be negative, -poll and -timeout must be positive")
	}

	w := waiter{addr: *addr, keys: *keys, start: start, poll: *poll, deadline: time.Now().Add(*timeout)}
	err := w.run()
	fmt.Printf("connect_s=%s pong_s=%s ready_s=%s dbsize=%d\n", secs(w.connect), secs(w.pong), secs(w.ready), w.dbsize)
	if err != nil {
		fmt.Fprintln(os.Stderr, "waitready:", err)
		os.Exit(1)
	}
}

// waiter records when each stage of the start-up was first seen; a zero
// duration means not yet.
type waiter struct {
	addr     string
	keys     int64
	start    time.Time
	poll     time.Duration
	deadline time.Time

	connect, pong, ready time.Duration
	dbsize               int64
}

// errReset means the connection broke and a new one is needed.
var errReset = errors.New("connection reset")

func (w *waiter) run() error {
	var conn net.Conn
	var rd *bufio.Reader
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for {
		if time.Now().After(w.deadline) {
			return fmt.Errorf("not ready after %s: dbsize %d, want %d", time.Since(w.start).Round(time.Millisecond), w.dbsize, w.keys)
		}
		if conn == nil {
			c, err := net.DialTimeout("tcp", w.addr, time.Second)
			if err != nil {
				time.Sleep(w.poll)
				continue
			}
			conn, rd = c, bufio.NewReader(c)
			if w.connect == 0 {
				w.connect = time.Since(w.start)
			}
		}
		done, err := w.probe(conn, rd)
		if done {
			return nil
		}
		if err != nil {
			conn.Close()
			conn = nil
		}
		time.Sleep(w.poll)
	}
}

// probe sends PING and DBSIZE in one round trip and reports whether the
// server is ready. A non-nil error means the connection is unusable.
func (w *waiter) probe(conn net.Conn, rd *bufio.Reader) (bool, error) {
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n*1\r\n$6\r\nDBSIZE\r\n")); err != nil {
		return false, err
	}
	ping, err := readLine(rd)
	if err != nil {
		return false, err
	}
	size, err := readLine(rd)
	if err != nil {
		return false, err
	}
	if ping != "+PONG" {
		return false, nil // -LOADING ...: try again
	}
	if w.pong == 0 {
		w.pong = time.Since(w.start)
	}
	if !strings.HasPrefix(size, ":") {
		return false, nil
	}
	n, err := strconv.ParseInt(size[1:], 10, 64)
	if err != nil {
		return false, fmt.Errorf("DBSIZE reply %q: %w", size, err)
	}
	w.dbsize = n
	if n == w.keys {
		w.ready = time.Since(w.start)
		return true, nil
	}
	return false, nil
}

// readLine reads one RESP simple reply line (status, error or integer).
func readLine(rd *bufio.Reader) (string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", errors.Join(errReset, err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// secs formats d in seconds with millisecond precision, "n/a" for zero.
func secs(d time.Duration) string {
	if d == 0 {
		return "n/a"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}
