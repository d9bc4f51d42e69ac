package node

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cached/cached/node/store"
	"github.com/cached/cached/persistence"
	"github.com/cached/cached/ring"
)

// PersistenceConfig configures the data directory of a node.
type PersistenceConfig struct {
	persistence.Config
	// Log writes every change to the log (appendonly yes); without it only
	// snapshots are written.
	Log bool
	// Save lists when to write a snapshot by itself, as redis.conf's save:
	// after Seconds if at least Changes writes happened. Empty: only on
	// SAVE/BGSAVE/BGREWRITEAOF.
	Save []SaveRule
}

// SaveRule is one "save <seconds> <changes>" pair.
type SaveRule struct {
	Seconds int
	Changes int
}

// Validate reports the first invalid field.
func (c PersistenceConfig) Validate() error {
	if c.Config.Logger == nil {
		c.Config.Logger = slog.Default() // New gives it the node's logger
	}
	if err := c.Config.Validate(); err != nil {
		return err
	}
	for _, r := range c.Save {
		if r.Seconds < 1 || r.Changes < 0 {
			return fmt.Errorf("save: %d %d: want positive seconds and non-negative changes", r.Seconds, r.Changes)
		}
	}
	return nil
}

// ErrSaveInProgress is returned by BackgroundSave while a snapshot is
// being written.
var ErrSaveInProgress = errors.New("background save already in progress")

// ErrNoPersistence is returned by the save calls of a node without a
// data directory.
var ErrNoPersistence = errors.New("persistence is off: no data directory")

// saver writes snapshots: on request and by the save rules.
type saver struct {
	rules   []SaveRule
	running atomic.Bool
	lastSeq atomic.Uint64 // change sequence number at the last snapshot's start
	stop    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

// load replays the data directory into the store, then starts the pump
// and the save rules. Every slot's changes are recorded from now on: the
// log wants them all.
func (n *Node) load() error {
	st, err := n.persist.Load(func(rec []byte) error {
		_, _, err := n.Store.Apply(rec)
		return err
	})
	if err != nil {
		return err
	}
	n.logger.Info("data loaded", "records", st.Records, "files", st.Files, "keys", n.Store.Len(),
		"truncated_bytes", st.Truncated, "skipped_bytes", st.Skipped, "took", st.Took.Round(time.Millisecond))
	for slot := range ring.SlotCount {
		n.Store.TrackSlot(slot, true)
	}
	n.logChanges = n.persistCfg.Log
	n.pump.run()
	n.saving.lastSeq.Store(n.Store.ChangeSeq())
	if len(n.saving.rules) > 0 {
		n.saving.wg.Add(1)
		go n.saveLoop()
	}
	return nil
}

// saveLoop writes a snapshot when a save rule says so.
func (n *Node) saveLoop() {
	defer n.saving.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-n.saving.stop:
			return
		case <-t.C:
		}
		changes := n.Store.ChangeSeq() - n.saving.lastSeq.Load()
		since := time.Since(n.LastSave())
		for _, r := range n.saving.rules {
			if changes >= uint64(max(r.Changes, 1)) && since >= time.Duration(r.Seconds)*time.Second {
				if err := n.Save(); err != nil && !errors.Is(err, ErrSaveInProgress) {
					n.logger.Error("snapshot failed", "err", err)
				}
				break
			}
		}
	}
}

// close stops the save rules.
func (s *saver) close() {
	s.once.Do(func() {
		close(s.stop)
		s.wg.Wait()
	})
}

// Save writes a snapshot of the data and starts a new log (SAVE,
// BGREWRITEAOF): the log never grows without bound. Writes go on meanwhile.
func (n *Node) Save() error {
	if n.persist == nil {
		return ErrNoPersistence
	}
	if !n.saving.running.CompareAndSwap(false, true) {
		return ErrSaveInProgress
	}
	defer n.saving.running.Store(false)
	seq := n.Store.ChangeSeq()
	start := time.Now()
	if err := n.persist.Rewrite(n.dump); err != nil {
		return err
	}
	n.saving.lastSeq.Store(seq)
	n.logger.Info("snapshot written", "keys", n.Store.Len(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// BackgroundSave starts Save on its own goroutine (BGSAVE).
func (n *Node) BackgroundSave() error {
	if n.persist == nil {
		return ErrNoPersistence
	}
	if n.saving.running.Load() {
		return ErrSaveInProgress
	}
	n.saving.wg.Add(1)
	go func() {
		defer n.saving.wg.Done()
		if err := n.Save(); err != nil && !errors.Is(err, ErrSaveInProgress) {
			n.logger.Error("background save failed", "err", err)
		}
	}()
	return nil
}

// dump emits a record of every key, slot by slot, in bounded batches.
func (n *Node) dump(emit func(rec []byte) error) error {
	buf := make([]byte, 0, 1<<20)
	for _, slot := range n.Store.SlotsWithKeys() {
		var after []byte
		for done := false; !done; {
			buf, after, done = n.Store.AppendSlot(buf[:0], slot, after, 1<<20)
			for rest := buf; len(rest) > 0; {
				_, size, err := store.DecodeRecord(rest)
				if err != nil {
					return err
				}
				if err := emit(rest[:size]); err != nil {
					return err
				}
				rest = rest[size:]
			}
		}
	}
	return nil
}

// PersistenceStats are the figures INFO persistence shows.
type PersistenceStats struct {
	Enabled          bool
	Saving           bool
	ChangesSinceSave uint64
	persistence.Stats
}

// PersistenceStats returns the node's persistence figures.
func (n *Node) PersistenceStats() PersistenceStats {
	if n.persist == nil {
		return PersistenceStats{}
	}
	return PersistenceStats{Enabled: true, Saving: n.saving.running.Load(),
		ChangesSinceSave: n.Store.ChangeSeq() - n.saving.lastSeq.Load(), Stats: n.persist.Stats()}
}

// LastSave returns when the last snapshot was written (the start time
// when none was).
func (n *Node) LastSave() time.Time {
	if n.persist == nil {
		return time.Time{}
	}
	if t := n.persist.Stats().LastSave; !t.IsZero() {
		return t
	}
	return n.started
}
