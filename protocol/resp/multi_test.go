package resp

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cached/cached/node"
)

func TestMultiExec(t *testing.T) {
	ts := startServer(t, nil)
	tests := []struct {
		name  string
		steps [][]string // command, then the expected raw reply
	}{
		{"queued and executed", [][]string{
			{"MULTI", "+OK\r\n"},
			{"SET", "k", "1", "+QUEUED\r\n"},
			{"INCR", "k", "+QUEUED\r\n"},
			{"GET", "k", "+QUEUED\r\n"},
			{"EXEC", "*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n"},
		}},
		{"runtime error does not stop the others", [][]string{
			{"SET", "s", "x", "+OK\r\n"},
			{"MULTI", "+OK\r\n"},
			{"INCR", "s", "+QUEUED\r\n"},
			{"SET", "s", "y", "+QUEUED\r\n"},
			{"EXEC", "*2\r\n-ERR value is not an integer or out of range\r\n+OK\r\n"},
			{"GET", "s", "$1\r\ny\r\n"},
		}},
		{"unknown command aborts", [][]string{
			{"MULTI", "+OK\r\n"},
			{"SET", "a", "1", "+QUEUED\r\n"},
			{"NOSUCH", "-ERR unknown command 'NOSUCH', with args beginning with: \r\n"},
			{"EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n"},
			{"EXISTS", "a", ":0\r\n"},
		}},
		{"wrong arity aborts", [][]string{
			{"MULTI", "+OK\r\n"},
			{"GET", "-ERR wrong number of arguments for 'get' command\r\n"},
			{"EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n"},
		}},
		{"discard", [][]string{
			{"MULTI", "+OK\r\n"},
			{"SET", "d", "1", "+QUEUED\r\n"},
			{"DISCARD", "+OK\r\n"},
			{"EXISTS", "d", ":0\r\n"},
		}},
		{"errors outside MULTI", [][]string{
			{"EXEC", "-ERR EXEC without MULTI\r\n"},
			{"DISCARD", "-ERR DISCARD without MULTI\r\n"},
		}},
		{"nested MULTI and WATCH inside MULTI", [][]string{
			{"MULTI", "+OK\r\n"},
			{"MULTI", "-ERR MULTI calls can not be nested\r\n"},
			{"WATCH", "k", "-ERR WATCH inside MULTI is not allowed\r\n"},
			{"PING", "+QUEUED\r\n"},
			{"EXEC", "*1\r\n+PONG\r\n"},
		}},
		{"empty transaction", [][]string{
			{"MULTI", "+OK\r\n"},
			{"EXEC", "*0\r\n"},
		}},
		{"reset leaves MULTI", [][]string{
			{"MULTI", "+OK\r\n"},
			{"RESET", "+RESET\r\n"},
			{"EXEC", "-ERR EXEC without MULTI\r\n"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.raw(t)
			for _, step := range tt.steps {
				r.expect(step[len(step)-1], step[:len(step)-1]...)
			}
		})
	}
}

func TestWatch(t *testing.T) {
	ts := startServer(t, nil)
	other := ts.raw(t)
	tests := []struct {
		name    string
		between func() // runs after WATCH k, before EXEC
		aborts  bool
	}{
		{"untouched", func() {}, false},
		{"other key of another slot", func() { other.expect("+OK\r\n", "SET", "unrelated", "1") }, false},
		{"written", func() { other.expect("+OK\r\n", "SET", "k", "2") }, true},
		{"deleted", func() { other.expect(":1\r\n", "DEL", "k") }, true},
		{"expire set", func() { other.expect(":1\r\n", "EXPIRE", "k", "100") }, true},
		{"expired meanwhile", func() {
			other.expect(":1\r\n", "PEXPIRE", "k", "10")
			// Re-WATCH happens in the test body; here only time passes.
		}, true},
		{"flushed", func() { other.expect("+OK\r\n", "FLUSHALL") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.raw(t)
			r.expect("+OK\r\n", "SET", "k", "1")
			if tt.name == "expired meanwhile" {
				tt.between()
				r.expect("+OK\r\n", "WATCH", "k")
				ts.clock.Advance(20 * time.Millisecond)
			} else {
				r.expect("+OK\r\n", "WATCH", "k")
				tt.between()
			}
			r.expect("+OK\r\n", "MULTI")
			r.expect("+QUEUED\r\n", "SET", "k", "tx")
			want := "*1\r\n+OK\r\n"
			if tt.aborts {
				want = "*-1\r\n"
			}
			r.expect(want, "EXEC")
			// EXEC forgets the watched keys either way.
			other.expect("+OK\r\n", "SET", "k", "again")
			r.expect("+OK\r\n", "MULTI")
			r.expect("*0\r\n", "EXEC")
		})
	}
	t.Run("unwatch", func(t *testing.T) {
		r := ts.raw(t)
		r.expect("+OK\r\n", "WATCH", "k")
		other.expect("+OK\r\n", "SET", "k", "3")
		r.expect("+OK\r\n", "UNWATCH")
		r.expect("+OK\r\n", "MULTI")
		r.expect("*0\r\n", "EXEC")
	})
	t.Run("RESP3 abort is null", func(t *testing.T) {
		r := ts.raw(t)
		r.do("HELLO", "3")
		r.reply()
		r.expect("+OK\r\n", "WATCH", "k")
		other.expect("+OK\r\n", "SET", "k", "4")
		r.expect("+OK\r\n", "MULTI")
		r.expect("_\r\n", "EXEC")
	})
}

// TestWatchOptimisticIncrement is the classic check-and-set loop from many
// clients on several event loops: with WATCH, no increment is lost.
func TestWatchOptimisticIncrement(t *testing.T) {
	ts := startServer(t, func(_ *node.Config, c *Config) { c.IOThreads = 2 })
	const clients, each = 8, 50
	ctx := context.Background()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := redis.NewClient(&redis.Options{Addr: ts.addr, PoolSize: 1})
			defer c.Close()
			for done := 0; done < each; {
				err := c.Watch(ctx, func(tx *redis.Tx) error {
					n, err := tx.Get(ctx, "counter").Int()
					if err != nil && !errors.Is(err, redis.Nil) {
						return err
					}
					_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Set(ctx, "counter", strconv.Itoa(n+1), 0)
						return nil
					})
					return err
				}, "counter")
				switch {
				case err == nil:
					done++
				case errors.Is(err, redis.TxFailedErr):
				default:
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	c := ts.client(t, 2)
	if n, err := c.Get(ctx, "counter").Int(); err != nil || n != clients*each {
		t.Fatalf("counter = %d, %v; want %d", n, err, clients*each)
	}
}

// TestExecIsAtomic checks that no other client's command runs between the
// commands of a transaction: readers never see the two keys differ.
func TestExecIsAtomic(t *testing.T) {
	ts := startServer(t, func(_ *node.Config, c *Config) { c.IOThreads = 2 })
	ctx := context.Background()
	writer := ts.client(t, 2)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := writer.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "{x}a", i, 0)
				p.Set(ctx, "{x}b", i, 0)
				return nil
			}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	reader := ts.client(t, 2)
	for range 300 {
		vals, err := reader.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Get(ctx, "{x}a")
			p.Get(ctx, "{x}b")
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			t.Fatal(err)
		}
		a, _ := vals[0].(*redis.StringCmd).Result()
		b, _ := vals[1].(*redis.StringCmd).Result()
		if a != b {
			t.Fatalf("transaction saw a=%q b=%q", a, b)
		}
	}
	close(stop)
	wg.Wait()
}
