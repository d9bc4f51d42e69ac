package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// newGossipKey returns a random base64 AES-256 key.
func newGossipKey(t *testing.T) string {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(k)
}

// TestGossipWrongKey: a node whose gossip key differs is never admitted,
// while a node with the right key, started after it, is.
func TestGossipWrongKey(t *testing.T) {
	key, wrong := newGossipKey(t), newGossipKey(t)
	a := startRun(t, true, "--node-name", "a", "--gossip-key", key)
	waitMembers(t, 1, a)
	b := startRun(t, true, "--node-name", "b", "--gossip-key", wrong, "--join", "127.0.0.1:"+a.gossip)
	waitMembers(t, 1, b) // b is up and has tried to join
	c := startRun(t, true, "--node-name", "c", "--gossip-key", key, "--join", "127.0.0.1:"+a.gossip)
	waitMembers(t, 2, a, c)
	if m := a.scrape(t)["cached_cluster_members"]; m != 2 {
		t.Errorf("a counts %v members, want 2 (itself and c)", m)
	}
	if m := b.scrape(t)["cached_cluster_members"]; m != 1 {
		t.Errorf("b, with the wrong key, counts %v members, want 1", m)
	}
}

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

// members returns the cached_cluster_members a node's metrics report, or
// -1 when they cannot be read. It may run on any goroutine.
func (p *runProc) members() float64 {
	resp, err := httpClient.Get("http://127.0.0.1:" + p.admin + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return -1
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "cached_cluster_members "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return -1
			}
			return f
		}
	}
	return -1
}

// TestGossipKeyRotation rotates the gossip key of a running two-node
// cluster through gossip-key-file, as an operator would: the new key is
// added as a secondary on every node, made primary on every node, then the
// old one is removed. The members never drop; afterwards a node with only
// the new key is admitted and one with only the old key is not.
func TestGossipKeyRotation(t *testing.T) {
	oldKey, newKey := newGossipKey(t), newGossipKey(t)
	dir := t.TempDir()
	write := func(path string, keys ...string) {
		t.Helper()
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte("# gossip keys, primary first\n"+strings.Join(keys, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	fileA, fileB := filepath.Join(dir, "a.keys"), filepath.Join(dir, "b.keys")
	write(fileA, oldKey)
	write(fileB, oldKey)
	logA, logB := &lockedBuffer{}, &lockedBuffer{}
	a := startRunLogging(t, logA, true, "--node-name", "a", "--gossip-key-file", fileA)
	waitMembers(t, 1, a)
	b := startRunLogging(t, logB, true, "--node-name", "b", "--gossip-key-file", fileB, "--join", "127.0.0.1:"+a.gossip)
	waitMembers(t, 2, a, b)

	// Watch the member counts through the rotation.
	stop := make(chan struct{})
	var lowest sync.Map // node name → lowest count seen
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			for name, p := range map[string]*runProc{"a": a, "b": b} {
				if m := p.members(); m >= 0 {
					if old, ok := lowest.Load(name); !ok || m < old.(float64) {
						lowest.Store(name, m)
					}
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	for step, keys := range [][]string{{oldKey, newKey}, {newKey, oldKey}, {newKey}} {
		write(fileA, keys...)
		write(fileB, keys...)
		deadline := time.Now().Add(10 * time.Second)
		for logA.count("gossip keys reloaded") < step+1 || logB.count("gossip keys reloaded") < step+1 {
			if time.Now().After(deadline) {
				t.Fatalf("step %d: the nodes did not reload their key files", step+1)
			}
			time.Sleep(20 * time.Millisecond)
		}
		// Gossip under the new keys before the next step.
		waitMembers(t, 2, a, b)
	}
	close(stop)
	wg.Wait()
	for _, name := range []string{"a", "b"} {
		if m, ok := lowest.Load(name); !ok || m.(float64) != 2 {
			t.Errorf("node %s: lowest member count during the rotation %v, want 2", name, m)
		}
	}

	stale := startRun(t, true, "--node-name", "stale", "--gossip-key", oldKey, "--join", "127.0.0.1:"+a.gossip)
	waitMembers(t, 1, stale)
	fresh := startRun(t, true, "--node-name", "fresh", "--gossip-key", newKey, "--join", "127.0.0.1:"+b.gossip)
	waitMembers(t, 3, a, b, fresh)
	if m := stale.scrape(t)["cached_cluster_members"]; m != 1 {
		t.Errorf("a node with the removed key counts %v members, want 1", m)
	}
}
