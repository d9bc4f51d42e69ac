package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cached/cached/client"
	"github.com/cached/cached/protocol/grpc/grpctest"
)

// countingOrigin counts loads.
type countingOrigin struct {
	memoryOrigin
	loads atomic.Int64
}

func (o *countingOrigin) Load(ctx context.Context, id string) (Profile, error) {
	o.loads.Add(1)
	return o.memoryOrigin.Load(ctx, id)
}

// TestProfileService runs the service against an in-process cached node.
func TestProfileService(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.New(ctx, client.Config{Addrs: []string{tn.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	origin := &countingOrigin{memoryOrigin: memoryOrigin{delay: 50 * time.Millisecond, byID: map[string]Profile{"42": {ID: "42", Name: "Ada"}}}}
	srv := httptest.NewServer((&Service{Cache: c, Origin: origin, TTL: time.Minute}).Handler())
	defer srv.Close()

	get := func(id string) (int, string) {
		resp, err := http.Get(srv.URL + "/profiles/" + id)
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Error(err)
		}
		return resp.StatusCode, string(body)
	}
	// Concurrent first requests: one origin load.
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, body := get("42"); code != 200 || !strings.Contains(body, `"Ada"`) {
				t.Errorf("GET = %d %q", code, body)
			}
		}()
	}
	wg.Wait()
	if n := origin.loads.Load(); n != 1 {
		t.Fatalf("origin loaded %d times for 20 concurrent requests, want 1", n)
	}
	// Cached now.
	get("42")
	if n := origin.loads.Load(); n != 1 {
		t.Fatalf("a cached profile was loaded again (%d loads)", n)
	}
	// An update invalidates.
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/profiles/42", strings.NewReader(`{"name":"Ada Lovelace"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT = %v, %v", resp, err)
	}
	resp.Body.Close()
	if code, body := get("42"); code != 200 || !strings.Contains(body, "Ada Lovelace") {
		t.Fatalf("after PUT: %d %q", code, body)
	}
	if code, _ := get("7"); code != http.StatusNotFound {
		t.Fatalf("unknown profile: %d", code)
	}
}
