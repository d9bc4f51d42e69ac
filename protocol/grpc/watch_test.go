package grpc_test

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"

	cachepb "github.com/cached/cached/cache/v1"
	"github.com/cached/cached/protocol/grpc/grpctest"
	"github.com/cached/cached/ring"
)

// watch opens a Watch and waits for its first (empty) event.
func watch(t *testing.T, ctx context.Context, c cachepb.CacheClient, req *cachepb.WatchRequest) cachepb.Cache_WatchClient {
	t.Helper()
	s, err := c.Watch(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := s.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Keys) != 0 || ev.All {
		t.Fatalf("first event %v, want an empty one", ev)
	}
	return s
}

// expectKeys reads events until it has seen exactly want (in any order
// and grouping).
func expectKeys(t *testing.T, s cachepb.Cache_WatchClient, want ...string) {
	t.Helper()
	var got []string
	for len(got) < len(want) {
		ev, err := s.Recv()
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		for _, k := range ev.Keys {
			got = append(got, string(k))
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("invalidated %q, want %q", got, want)
	}
}

func TestWatchSingle(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	c := tn.Client
	s := watch(t, ctx, c, &cachepb.WatchRequest{Keys: [][]byte{[]byte("exact")}, Prefixes: [][]byte{[]byte("p:")}})

	rc := redis.NewClient(&redis.Options{Addr: tn.Addr()})
	defer rc.Close()
	if _, err := c.Set(ctx, &cachepb.SetRequest{Key: []byte("exact"), Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	expectKeys(t, s, "exact")
	rc.Set(ctx, "exactly", "v", 0) // not watched: nothing
	rc.Set(ctx, "p:1", "v", 0)     // over RESP
	expectKeys(t, s, "p:1")
	if _, err := c.Delete(ctx, &cachepb.DeleteRequest{Keys: [][]byte{[]byte("p:1")}}); err != nil {
		t.Fatal(err)
	}
	expectKeys(t, s, "p:1")
	rc.FlushAll(ctx)
	ev, err := s.Recv()
	if err != nil || !ev.All {
		t.Fatalf("after FLUSHALL: %v, %v", ev, err)
	}

	bad, err := c.Watch(ctx, &cachepb.WatchRequest{})
	if err == nil {
		_, err = bad.Recv()
	}
	wantCode(t, err, codes.InvalidArgument)
}

// TestWatchCancel: a cancelled Watch ends on both sides and leaves no
// goroutine behind.
func TestWatchCancel(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	if _, err := tn.Client.Get(ctxT(t), &cachepb.GetRequest{Key: []byte("k")}); err != nil { // connect first
		t.Fatal(err)
	}
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for range 5 {
		ctx, cancel := context.WithCancel(context.Background())
		s := watch(t, ctx, tn.Client, &cachepb.WatchRequest{Prefixes: [][]byte{nil}})
		cancel()
		if _, err := s.Recv(); err == nil || err == io.EOF {
			t.Fatalf("Recv after cancel: %v", err)
		}
	}
	grpctest.CheckFor(t, 5*time.Second, func() error {
		if tn.Node.Watching() {
			return fmt.Errorf("the server still has a Watch")
		}
		return nil
	})
}

// TestClusterWatchAndTags: a Watch on one node hears of keys owned by the
// others, written over gRPC and RESP through a third; a tag invalidation
// over gRPC deletes the tagged keys of every node and reports them.
func TestClusterWatchAndTags(t *testing.T) {
	tc := grpctest.StartCluster(t, 3, nil)
	tc.WaitSettled(t)
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	v := tc.Nodes[0].Node.View()
	var keys []string // one per owner
	for owner := range 3 {
		for i := 0; ; i++ {
			k := "w:" + strconv.Itoa(i)
			if v.Primary(ring.Slot([]byte(k))).Name == tc.Nodes[owner].Name {
				keys = append(keys, k)
				break
			}
		}
	}
	s := watch(t, ctx, tc.Nodes[0].Client, &cachepb.WatchRequest{Prefixes: [][]byte{[]byte("w:")}})
	writer := tc.Nodes[2].Client
	var entries []*cachepb.Entry
	for _, k := range keys {
		entries = append(entries, &cachepb.Entry{Key: []byte(k), Value: []byte("v"), TtlMs: 60000, Tags: [][]byte{[]byte("group")}})
	}
	if _, err := writer.BatchSet(ctx, &cachepb.BatchSetRequest{Entries: entries}); err != nil {
		t.Fatal(err)
	}
	expectKeys(t, s, keys...)
	if _, err := writer.Set(ctx, &cachepb.SetRequest{Key: []byte("w:x"), Value: []byte("v"), Tags: [][]byte{[]byte("group")}}); err != nil {
		t.Fatal(err)
	}
	expectKeys(t, s, "w:x")
	rc := redis.NewClient(&redis.Options{Addr: tc.Nodes[1].Addr()})
	defer rc.Close()
	if err := rc.Do(ctx, "CACHED", "SET", "w:y", "v", "TAGS", "group").Err(); err != nil {
		t.Fatal(err)
	}
	expectKeys(t, s, "w:y")

	r, err := tc.Nodes[1].Client.Invalidate(ctx, &cachepb.InvalidateRequest{Tags: [][]byte{[]byte("group")}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Deleted != int64(len(keys)+2) {
		t.Fatalf("deleted %d, want %d", r.Deleted, len(keys)+2)
	}
	expectKeys(t, s, append(keys, "w:x", "w:y")...)
	grpctest.CheckFor(t, 10*time.Second, func() error {
		for _, tn := range tc.Nodes {
			if left := tn.Node.Keys("w:*"); len(left) > 0 {
				return fmt.Errorf("%s still holds %q", tn.Name, left)
			}
		}
		return nil
	})

	_, err = writer.Set(ctx, &cachepb.SetRequest{Key: []byte("k"), Value: []byte("v"), Tags: [][]byte{{}}})
	wantCode(t, err, codes.InvalidArgument)
	_, err = writer.Set(ctx, &cachepb.SetRequest{Key: []byte("cached:tag:x"), Value: []byte("v"), Tags: [][]byte{[]byte("t")}})
	wantCode(t, err, codes.InvalidArgument)
	_, err = writer.Invalidate(ctx, &cachepb.InvalidateRequest{Tags: [][]byte{{}}})
	wantCode(t, err, codes.InvalidArgument)
}
