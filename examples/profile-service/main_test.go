package main

import (
	"context"
	"fmt"
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

// TestProfileServiceNearCache runs two instances of the service, each with
// a near cache, on one cached node: a profile read through both is then
// served from their near caches, and a PUT through one reaches the other's
// copy through the node's invalidation.
func TestProfileServiceNearCache(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	origin := &countingOrigin{memoryOrigin: memoryOrigin{byID: map[string]Profile{"42": {ID: "42", Name: "Ada"}}}}
	var caches []*client.Client
	var urls []string
	for range 2 {
		c, err := client.New(ctx, client.Config{Addrs: []string{tn.Addr()}, NearCache: &client.NearCache{MaxEntries: 100}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		srv := httptest.NewServer((&Service{Cache: c, Origin: origin, TTL: time.Minute}).Handler())
		defer srv.Close()
		caches, urls = append(caches, c), append(urls, srv.URL)
	}
	get := func(url string) string {
		t.Helper()
		resp, err := http.Get(url + "/profiles/42")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	for _, u := range urls {
		for range 5 {
			if body := get(u); !strings.Contains(body, `"Ada"`) {
				t.Fatalf("GET = %q", body)
			}
		}
	}
	if n := origin.loads.Load(); n != 1 {
		t.Fatalf("origin loaded %d times", n)
	}
	for i, c := range caches {
		if st := c.NearCacheStats(); st.Hits == 0 {
			t.Fatalf("instance %d: near cache %+v", i, st)
		}
	}
	req, _ := http.NewRequest(http.MethodPut, urls[0]+"/profiles/42", strings.NewReader(`{"name":"Ada Lovelace"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT = %v, %v", resp, err)
	}
	resp.Body.Close()
	// The other instance's copy goes when the node's invalidation reaches
	// it (asynchronously); without it, it would stay for a minute.
	grpctest.CheckFor(t, 5*time.Second, func() error {
		if body := get(urls[1]); !strings.Contains(body, "Ada Lovelace") {
			return fmt.Errorf("instance 2 still serves %q", body)
		}
		return nil
	})
}
