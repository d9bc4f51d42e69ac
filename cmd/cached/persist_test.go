package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestMain lets a test run this package's binary as a child process: with
// CACHED_TEST_MAIN set, the test binary is cached itself.
func TestMain(m *testing.M) {
	if os.Getenv("CACHED_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// child is cached running as a separate process.
type child struct {
	cmd  *exec.Cmd
	port string
}

// startChild runs cached with args in a child process and waits until it
// answers PING.
func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	port := strconv.Itoa(freePort(t))
	cmd := exec.Command(os.Args[0], append([]string{"--port", port}, args...)...)
	cmd.Env = append(os.Environ(), "CACHED_TEST_MAIN=1")
	cmd.Stderr = io.Discard
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, port: port}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	rc := c.client(t)
	deadline := time.Now().Add(20 * time.Second)
	for rc.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("cached did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return c
}

func (c *child) client(t *testing.T) *redis.Client {
	rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + c.port, MaxRetries: -1, DisableIdentity: true})
	t.Cleanup(func() { rc.Close() })
	return rc
}

// stop ends the child with sig and waits for it.
func (c *child) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	c.cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("cached did not exit")
	}
}

// TestPersistenceRoundTrip writes every data type with and without TTLs,
// restarts the process gracefully and finds them all.
func TestPersistenceRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a := startChild(t, "--dir", dir)
	c := a.client(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Set(ctx, "s", "string\x00binary", 0).Err())
	must(c.Set(ctx, "ttl", "v", time.Hour).Err())
	must(c.Set(ctx, "gone", "v", 50*time.Millisecond).Err())
	must(c.HSet(ctx, "h", "f1", "v1", "f2", "v2").Err())
	must(c.RPush(ctx, "l", "a", "b", "c").Err())
	must(c.SAdd(ctx, "set", "x", "y").Err())
	must(c.ZAdd(ctx, "z", redis.Z{Score: 1.5, Member: "one"}, redis.Z{Score: -2, Member: "two"}).Err())
	must(c.Set(ctx, "deleted", "v", 0).Err())
	must(c.Del(ctx, "deleted").Err())
	must(c.IncrBy(ctx, "n", 41).Err())
	must(c.Incr(ctx, "n").Err())
	must(c.Do(ctx, "BGSAVE").Err()) // part in the snapshot, part in the log
	must(c.Set(ctx, "after", "save", 0).Err())
	time.Sleep(100 * time.Millisecond) // let "gone" expire while running or down
	a.stop(t, syscall.SIGTERM)

	b := startChild(t, "--dir", dir)
	c = b.client(t)
	checks := []struct {
		name string
		got  func() (any, error)
		want any
	}{
		{"s", func() (any, error) { return c.Get(ctx, "s").Result() }, "string\x00binary"},
		{"h", func() (any, error) { return c.HGet(ctx, "h", "f2").Result() }, "v2"},
		{"l", func() (any, error) { v, err := c.LRange(ctx, "l", 0, -1).Result(); return strings.Join(v, ","), err }, "a,b,c"},
		{"set", func() (any, error) { return c.SCard(ctx, "set").Result() }, int64(2)},
		{"z", func() (any, error) { return c.ZScore(ctx, "z", "one").Result() }, 1.5},
		{"n", func() (any, error) { return c.Get(ctx, "n").Result() }, "42"},
		{"after", func() (any, error) { return c.Get(ctx, "after").Result() }, "save"},
		{"deleted", func() (any, error) { return c.Exists(ctx, "deleted").Result() }, int64(0)},
		{"gone", func() (any, error) { return c.Exists(ctx, "gone").Result() }, int64(0)},
		{"ttl kept", func() (any, error) {
			d, err := c.TTL(ctx, "ttl").Result()
			return d > 59*time.Minute && d <= time.Hour, err
		}, true},
	}
	for _, ck := range checks {
		if got, err := ck.got(); err != nil || got != ck.want {
			t.Errorf("%s after restart: %v, %v; want %v", ck.name, got, err, ck.want)
		}
	}
	if info, _ := c.Info(ctx, "persistence").Result(); !strings.Contains(info, "aof_enabled:1") {
		t.Errorf("INFO persistence: %s", info)
	}
	if got, _ := c.ConfigGet(ctx, "dir").Result(); got["dir"] != dir {
		t.Errorf("CONFIG GET dir = %v, want %s", got, dir)
	}
	if got, _ := c.ConfigGet(ctx, "appendonly").Result(); got["appendonly"] != "yes" {
		t.Errorf("CONFIG GET appendonly = %v", got)
	}
}

// TestKill9 kills the process with SIGKILL in the middle of a write load
// with appendfsync always: every acknowledged write is there after the
// restart.
func TestKill9(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a := startChild(t, "--dir", dir, "--appendfsync", "always")
	var mu sync.Mutex
	acked := map[string]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := a.client(t)
			for i := 0; i < 100000; i++ {
				k, v := fmt.Sprintf("w%d:%d", w, i%300), strconv.Itoa(i)
				if err := c.Set(ctx, k, v, 0).Err(); err != nil {
					return // the process died: this write was not acknowledged
				}
				mu.Lock()
				acked[k] = v
				mu.Unlock()
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 1000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.stop(t, syscall.SIGKILL)
	wg.Wait()

	b := startChild(t, "--dir", dir)
	c := b.client(t)
	lost := 0
	for k, v := range acked {
		// A later, unacknowledged write of the same key may have landed.
		got, err := c.Get(ctx, k).Result()
		if err != nil {
			lost++
			continue
		}
		gi, _ := strconv.Atoi(got)
		vi, _ := strconv.Atoi(v)
		if gi < vi {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged keys lost or older after kill -9", lost, len(acked))
	}
	t.Logf("%d acknowledged keys survived kill -9", len(acked))
}
