package grpc_test

import (
	"context"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	cachepb "github.com/cached/cached/cache/v1"
	"github.com/cached/cached/node"
	"github.com/cached/cached/node/store"
	cachegrpc "github.com/cached/cached/protocol/grpc"
	"github.com/cached/cached/protocol/grpc/grpctest"
)

// fakeClock is a settable clock for TTL tests.
type fakeClock struct{ ms atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("code %v (%v), want %v", got, err, want)
	}
}

func TestSingleNodeCalls(t *testing.T) {
	clock := &fakeClock{}
	clock.ms.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	tn := grpctest.StartSingle(t, func(c *node.Config) { c.Store.Now = clock.now })
	c := tn.Client
	type step func(t *testing.T)
	get := func(key string, found bool, val string) step {
		return func(t *testing.T) {
			r, err := c.Get(ctxT(t), &cachepb.GetRequest{Key: []byte(key)})
			if err != nil {
				t.Fatal(err)
			}
			if r.Found != found || string(r.Value) != val {
				t.Fatalf("Get %q = %v %q, want %v %q", key, r.Found, r.Value, found, val)
			}
		}
	}
	set := func(key, val string, ttl time.Duration, cond cachepb.Condition, want bool) step {
		return func(t *testing.T) {
			r, err := c.Set(ctxT(t), &cachepb.SetRequest{Key: []byte(key), Value: []byte(val), TtlMs: ttl.Milliseconds(), Condition: cond})
			if err != nil {
				t.Fatal(err)
			}
			if r.Set != want {
				t.Fatalf("Set %q set=%v, want %v", key, r.Set, want)
			}
		}
	}
	del := func(want int64, keys ...string) step {
		return func(t *testing.T) {
			r, err := c.Delete(ctxT(t), &cachepb.DeleteRequest{Keys: bkeys(keys)})
			if err != nil {
				t.Fatal(err)
			}
			if r.Deleted != want {
				t.Fatalf("Delete %v = %d, want %d", keys, r.Deleted, want)
			}
		}
	}
	expire := func(key string, ttl time.Duration, want bool) step {
		return func(t *testing.T) {
			r, err := c.Expire(ctxT(t), &cachepb.ExpireRequest{Key: []byte(key), TtlMs: ttl.Milliseconds()})
			if err != nil {
				t.Fatal(err)
			}
			if r.Updated != want {
				t.Fatalf("Expire %q updated=%v, want %v", key, r.Updated, want)
			}
		}
	}
	wait := func(d time.Duration) step { return func(*testing.T) { clock.advance(d) } }
	const none = cachepb.Condition_CONDITION_UNSPECIFIED
	const nx = cachepb.Condition_CONDITION_NOT_EXISTS
	const xx = cachepb.Condition_CONDITION_EXISTS
	tests := []struct {
		name  string
		steps []step
	}{
		{"missing key is found=false", []step{get("nope", false, "")}},
		{"set then get", []step{set("a", "1", 0, none, true), get("a", true, "1")}},
		{"empty value is found", []step{set("empty", "", 0, none, true), get("empty", true, "")}},
		{"nx on missing key", []step{set("nx", "1", 0, nx, true), get("nx", true, "1")}},
		{"nx on existing key", []step{set("nx2", "1", 0, none, true), set("nx2", "2", 0, nx, false), get("nx2", true, "1")}},
		{"xx on missing key", []step{set("xx", "1", 0, xx, false), get("xx", false, "")}},
		{"xx on existing key", []step{set("xx2", "1", 0, none, true), set("xx2", "2", 0, xx, true), get("xx2", true, "2")}},
		{"ttl expires", []step{set("ttl", "v", time.Second, none, true), wait(999 * time.Millisecond), get("ttl", true, "v"), wait(2 * time.Millisecond), get("ttl", false, "")}},
		{"set without ttl drops the ttl", []step{set("keep", "v", time.Second, none, true), set("keep", "w", 0, none, true), wait(2 * time.Second), get("keep", true, "w")}},
		{"delete counts existing keys", []step{set("d1", "1", 0, none, true), set("d2", "1", 0, none, true), del(2, "d1", "d2", "d3"), get("d1", false, "")}},
		{"expire sets a ttl", []step{set("e", "1", 0, none, true), expire("e", time.Second, true), wait(1001 * time.Millisecond), get("e", false, "")}},
		{"expire on missing key", []step{expire("e-missing", time.Second, false)}},
		{"expire 0 persists", []step{set("p", "1", time.Second, none, true), expire("p", 0, true), wait(2 * time.Second), get("p", true, "1"), expire("p", 0, false)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.steps {
				s(t)
			}
		})
	}
}

