// Command readthrough measures cached in front of an HTTP origin. It serves
// a REST origin in-process on loopback (GET /items/{id} answers a value
// after -origin-latency, counting calls), starts the cached binary -cached
// with a read-through rule "item:*" pointing at it, and runs:
//
//  1. miss: -keys distinct missing keys, each read once, spread over
//     -clients connections: every GET loads from the origin.
//  2. hit: the same keys read again: served from the cache.
//  3. storm: -storm-keys fresh keys, each read by -storm-clients clients at
//     the same moment: the origin calls per key show the single flight.
//
// Each phase prints one line: phase=... gets=... seconds=... gets_per_s=...
// origin_calls=... (and, for storm, calls_per_key=...).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cached/cached/bench"
)

func main() {
	bin := flag.String("cached", "./cached", "the cached binary to start")
	keys := flag.Int("keys", 20000, "distinct keys of the miss and hit phases")
	clients := flag.Int("clients", 50, "connections of the miss and hit phases")
	stormKeys := flag.Int("storm-keys", 100, "keys of the storm phase")
	stormClients := flag.Int("storm-clients", 50, "concurrent readers of each storm key")
	latency := flag.Duration("origin-latency", time.Millisecond, "time the origin takes to answer a GET")
	size := flag.Int("value-size", 64, "value size in bytes")
	flag.Parse()
	if *keys < 1 || *clients < 1 || *stormKeys < 1 || *stormClients < 1 || *size < 1 || *latency < 0 {
		log.Fatal("readthrough: counts must be positive, -origin-latency not negative")
	}

	var calls atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	origin := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		time.Sleep(*latency)
		w.Write(bench.Value(strings.TrimPrefix(r.URL.Path, "/items/"), *size))
	})}
	go origin.Serve(ln)
	defer origin.Close()

	addr, stop, err := startCached(*bin, "http://"+ln.Addr().String()+"/items/{id}")
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	rc := bench.NewClient(addr, *clients+*stormClients)
	defer rc.Close()
	ctx := context.Background()

	names := make([]string, *keys)
	for i := range names {
		names[i] = "item:" + strconv.Itoa(i)
	}
	for _, phase := range []string{"miss", "hit"} {
		before := calls.Load()
		start := time.Now()
		if err := spread(ctx, rc, names, *clients); err != nil {
			log.Fatalf("%s: %v", phase, err)
		}
		report(phase, len(names), time.Since(start), calls.Load()-before, "")
	}

	before := calls.Load()
	start := time.Now()
	for k := range *stormKeys {
		key := "item:storm:" + strconv.Itoa(k)
		var wg sync.WaitGroup
		gate := make(chan struct{})
		errs := make(chan error, *stormClients)
		for range *stormClients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				if err := rc.Get(ctx, key).Err(); err != nil {
					errs <- err
				}
			}()
		}
		close(gate)
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			log.Fatalf("storm: %v", err)
		}
	}
	n := calls.Load() - before
	report("storm", *stormKeys**stormClients, time.Since(start), n,
		fmt.Sprintf(" calls_per_key=%.3f", float64(n)/float64(*stormKeys)))
}

// spread GETs every key once over n goroutines and checks each reply.
func spread(ctx context.Context, rc *redis.Client, keys []string, n int) error {
	var wg sync.WaitGroup
	var first atomic.Pointer[error]
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(keys); i += n {
				v, err := rc.Get(ctx, keys[i]).Bytes()
				if err == nil && len(v) == 0 {
					err = errors.New("empty value")
				}
				if err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if p := first.Load(); p != nil {
		return *p
	}
	return nil
}

func report(phase string, gets int, d time.Duration, originCalls int64, extra string) {
	fmt.Printf("phase=%s gets=%d seconds=%.3f gets_per_s=%.0f origin_calls=%d%s\n",
		phase, gets, d.Seconds(), float64(gets)/d.Seconds(), originCalls, extra)
}

// startCached runs bin with a read-through rule for item:* at url and
// waits until it answers PING; stop kills it.
func startCached(bin, url string) (addr string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "readthrough")
	if err != nil {
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := filepath.Join(dir, "cached.yaml")
	yaml := fmt.Sprintf("port: %d\ngrpc-port: 0\nadmin-port: 0\nloglevel: warn\norigins:\n  items: {type: http, url: %q}\n"+
		"rules:\n  - {pattern: \"item:*\", origin: items, mode: read-through, ttl: 10m, negative-ttl: 10s, timeout: 5s}\n", port, url)
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, "--config", conf)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		cmd.Process.Kill()
		cmd.Wait()
		os.RemoveAll(dir)
	}
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	rc := redis.NewClient(&redis.Options{Addr: addr})
	defer rc.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rc.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			stop()
			return "", nil, errors.New("cached did not answer PING within 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return addr, stop, nil
}
