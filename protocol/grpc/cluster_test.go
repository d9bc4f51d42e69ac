package grpc_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	cachepb "github.com/cached/cached/cache/v1"
	cachegrpc "github.com/cached/cached/protocol/grpc"
	"github.com/cached/cached/protocol/grpc/grpctest"
	"github.com/cached/cached/ring"
)

// TestClusterForwarding: every node answers every key, whoever owns it.
func TestClusterForwarding(t *testing.T) {
	tc := grpctest.StartCluster(t, 3, nil)
	ctx := ctxT(t)
	const n = 60
	owners := map[string]int{}
	v := tc.Nodes[0].Node.View()
	for i := range n {
		key := []byte(fmt.Sprintf("key:%d", i))
		owners[v.Primary(ring.Slot(key)).Name]++
		writer := tc.Nodes[i%3].Client
		if r, err := writer.Set(ctx, &cachepb.SetRequest{Key: key, Value: key}); err != nil || !r.Set {
			t.Fatalf("Set %s via node%d: %v %v", key, i%3+1, r, err)
		}
	}
	if len(owners) != 3 {
		t.Fatalf("keys landed on %d owners, want 3: %v", len(owners), owners)
	}
	for i := range n {
		key := []byte(fmt.Sprintf("key:%d", i))
		for _, tn := range tc.Nodes {
			r, err := tn.Client.Get(ctx, &cachepb.GetRequest{Key: key})
			if err != nil || !r.Found || string(r.Value) != string(key) {
				t.Fatalf("Get %s via %s = %v, %v", key, tn.Name, r, err)
			}
		}
		// The key is stored on its primary.
		p := v.Primary(ring.Slot(key)).Name
		for _, tn := range tc.Nodes {
			if tn.Name == p {
				if _, ok, _ := tn.Node.Get(key); !ok {
					t.Fatalf("%s missing from its primary %s", key, p)
				}
			}
		}
	}
	// Conditions and expiry are forwarded too.
	key := []byte("key:0")
	other := tc.Nodes[0]
	if v.IsPrimary(ring.Slot(key)) {
		other = tc.Nodes[1]
		if other.Node.View().IsPrimary(ring.Slot(key)) {
			other = tc.Nodes[2]
		}
	}
	if r, err := other.Client.Set(ctx, &cachepb.SetRequest{Key: key, Value: []byte("x"), Condition: cachepb.Condition_CONDITION_NOT_EXISTS}); err != nil || r.Set {
		t.Fatalf("forwarded NX on an existing key = %v, %v", r, err)
	}
	if r, err := other.Client.Expire(ctx, &cachepb.ExpireRequest{Key: key, TtlMs: 60_000}); err != nil || !r.Updated {
		t.Fatalf("forwarded Expire = %v, %v", r, err)
	}
	if r, err := other.Client.Expire(ctx, &cachepb.ExpireRequest{Key: key}); err != nil || !r.Updated {
		t.Fatalf("forwarded persist = %v, %v", r, err)
	}
	if r, err := other.Client.Delete(ctx, &cachepb.DeleteRequest{Keys: bkeys([]string{"key:0", "key:1", "key:2", "nope"})}); err != nil || r.Deleted != 3 {
		t.Fatalf("Delete across owners = %v, %v", r, err)
	}
	var forwarded, gets int64
	for _, tn := range tc.Nodes {
		st := tn.GRPC.Stats()
		forwarded += st.Forwarded
		gets += st.Calls[cachegrpc.CallKey{Method: "/cache.v1.Cache/Get", Code: codes.OK}]
	}
	if forwarded == 0 || gets != 3*n {
		t.Fatalf("stats: %d forwarded, %d Gets; want some forwarded and %d Gets", forwarded, gets, 3*n)
	}
}

// TestClusterHealth: cluster members with a view are serving.
func TestClusterHealth(t *testing.T) {
	tc := grpctest.StartCluster(t, 2, nil)
	for _, tn := range tc.Nodes {
		r, err := healthpb.NewHealthClient(tn.Conn).Check(ctxT(t), &healthpb.HealthCheckRequest{Service: cachegrpc.HealthService})
		if err != nil || r.Status != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("%s health = %v, %v", tn.Name, r, err)
		}
	}
}