func bkeys(keys []string) [][]byte {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = []byte(k)
	}
	return out
}

// TestInteropWithRESP: keys written over gRPC are read over RESP and the
// other way round; the TTL is the same.
func TestInteropWithRESP(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	rc := redis.NewClient(&redis.Options{Addr: tn.RESP.Addr().String()})
	defer rc.Close()
	ctx := ctxT(t)
	if _, err := tn.Client.Set(ctx, &cachepb.SetRequest{Key: []byte("g"), Value: []byte("from grpc"), TtlMs: 60_000}); err != nil {
		t.Fatal(err)
	}
	if v, err := rc.Get(ctx, "g").Result(); err != nil || v != "from grpc" {
		t.Fatalf("RESP GET = %q, %v", v, err)
	}
	if ttl, err := rc.PTTL(ctx, "g").Result(); err != nil || ttl <= 59*time.Second || ttl > 60*time.Second {
		t.Fatalf("PTTL = %v, %v", ttl, err)
	}
	rc.Set(ctx, "r", "from resp", 0)
	r, err := tn.Client.Get(ctx, &cachepb.GetRequest{Key: []byte("r")})
	if err != nil || !r.Found || string(r.Value) != "from resp" {
		t.Fatalf("gRPC Get = %v, %v", r, err)
	}
}

func TestBatch(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	ctx := ctxT(t)
	_, err := tn.Client.BatchSet(ctx, &cachepb.BatchSetRequest{Entries: []*cachepb.Entry{
		{Key: []byte("b1"), Value: []byte("1")}, {Key: []byte("b2"), Value: []byte("2"), TtlMs: 60_000},
	}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := tn.Client.BatchGet(ctx, &cachepb.BatchGetRequest{Keys: bkeys([]string{"b2", "missing", "b1"})})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, res := range r.Results {
		got = append(got, string(res.Value)+"/"+map[bool]string{true: "found", false: "missing"}[res.Found])
	}
	want := []string{"2/found", "/missing", "1/found"}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("BatchGet = %v, want %v", got, want)
	}
}

func TestErrors(t *testing.T) {
	tn := grpctest.StartSingle(t, func(c *node.Config) {
		c.Store.MaxMemory = 1 << 20
		c.Store.Policy = store.NoEviction
	})
	rc := redis.NewClient(&redis.Options{Addr: tn.RESP.Addr().String()})
	defer rc.Close()
	ctx := ctxT(t)
	rc.LPush(ctx, "list", "x")
	c := tn.Client
	tests := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"negative ttl", func() error {
			_, err := c.Set(ctx, &cachepb.SetRequest{Key: []byte("k"), TtlMs: -1})
			return err
		}, codes.InvalidArgument},
		{"negative expire", func() error {
			_, err := c.Expire(ctx, &cachepb.ExpireRequest{Key: []byte("k"), TtlMs: -5})
			return err
		}, codes.InvalidArgument},
		{"huge ttl", func() error {
			_, err := c.Set(ctx, &cachepb.SetRequest{Key: []byte("k"), TtlMs: 1<<63 - 1})
			return err
		}, codes.InvalidArgument},
		{"unknown condition", func() error {
			_, err := c.Set(ctx, &cachepb.SetRequest{Key: []byte("k"), Condition: 7})
			return err
		}, codes.InvalidArgument},
		{"batch ttl", func() error {
			_, err := c.BatchSet(ctx, &cachepb.BatchSetRequest{Entries: []*cachepb.Entry{{Key: []byte("k"), TtlMs: -1}}})
			return err
		}, codes.InvalidArgument},
		{"invalidate nothing", func() error {
			_, err := c.Invalidate(ctx, &cachepb.InvalidateRequest{})
			return err
		}, codes.InvalidArgument},
		{"wrong type", func() error {
			_, err := c.Get(ctx, &cachepb.GetRequest{Key: []byte("list")})
			return err
		}, codes.FailedPrecondition},
		{"wrong type in batch", func() error {
			_, err := c.BatchGet(ctx, &cachepb.BatchGetRequest{Keys: bkeys([]string{"a", "list"})})
			return err
		}, codes.FailedPrecondition},
		{"out of memory", func() error {
			big := make([]byte, 256<<10)
			for i := range 8 {
				if _, err := c.Set(ctx, &cachepb.SetRequest{Key: []byte{byte('0' + i)}, Value: big}); err != nil {
					return err
				}
			}
			return nil
		}, codes.ResourceExhausted},
		{"too many keys", func() error {
			_, err := c.BatchGet(ctx, &cachepb.BatchGetRequest{Keys: make([][]byte, 100_001)})
			return err
		}, codes.InvalidArgument},
		{"message too large", func() error {
			_, err := c.Set(ctx, &cachepb.SetRequest{Key: []byte("k"), Value: make([]byte, 65<<20)})
			return err
		}, codes.ResourceExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), tt.want) })
	}
}

