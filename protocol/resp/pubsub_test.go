package resp

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cached/cached/node"
)

func TestPubSubRaw(t *testing.T) {
	transports(t, func(t *testing.T, ts *testServer) {
		sub := ts.raw(t)
		pub := ts.raw(t)
		sub.expect("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n", "SUBSCRIBE", "ch")
		sub.expect("*3\r\n$10\r\npsubscribe\r\n$3\r\nn.*\r\n:2\r\n", "PSUBSCRIBE", "n.*")
		// RESP2 subscribed mode allows only the subscription commands.
		sub.expect("-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n", "GET", "k")
		sub.expect("*2\r\n$4\r\npong\r\n$0\r\n\r\n", "PING")
		pub.expect(":1\r\n", "PUBLISH", "ch", "hello")
		if got := sub.reply(); got != "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n" {
			t.Fatalf("message = %q", got)
		}
		pub.expect(":1\r\n", "PUBLISH", "n.1", "x")
		if got := sub.reply(); got != "*4\r\n$8\r\npmessage\r\n$3\r\nn.*\r\n$3\r\nn.1\r\n$1\r\nx\r\n" {
			t.Fatalf("pmessage = %q", got)
		}
		pub.expect(":0\r\n", "PUBLISH", "other", "x")
		pub.expect("*1\r\n$2\r\nch\r\n", "PUBSUB", "CHANNELS")
		pub.expect("*4\r\n$2\r\nch\r\n:1\r\n$4\r\nnone\r\n:0\r\n", "PUBSUB", "NUMSUB", "ch", "none")
		pub.expect(":1\r\n", "PUBSUB", "NUMPAT")
		sub.expect("*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:1\r\n", "UNSUBSCRIBE")
		sub.expect("*3\r\n$12\r\npunsubscribe\r\n$3\r\nn.*\r\n:0\r\n", "PUNSUBSCRIBE")
		sub.expect("*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n", "UNSUBSCRIBE")
		sub.expect("$-1\r\n", "GET", "k") // back to normal mode
		pub.expect(":0\r\n", "PUBLISH", "ch", "gone")
	})
}

func TestPubSubRESP3(t *testing.T) {
	ts := startServer(t, nil)
	sub := ts.raw(t)
	sub.do("HELLO", "3")
	sub.reply()
	sub.expect(">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n", "SUBSCRIBE", "ch")
	sub.expect("_\r\n", "GET", "k") // RESP3 clients may run any command
	ts.raw(t).expect(":1\r\n", "PUBLISH", "ch", "v")
	if got := sub.reply(); got != ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nv\r\n" {
		t.Fatalf("push = %q", got)
	}
	sub.expect("+RESET\r\n", "RESET")
	ts.raw(t).expect(":0\r\n", "PUBLISH", "ch", "v")
}

func TestPubSubGoRedis(t *testing.T) {
	ts := startServer(t, func(_ *node.Config, c *Config) { c.IOThreads = 2 })
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprint("RESP", proto), func(t *testing.T) {
			c := ts.client(t, proto)
			ps := c.Subscribe(ctx, "events")
			defer ps.Close()
			if _, err := ps.Receive(ctx); err != nil {
				t.Fatal(err)
			}
			pub := ts.client(t, 2)
			const n = 200
			for i := range n {
				if err := pub.Publish(ctx, "events", fmt.Sprint(i)).Err(); err != nil {
					t.Fatal(err)
				}
			}
			ch := ps.Channel()
			for i := range n {
				select {
				case m := <-ch:
					if m.Payload != fmt.Sprint(i) {
						t.Fatalf("message %d = %q", i, m.Payload)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("message %d did not arrive", i)
				}
			}
		})
	}
}

// TestSlowSubscriberIsDisconnected: a subscriber that never reads is cut
// off at the output buffer limit, while a pattern subscriber and a channel
// subscriber that read keep receiving every message.
func TestSlowSubscriberIsDisconnected(t *testing.T) {
	transportsWith(t, func(c *Config) { c.PubsubOutputLimit = 1 << 20 }, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		slow := ts.raw(t)
		slow.expect("*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n", "SUBSCRIBE", "c")
		var readers []*redis.PubSub
		for _, sub := range []func() *redis.PubSub{
			func() *redis.PubSub { return ts.client(t, 2).Subscribe(ctx, "c") },
			func() *redis.PubSub { return ts.client(t, 3).PSubscribe(ctx, "[abc]") },
		} {
			ps := sub()
			defer ps.Close()
			if _, err := ps.Receive(ctx); err != nil {
				t.Fatal(err)
			}
			readers = append(readers, ps)
		}
		counts := make([]chan int, len(readers))
		for i, ps := range readers {
			counts[i] = make(chan int, 1)
			go func() {
				n := 0
				for range ps.Channel(redis.WithChannelSize(1 << 16)) {
					n++
				}
				counts[i] <- n
			}()
		}
		pub := ts.client(t, 2)
		payload := strings.Repeat("x", 64<<10)
		sent := 0
		for deadline := time.Now().Add(20 * time.Second); ; sent++ {
			n, err := pub.Publish(ctx, "c", payload).Result()
			if err != nil {
				t.Fatal(err)
			}
			if n == 2 {
				sent++
				break // the slow subscriber is gone
			}
			if time.Now().After(deadline) {
				t.Fatal("slow subscriber never disconnected")
			}
		}
		if n, err := pub.PubSubNumSub(ctx, "c").Result(); err != nil || n["c"] != 1 {
			t.Fatalf("NUMSUB = %v, %v", n, err)
		}
		// The readers got everything: wait until they did, then stop them.
		waitFor(t, "the readers to catch up", func() bool {
			n, err := pub.Publish(ctx, "c", "last").Result()
			sent++
			return err == nil && n == 2
		})
		time.Sleep(100 * time.Millisecond)
		for i, ps := range readers {
			ps.Close()
			if got := <-counts[i]; got != sent {
				t.Errorf("reader %d got %d of %d messages", i, got, sent)
			}
		}
	})
}