// TestForwardDeadline: a call forwarded to an owner that is gone ends by
// its deadline (the forward retries, but not past the caller's deadline).
func TestForwardDeadline(t *testing.T) {
	tc := grpctest.StartCluster(t, 2, nil)
	from, gone := tc.Nodes[0], tc.Nodes[1]
	var key []byte
	for i := 0; key == nil; i++ {
		k := []byte(fmt.Sprintf("dl:%d", i))
		if from.Node.View().Primary(ring.Slot(k)).Name == gone.Name {
			key = k
		}
	}
	gone.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := from.Client.Get(ctx, &cachepb.GetRequest{Key: key})
	took := time.Since(start)
	if code := status.Code(err); code != codes.DeadlineExceeded && code != codes.Unavailable && err != nil {
		t.Fatalf("code %v (%v), want DeadlineExceeded or Unavailable", code, err)
	}
	if took > 2*time.Second {
		t.Fatalf("the call took %v past its 300ms deadline", took)
	}
}

// TestClusterBatch: batch calls are split by owner and answered in order.
func TestClusterBatch(t *testing.T) {
	tc := grpctest.StartCluster(t, 3, nil)
	ctx := ctxT(t)
	var entries []*cachepb.Entry
	var keys [][]byte
	for i := range 50 {
		k := []byte(fmt.Sprintf("batch:%d", i))
		entries = append(entries, &cachepb.Entry{Key: k, Value: []byte(fmt.Sprint(i)), TtlMs: int64(60_000 * (i % 2))})
		keys = append(keys, k)
		if i%7 == 0 {
			keys = append(keys, []byte(fmt.Sprintf("absent:%d", i)))
		}
	}
	if _, err := tc.Nodes[1].Client.BatchSet(ctx, &cachepb.BatchSetRequest{Entries: entries}); err != nil {
		t.Fatal(err)
	}
	for _, tn := range tc.Nodes {
		r, err := tn.Client.BatchGet(ctx, &cachepb.BatchGetRequest{Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Results) != len(keys) {
			t.Fatalf("%d results for %d keys", len(r.Results), len(keys))
		}
		for i, k := range keys {
			want, found := strings.CutPrefix(string(k), "batch:")
			res := r.Results[i]
			if found != res.Found || (res.Found && string(res.Value) != want) {
				t.Fatalf("via %s: %s = %v %q", tn.Name, k, res.Found, res.Value)
			}
		}
	}
}

// TestClusterInvalidatePrefix: a prefix invalidation removes the matching
// keys of every node, replica copies included, and nothing else.
func TestClusterInvalidatePrefix(t *testing.T) {
	tc := grpctest.StartCluster(t, 3, nil)
	ctx := ctxT(t)
	var entries []*cachepb.Entry
	for i := range 40 {
		entries = append(entries,
			&cachepb.Entry{Key: []byte(fmt.Sprintf("session:%d", i)), Value: []byte("s")},
			&cachepb.Entry{Key: []byte(fmt.Sprintf("keep:%d", i)), Value: []byte("k")})
	}
	if _, err := tc.Nodes[0].Client.BatchSet(ctx, &cachepb.BatchSetRequest{Entries: entries}); err != nil {
		t.Fatal(err)
	}
	// Wait for the replicas, so that every node holds some of the keys.
	grpctest.CheckFor(t, 10*time.Second, func() error {
		for _, tn := range tc.Nodes {
			if st := tn.Node.ClusterStats(); st.ReplicationLag > 0 {
				return fmt.Errorf("%s replication lag %d", tn.Name, st.ReplicationLag)
			}
		}
		return nil
	})
	r, err := tc.Nodes[2].Client.Invalidate(ctx, &cachepb.InvalidateRequest{Prefix: []byte("session:")})
	if err != nil {
		t.Fatal(err)
	}
	if r.Deleted != 40 {
		t.Fatalf("deleted %d, want 40", r.Deleted)
	}
	grpctest.CheckFor(t, 10*time.Second, func() error {
		for _, tn := range tc.Nodes {
			if keys := tn.Node.Keys("session:*"); len(keys) > 0 {
				return fmt.Errorf("%s still holds %d session keys", tn.Name, len(keys))
			}
			if keys := tn.Node.Keys("keep:*"); len(keys) == 0 {
				return fmt.Errorf("%s lost the keep keys", tn.Name)
			}
		}
		return nil
	})
}