func TestDeadline(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	_, err := tn.Client.Set(ctx, &cachepb.SetRequest{Key: []byte("late"), Value: []byte("v")})
	wantCode(t, err, codes.DeadlineExceeded)
	r, err := tn.Client.Get(ctxT(t), &cachepb.GetRequest{Key: []byte("late")})
	if err != nil || r.Found {
		t.Fatalf("a call past its deadline wrote: %v %v", r, err)
	}
	// A cancelled context is Canceled.
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = tn.Client.Get(ctx2, &cachepb.GetRequest{Key: []byte("x")})
	wantCode(t, err, codes.Canceled)
}

func TestHealthAndReflection(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	ctx := ctxT(t)
	hc := healthpb.NewHealthClient(tn.Conn)
	for _, svc := range []string{"", cachegrpc.HealthService} {
		r, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || r.Status != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health %q = %v, %v", svc, r, err)
		}
	}
	if got := listServices(t, tn.Conn); !contains(got, "cache.v1.Cache") || !contains(got, "grpc.health.v1.Health") {
		t.Fatalf("reflection lists %v", got)
	}
}

// TestNotReady: a cluster node that has not seen min-members is not
// serving and refuses writes with Unavailable.
func TestNotReady(t *testing.T) {
	tc := grpctest.StartCluster(t, 1, func(c *node.ClusterConfig) { c.MinMembers = 2 })
	tn := tc.Nodes[0]
	ctx := ctxT(t)
	r, err := healthpb.NewHealthClient(tn.Conn).Check(ctx, &healthpb.HealthCheckRequest{Service: cachegrpc.HealthService})
	if err != nil || r.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health = %v, %v; want NOT_SERVING", r, err)
	}
	_, err = tn.Client.Set(ctx, &cachepb.SetRequest{Key: []byte("k"), Value: []byte("v")})
	wantCode(t, err, codes.Unavailable)
}

func listServices(t *testing.T, conn *grpc.ClientConn) []string {
	t.Helper()
	stream, err := rpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.Name)
	}
	sort.Strings(names)
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestInvalidateSingle(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	ctx := ctxT(t)
	for _, k := range []string{"user:1", "user:2", "user:*x", "users", "other", "u[1]", "u[1]:a"} {
		if _, err := tn.Client.Set(ctx, &cachepb.SetRequest{Key: []byte(k), Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		req    *cachepb.InvalidateRequest
		want   int64
		remain []string
	}{
		{"prefix", &cachepb.InvalidateRequest{Prefix: []byte("user:")}, 3, []string{"users", "other"}},
		{"prefix with glob characters is literal", &cachepb.InvalidateRequest{Prefix: []byte("u[1]")}, 2, []string{"users"}},
		{"keys and prefix", &cachepb.InvalidateRequest{Keys: bkeys([]string{"other", "missing"}), Prefix: []byte("nothing")}, 1, []string{"users"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tn.Client.Invalidate(ctx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if r.Deleted != tt.want {
				t.Fatalf("deleted %d, want %d", r.Deleted, tt.want)
			}
			for _, k := range tt.remain {
				if g, _ := tn.Client.Get(ctx, &cachepb.GetRequest{Key: []byte(k)}); !g.GetFound() {
					t.Fatalf("%q was removed", k)
				}
			}
		})
	}
}
