package origin

import (
	"cmp"
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// ErrQueueFull refuses a write-behind write while the queue holds
// QueueConfig.MaxDepth keys.
var ErrQueueFull = errors.New("origin: write-behind queue full")

// QueueConfig configures the write-behind queue.
type QueueConfig struct {
	// Dir, when set, keeps the queue in a file there, fsynced before a
	// write is acknowledged and replayed on start; otherwise the queue is
	// in memory only and a crash loses what it holds.
	Dir string
	// MaxDepth bounds the keys waiting; writes of further keys fail.
	MaxDepth int
	// BatchSize is how many writes one round sends.
	BatchSize int
	// RetryMin and RetryMax bound the backoff after a failed round; it
	// doubles from RetryMin on each failure in a row.
	RetryMin, RetryMax time.Duration
	// CompactBytes: a queue file larger than this, and four times what is
	// pending, is rewritten with what is pending only.
	CompactBytes int64
}

// DefaultQueueConfig keeps the queue in memory.
func DefaultQueueConfig() QueueConfig {
	return QueueConfig{MaxDepth: 1 << 20, BatchSize: 128, RetryMin: 100 * time.Millisecond, RetryMax: 30 * time.Second, CompactBytes: 64 << 20}
}

// Validate reports the first invalid field.
func (c QueueConfig) Validate() error {
	switch {
	case c.MaxDepth < 1:
		return fmt.Errorf("writebehind-max-depth: must be at least 1")
	case c.BatchSize < 1:
		return fmt.Errorf("writebehind-batch: must be at least 1")
	case c.RetryMin <= 0 || c.RetryMax < c.RetryMin:
		return fmt.Errorf("writebehind-retry: want 0 < min <= max, got %v, %v", c.RetryMin, c.RetryMax)
	case c.CompactBytes < 1:
		return fmt.Errorf("writebehind-compact-bytes: must be positive")
	}
	return nil
}

// Op is one write for an origin.
type Op struct {
	Origin string // the origin's name
	Key    string
	ID     string // the part of Key the rule's '*' matched
	Value  []byte // nil for a delete
	Delete bool
}

// queued is an Op with its place in the queue.
type queued struct {
	op    Op
	seq   uint64
	since time.Time     // when the oldest write it replaced was queued
	elem  *list.Element // in queue.order
}

func sortBySeq(qs []queued) {
	slices.SortFunc(qs, func(a, b queued) int { return cmp.Compare(a.seq, b.seq) })
}

// deliverFunc sends one write to its origin.
type deliverFunc func(ctx context.Context, op Op) error

// queue holds write-behind writes until their origin accepts them: one
// entry per key (a newer write replaces the one waiting), delivered oldest
// first in batches by one goroutine, retried with backoff.
type queue struct {
	cfg     QueueConfig
	logger  *slog.Logger
	now     func() time.Time
	deliver deliverFunc
	path    string // "" in memory

	mu      sync.Mutex // guards the fields below
	pending map[string]*queued
	order   *list.List // of *queued, oldest first
	seq     uint64
	file    *os.File
	size    int64 // bytes written to file
	written int64 // bytes handed to file, for group fsync
	failed  error // a write to the file failed: refuse writes

	syncMu sync.Mutex // serialises fsyncs
	synced int64      // bytes known on disk; guarded by syncMu

	delivered, retries int64 // guarded by mu

	wake chan struct{}
	stop chan struct{}
	wg   sync.WaitGroup
}

// newQueue opens the queue, replaying its file when cfg.Dir is set.
func newQueue(cfg QueueConfig, logger *slog.Logger, now func() time.Time, deliver deliverFunc) (*queue, error) {
	q := &queue{cfg: cfg, logger: logger, now: now, deliver: deliver, pending: map[string]*queued{}, order: list.New(),
		wake: make(chan struct{}, 1), stop: make(chan struct{})}
	if cfg.Dir == "" {
		return q, nil
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("write-behind queue: %w", err)
	}
	q.path = filepath.Join(cfg.Dir, queueFileName)
	pending, last, valid, err := replayQueue(q.path)
	if err != nil {
		return nil, fmt.Errorf("write-behind queue: replay: %w", err)
	}
	q.seq = last
	start := now()
	for _, p := range pending {
		e := &queued{op: p.op, seq: p.seq, since: start}
		e.elem = q.order.PushBack(e)
		q.pending[p.op.Key] = e
	}
	if q.file, err = openQueueFile(q.path, valid); err != nil {
		return nil, fmt.Errorf("write-behind queue: %w", err)
	}
	q.size, q.written, q.synced = valid, valid, valid
	if len(pending) > 0 {
		logger.Info("write-behind queue replayed", "writes", len(pending))
	}
	return q, nil
}

// start runs the delivery goroutine until close.
func (q *queue) start() {
	q.wg.Add(1)
	go q.run()
	q.signal()
}

// close stops delivery and closes the file; what is queued stays in it.
func (q *queue) close() error {
	close(q.stop)
	q.wg.Wait()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.file == nil {
		return nil
	}
	err := errors.Join(q.file.Sync(), q.file.Close())
	q.file = nil
	return err
}

func (q *queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// enqueue queues op, replacing a write of the same key still waiting, and
// returns once it is durable (on disk with a Dir). It blocks on fsync.
func (q *queue) enqueue(op Op) error {
	q.mu.Lock()
	if q.failed != nil {
		q.mu.Unlock()
		return q.failed
	}
	e := q.pending[op.Key]
	if e == nil && len(q.pending) >= q.cfg.MaxDepth {
		q.mu.Unlock()
		return ErrQueueFull
	}
	q.seq++
	if e == nil {
		e = &queued{since: q.now()}
		e.elem = q.order.PushBack(e)
		q.pending[op.Key] = e
	}
	e.op, e.seq = op, q.seq
	var upTo int64
	if q.file != nil {
		if err := q.appendLocked(appendPut(nil, e.seq, op)); err != nil {
			q.mu.Unlock()
			return err
		}
		upTo = q.written
	}
	q.mu.Unlock()
	q.signal()
	if upTo == 0 {
		return nil
	}
	return q.sync(upTo)
}

// appendLocked writes frames to the file; a failure makes the queue refuse
// writes, as its file can no longer be trusted to hold them.
func (q *queue) appendLocked(frames []byte) error {
	if _, err := q.file.Write(frames); err != nil {
		q.failed = fmt.Errorf("origin: write-behind queue file: %w", err)
		return q.failed
	}
	q.size += int64(len(frames))
	q.written = q.size
	return nil
}

// sync returns once the file holds upTo bytes on disk: one fsync serves
// every writer waiting meanwhile.
func (q *queue) sync(upTo int64) error {
	q.syncMu.Lock()
	defer q.syncMu.Unlock()
	if q.synced >= upTo {
		return nil
	}
	q.mu.Lock()
	f, target := q.file, q.written
	q.mu.Unlock()
	if f == nil {
		return errors.New("origin: write-behind queue closed")
	}
	if err := f.Sync(); err != nil {
		q.mu.Lock()
		q.failed = fmt.Errorf("origin: write-behind queue fsync: %w", err)
		q.mu.Unlock()
		return q.failed
	}
	q.synced = target
	return nil
}

// run delivers batches until close, backing off after failures.
func (q *queue) run() {
	defer q.wg.Done()
	backoff := time.Duration(0)
	for {
		var wait <-chan time.Time
		if backoff > 0 {
			t := time.NewTimer(backoff)
			wait = t.C
			select {
			case <-q.stop:
				t.Stop()
				return
			case <-wait:
			}
		} else {
			select {
			case <-q.stop:
				return
			case <-q.wake:
			}
		}
		for {
			sent, failed := q.round()
			if failed {
				backoff = min(max(backoff*2, q.cfg.RetryMin), q.cfg.RetryMax)
				q.mu.Lock()
				q.retries++
				q.mu.Unlock()
				break
			}
			backoff = 0
			if sent == 0 {
				break
			}
		}
	}
}

// round delivers up to BatchSize of the oldest writes. It reports how many
// went through and whether one failed.
func (q *queue) round() (sent int, failed bool) {
	q.mu.Lock()
	batch := make([]queued, 0, min(q.cfg.BatchSize, q.order.Len()))
	for el := q.order.Front(); el != nil && len(batch) < q.cfg.BatchSize; el = el.Next() {
		batch = append(batch, *el.Value.(*queued))
	}
	q.mu.Unlock()
	if len(batch) == 0 {
		return 0, false
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // close stops a delivery in progress
		select {
		case <-q.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	failedOrigins := map[string]bool{}
	var done []uint64
	for _, b := range batch {
		if failedOrigins[b.op.Origin] {
			continue
		}
		if err := q.deliver(ctx, b.op); err != nil {
			failedOrigins[b.op.Origin] = true
			q.logger.Debug("write-behind delivery failed", "origin", b.op.Origin, "err", err)
			continue
		}
		done = append(done, b.seq)
		q.mu.Lock()
		if e := q.pending[b.op.Key]; e != nil && e.seq == b.seq {
			q.order.Remove(e.elem)
			delete(q.pending, b.op.Key)
		}
		q.delivered++
		q.mu.Unlock()
	}
	q.recordDone(done)
	return len(done), len(failedOrigins) > 0
}

// recordDone notes delivered writes in the file, so a restart does not
// send them again, and shrinks the file when little of it is pending. The
// done frames are not fsynced: losing them costs a repeated delivery, and
// origin writes are idempotent (PUT, DELETE, upsert).
func (q *queue) recordDone(seqs []uint64) {
	q.mu.Lock()
	if q.file == nil || len(seqs) == 0 || q.failed != nil {
		q.mu.Unlock()
		return
	}
	if len(q.pending) == 0 || q.size > q.cfg.CompactBytes {
		q.mu.Unlock()
		// The locks in sync's order: no fsync runs on the file replaced.
		q.syncMu.Lock()
		q.mu.Lock()
		if q.file != nil && q.failed == nil {
			q.compactLocked()
		}
		q.mu.Unlock()
		q.syncMu.Unlock()
		return
	}
	var frames []byte
	for _, s := range seqs {
		frames = appendDone(frames, s)
	}
	_ = q.appendLocked(frames) // a failure is kept in q.failed
	q.mu.Unlock()
}

// compactLocked rewrites the file with the pending writes only, when they
// are few: always when none is pending. Both q.syncMu and q.mu are held.
func (q *queue) compactLocked() {
	live := make([]queued, 0, len(q.pending))
	for el := q.order.Front(); el != nil; el = el.Next() {
		live = append(live, *el.Value.(*queued))
	}
	if len(live) > 0 {
		est := int64(0)
		for _, l := range live {
			est += int64(frameHeader + 32 + len(l.op.Key) + len(l.op.ID) + len(l.op.Origin) + len(l.op.Value))
		}
		if q.size < 4*est {
			return
		}
	}
	sortBySeq(live)
	f, size, err := rewriteQueueFile(q.path, live)
	if err != nil {
		q.logger.Warn("write-behind queue rewrite failed", "err", err)
		return
	}
	if err := q.file.Close(); err != nil {
		q.logger.Warn("write-behind queue close failed", "err", err)
	}
	q.file, q.size, q.written, q.synced = f, size, size, size
}

// pendingOp returns the write of key waiting in the queue, if any.
func (q *queue) pendingOp(key string) (Op, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e := q.pending[key]; e != nil {
		return e.op, true
	}
	return Op{}, false
}

// QueueStats describes the write-behind queue.
type QueueStats struct {
	Depth     int           // keys waiting
	OldestAge time.Duration // how long the oldest waiting write has waited
	Delivered int64         // writes the origins accepted
	Retries   int64         // rounds that failed and backed off
	Durable   bool          // kept in a file
}

func (q *queue) stats() QueueStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := QueueStats{Depth: len(q.pending), Delivered: q.delivered, Retries: q.retries, Durable: q.path != ""}
	if front := q.order.Front(); front != nil {
		s.OldestAge = q.now().Sub(front.Value.(*queued).since)
	}
	return s
}
