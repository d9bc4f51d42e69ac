package origin

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// recorder is a delivery target that fails while down and records what
// it accepted.
type recorder struct {
	mu       sync.Mutex
	down     bool
	got      []string
	attempts int
}

func (r *recorder) deliver(_ context.Context, op Op) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if r.down {
		return errors.New("down")
	}
	v := string(op.Value)
	if op.Delete {
		v = "<deleted>"
	}
	r.got = append(r.got, op.Key+"="+v)
	return nil
}

func (r *recorder) snapshot() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...), r.attempts
}

func testQueue(t *testing.T, dir string, r *recorder) *queue {
	t.Helper()
	cfg := DefaultQueueConfig()
	cfg.Dir = dir
	cfg.RetryMin, cfg.RetryMax = time.Millisecond, 5*time.Millisecond
	q, err := newQueue(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now, r.deliver)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestQueueCoalesceRetryRestart(t *testing.T) {
	dir := t.TempDir()
	r := &recorder{down: true}
	q := testQueue(t, dir, r)
	q.start()
	for _, v := range []string{"1", "2", "3"} {
		if err := q.enqueue(Op{Origin: "o", Key: "a", Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.enqueue(Op{Origin: "o", Key: "b", Delete: true}); err != nil {
		t.Fatal(err)
	}
	if s := q.stats(); s.Depth != 2 {
		t.Fatalf("depth %d, want 2", s.Depth)
	}
	waitUntil(t, "retries", func() bool { _, n := r.snapshot(); return n >= 3 })
	if s := q.stats(); s.Retries < 2 || s.OldestAge <= 0 {
		t.Fatalf("stats %+v", s)
	}
	if err := q.close(); err != nil {
		t.Fatal(err)
	}
	// Restart: replayed, then delivered once the target is up.
	r.mu.Lock()
	r.down = false
	r.mu.Unlock()
	q2 := testQueue(t, dir, r)
	if s := q2.stats(); s.Depth != 2 {
		t.Fatalf("replayed depth %d", s.Depth)
	}
	q2.start()
	waitUntil(t, "delivery", func() bool { return q2.stats().Depth == 0 })
	if got, _ := r.snapshot(); len(got) != 2 || got[0] != "a=3" || got[1] != "b=<deleted>" {
		t.Fatalf("delivered %v", got)
	}
	if err := q2.close(); err != nil {
		t.Fatal(err)
	}
	// Delivered writes are not replayed again, and the file was emptied.
	if fi, err := os.Stat(filepath.Join(dir, queueFileName)); err != nil || fi.Size() != 0 {
		t.Fatalf("queue file after delivery: %v, %v", fi, err)
	}
	q3 := testQueue(t, dir, r)
	defer q3.close()
	if d := q3.stats().Depth; d != 0 {
		t.Fatalf("replayed %d delivered writes", d)
	}
}

func TestQueueTornTail(t *testing.T) {
	dir := t.TempDir()
	var buf []byte
	buf = appendPut(buf, 1, Op{Origin: "o", Key: "a", Value: []byte("x")})
	buf = appendPut(buf, 2, Op{Origin: "o", Key: "b", Value: []byte("y")})
	buf = appendDone(buf, 1)
	whole := len(buf)
	buf = appendPut(buf, 3, Op{Origin: "o", Key: "c", Value: []byte("z")})
	for _, cut := range []int{len(buf) - 1, whole + 3} {
		path := filepath.Join(dir, queueFileName)
		if err := os.WriteFile(path, buf[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		pending, last, valid, err := replayQueue(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) != 1 || pending[0].op.Key != "b" || last != 2 || valid != int64(whole) {
			t.Fatalf("cut at %d: pending %+v, last %d, valid %d", cut, pending, last, valid)
		}
	}
	// A flipped byte ends the replay there.
	bad := append([]byte(nil), buf...)
	bad[frameHeader+2] ^= 0xff
	path := filepath.Join(dir, queueFileName)
	os.WriteFile(path, bad, 0o600)
	if pending, _, valid, _ := replayQueue(path); len(pending) != 0 || valid != 0 {
		t.Fatalf("corrupt first frame: pending %v, valid %d", pending, valid)
	}
}

func TestQueueMaxDepth(t *testing.T) {
	r := &recorder{down: true}
	cfg := DefaultQueueConfig()
	cfg.MaxDepth = 2
	q, err := newQueue(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now, r.deliver)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "a"} {
		if err := q.enqueue(Op{Key: k}); err != nil {
			t.Fatalf("enqueue %s: %v", k, err)
		}
	}
	if err := q.enqueue(Op{Key: "c"}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third key: %v, want ErrQueueFull", err)
	}
	if err := q.close(); err != nil {
		t.Fatal(err)
	}
}

// TestLoadPrefersQueue: a write-behind key evicted from the cache reads
// back the value waiting in the queue, not the origin's older one.
func TestLoadPrefersQueue(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Rules = []Rule{{Pattern: "k:*", Origin: "o", Mode: WriteBehind, Timeout: time.Second}}
	o := &stubOrigin{val: []byte("old"), storeErr: errors.New("down")}
	e, err := New(cfg, map[string]Origin{"o": o})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	r := e.Match([]byte("k:1"))
	if err := e.Write(r, "k:1", []byte("new"), false); err != nil {
		t.Fatal(err)
	}
	var stored string
	cache := Cache{Present: func(string) bool { return false }, Store: func(_ string, v []byte, _ time.Duration) { stored = string(v) }}
	if found, err := e.Load(r, "k:1", cache); err != nil || !found || stored != "new" {
		t.Fatalf("Load: %v, %v, stored %q", found, err, stored)
	}
	if o.loads != 0 {
		t.Fatalf("origin loaded %d times", o.loads)
	}
	if err := e.Write(r, "k:1", nil, true); err != nil {
		t.Fatal(err)
	}
	if found, err := e.Load(r, "k:1", cache); err != nil || found {
		t.Fatalf("Load of a queued delete: %v, %v", found, err)
	}
}

// stubOrigin is an in-memory origin.
type stubOrigin struct {
	val      []byte
	storeErr error
	loads    int
}

func (s *stubOrigin) Load(context.Context, string, string) ([]byte, error) {
	s.loads++
	return s.val, nil
}
func (s *stubOrigin) Store(context.Context, string, string, []byte) error { return s.storeErr }
func (s *stubOrigin) Delete(context.Context, string, string) error        { return s.storeErr }
func (s *stubOrigin) Close() error                                        { return nil }
