// Package persistence keeps a node's data on disk for warm restarts: an
// append-only log of change records and a snapshot, both made of frames
// with a length and a checksum, so that a torn write is found and cut and a
// damaged file is never loaded as data. It knows nothing of the records'
// contents or of the network: the node hands it encoded records and gets
// them back at start-up.
package persistence

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fsync is when the log is flushed to stable storage (appendfsync).
type Fsync int

// Fsync policies, as redis.conf's appendfsync.
const (
	// FsyncEverySec syncs once a second: a crash loses at most about a
	// second of writes.
	FsyncEverySec Fsync = iota
	// FsyncAlways syncs before each batch of writes is acknowledged.
	FsyncAlways
	// FsyncNo leaves syncing to the operating system.
	FsyncNo
)

// ParseFsync parses "always", "everysec" or "no".
func ParseFsync(s string) (Fsync, error) {
	switch strings.ToLower(s) {
	case "always":
		return FsyncAlways, nil
	case "everysec":
		return FsyncEverySec, nil
	case "no":
		return FsyncNo, nil
	}
	return 0, fmt.Errorf("%q: want always, everysec or no", s)
}

// String returns the redis.conf name of f.
func (f Fsync) String() string {
	return [...]string{"everysec", "always", "no"}[f]
}

// Config configures persistence. Start from DefaultConfig.
type Config struct {
	// Dir holds the files; it is created if missing.
	Dir string
	// Fsync is the log's sync policy.
	Fsync Fsync
	// SkipCorrupt makes Load drop a damaged frame in the middle of a log,
	// and the rest of that file, with a warning, instead of failing
	// (aof-load-corrupt skip). A torn last frame is always cut.
	SkipCorrupt bool
	// Logger receives warnings about cut or skipped data.
	Logger *slog.Logger
}

// DefaultConfig returns everysec syncing and strict loading.
func DefaultConfig() Config { return Config{Fsync: FsyncEverySec, Logger: slog.Default()} }

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Dir == "":
		return errors.New("dir: must be set")
	case c.Fsync < FsyncEverySec || c.Fsync > FsyncNo:
		return errors.New("appendfsync: unknown policy")
	case c.Logger == nil:
		return errors.New("logger: must be set")
	}
	return nil
}

// File layout. A log file is logMagic then frames; a snapshot is
// snapshotMagic, the sequence number of the first log it does not cover
// (8 bytes, little endian), frames, and an end frame holding the number of
// record frames. A frame is the payload's length and its CRC-32C (4 bytes
// each, little endian), then the payload.
const (
	logMagic      = "CACHEDL1"
	snapshotMagic = "CACHEDS1"
	frameHeader   = 8
	snapshotName  = "snapshot.cdb"
	// MaxRecord bounds one record: a longer declared length is damage.
	MaxRecord = 1 << 30
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// endMarker is the payload prefix of a snapshot's end frame; records never
// start with 0xFF.
const endMarker = 0xFF

// ErrCorrupt reports damaged data; the error names the file and offset.
var ErrCorrupt = errors.New("corrupt persistence file")

// Persister owns the data directory: the current log and the snapshot.
type Persister struct {
	cfg    Config
	logger *slog.Logger

	mu       sync.Mutex // guards everything below
	file     *os.File   // the current log
	seq      uint64     // its sequence number
	size     int64      // bytes of it known written
	buf      []byte     // frames not yet written
	dirty    bool       // written since the last sync
	writeErr error      // the last write or sync error, until one succeeds
	closed   bool

	rewriteMu  sync.Mutex // one rewrite at a time
	rewriting  bool       // guarded by mu
	lastSave   time.Time  // guarded by mu
	lastStatus error      // guarded by mu: the last rewrite's result

	stop chan struct{}
	wg   sync.WaitGroup
}

// Open prepares the directory. It loads nothing: call Load before Append.
func Open(cfg Config) (*Persister, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("persistence: %w", err)
	}
	return &Persister{cfg: cfg, logger: cfg.Logger, stop: make(chan struct{})}, nil
}

// LoadStats describes what Load found.
type LoadStats struct {
	Records   int           // records handed to apply
	Files     int           // files read
	Truncated int64         // bytes cut from a torn log tail
	Skipped   int64         // bytes dropped as damage (SkipCorrupt)
	Took      time.Duration // how long loading took
}

// Load reads the snapshot, then the logs it does not cover, in order,
// handing each record to apply; then it opens the last log for appending
// (or a new one). A torn last frame of the last log is cut with a warning.
// Damage anywhere else is an error naming the file and offset, unless
// SkipCorrupt. An error from apply stops loading.
func (p *Persister) Load(apply func(rec []byte) error) (LoadStats, error) {
	start := time.Now()
	var st LoadStats
	first := uint64(1)
	snap := filepath.Join(p.cfg.Dir, snapshotName)
	if _, err := os.Stat(snap); err == nil {
		n, covered, err := p.loadSnapshot(snap, apply)
		if err != nil {
			return st, err
		}
		st.Records += n
		st.Files++
		first = covered
	} else if !errors.Is(err, os.ErrNotExist) {
		return st, fmt.Errorf("persistence: %w", err)
	}
	logs, err := p.logs()
	if err != nil {
		return st, err
	}
	for i, seq := range logs {
		path := p.logPath(seq)
		if seq < first {
			// Covered by the snapshot: left over from a rewrite cut short.
			if err := os.Remove(path); err != nil {
				return st, fmt.Errorf("persistence: %w", err)
			}
			continue
		}
		n, good, cut, err := p.loadLog(path, i == len(logs)-1, apply)
		st.Records += n
		st.Files++
		if err != nil {
			return st, err
		}
		if cut > 0 {
			if i == len(logs)-1 {
				st.Truncated += cut
			} else {
				st.Skipped += cut
			}
			if err := truncate(path, good); err != nil {
				return st, err
			}
		}
	}
	seq := first
	if len(logs) > 0 {
		seq = max(seq, logs[len(logs)-1])
	}
	if err := p.openLog(seq); err != nil {
		return st, err
	}
	st.Took = time.Since(start)
	p.wg.Add(1)
	go p.syncLoop()
	return st, nil
}

// logs lists the sequence numbers of the log files, in order.
func (p *Persister) logs() ([]uint64, error) {
	entries, err := os.ReadDir(p.cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("persistence: %w", err)
	}
	var out []uint64
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "appendonly.") || !strings.HasSuffix(name, ".log") {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, "appendonly."), ".log"), 10, 64)
		if err == nil {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (p *Persister) logPath(seq uint64) string {
	return filepath.Join(p.cfg.Dir, "appendonly."+strconv.FormatUint(seq, 10)+".log")
}

// openLog opens (or creates) log seq for appending and makes it current.
func (p *Persister) openLog(seq uint64) error {
	path := p.logPath(seq)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("persistence: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("persistence: %w", err)
	}
	size := info.Size()
	if size == 0 {
		if _, err := f.Write([]byte(logMagic)); err != nil {
			f.Close()
			return fmt.Errorf("persistence: %s: %w", path, err)
		}
		size = int64(len(logMagic))
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("persistence: %s: %w", path, err)
		}
		if err := syncDir(p.cfg.Dir); err != nil {
			f.Close()
			return err
		}
	}
	if _, err := f.Seek(size, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("persistence: %w", err)
	}
	p.mu.Lock()
	p.file, p.seq, p.size = f, seq, size
	p.mu.Unlock()
	return nil
}

// loadLog replays one log. last says whether it is the newest log, whose
// torn tail is expected after a crash. It returns the records applied, the
// length of the good prefix and the bytes after it to cut.
func (p *Persister) loadLog(path string, last bool, apply func([]byte) error) (n int, good, cut int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("persistence: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("persistence: %w", err)
	}
	if info.Size() == 0 {
		return 0, 0, 0, nil // created, crashed before the header: empty
	}
	r := &frameReader{r: bufio.NewReaderSize(f, 1<<20), path: path, size: info.Size()}
	if err := r.magic(logMagic); err != nil {
		return 0, 0, 0, err
	}
	for {
		payload, err := r.next()
		if err == io.EOF {
			return n, r.off, 0, nil
		}
		if err != nil {
			torn := errors.Is(err, errTorn)
			switch {
			case torn && last:
				p.logger.Warn("cutting a torn record at the end of the log", "file", path, "offset", r.off, "bytes", r.size-r.off)
				return n, r.off, r.size - r.off, nil
			case p.cfg.SkipCorrupt:
				p.logger.Warn("skipping damaged log data (aof-load-corrupt skip)", "file", path, "offset", r.off, "bytes", r.size-r.off, "err", err)
				return n, r.off, r.size - r.off, nil
			}
			return n, r.off, 0, fmt.Errorf("%w: %s at offset %d: %v (set aof-load-corrupt skip to drop the rest of this file)", ErrCorrupt, path, r.off, err)
		}
		if err := apply(payload); err != nil {
			return n, r.off, 0, fmt.Errorf("%w: %s at offset %d: %v", ErrCorrupt, path, r.off, err)
		}
		r.commit()
		n++
	}
}

// loadSnapshot replays the snapshot and returns the records applied and
// the first log sequence number it does not cover.
func (p *Persister) loadSnapshot(path string, apply func([]byte) error) (int, uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("persistence: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("persistence: %w", err)
	}
	r := &frameReader{r: bufio.NewReaderSize(f, 1<<20), path: path, size: info.Size()}
	if err := r.magic(snapshotMagic); err != nil {
		return 0, 0, err
	}
	var seqBuf [8]byte
	if _, err := io.ReadFull(r.r, seqBuf[:]); err != nil {
		return 0, 0, fmt.Errorf("%w: %s: no log sequence number", ErrCorrupt, path)
	}
	r.off += 8
	r.end = r.off
	covered := binary.LittleEndian.Uint64(seqBuf[:])
	n := 0
	for {
		payload, err := r.next()
		if err != nil {
			if err == io.EOF {
				err = errors.New("no end frame: the snapshot is incomplete")
			}
			return n, 0, fmt.Errorf("%w: %s at offset %d: %v", ErrCorrupt, path, r.off, err)
		}
		if len(payload) == 9 && payload[0] == endMarker {
			if got := binary.LittleEndian.Uint64(payload[1:]); got != uint64(n) {
				return n, 0, fmt.Errorf("%w: %s: end frame counts %d records, read %d", ErrCorrupt, path, got, n)
			}
			return n, covered, nil
		}
		if err := apply(payload); err != nil {
			return n, 0, fmt.Errorf("%w: %s at offset %d: %v", ErrCorrupt, path, r.off, err)
		}
		r.commit()
		n++
	}
}

// errTorn marks a frame cut short by the end of the file.
var errTorn = errors.New("record cut short by the end of the file")

// frameReader reads frames, checking lengths before reading payloads.
type frameReader struct {
	r    *bufio.Reader
	path string
	size int64 // the file's size
	off  int64 // offset of the frame being read: the end of the good prefix
	end  int64 // end of the frame just read
	buf  []byte
}

// magic checks the file header.
func (r *frameReader) magic(want string) error {
	got := make([]byte, len(want))
	if _, err := io.ReadFull(r.r, got); err != nil || string(got) != want {
		return fmt.Errorf("%w: %s: not a cached %s file of this version (header %q)", ErrCorrupt, r.path, map[byte]string{'L': "log", 'S': "snapshot"}[want[6]], got)
	}
	r.off = int64(len(want))
	r.end = r.off
	return nil
}

// next returns the next frame's payload (valid until the next call), or
// io.EOF at a clean end.
func (r *frameReader) next() ([]byte, error) {
	r.off = r.end
	var h [frameHeader]byte
	n, err := io.ReadFull(r.r, h[:])
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("%w (%d of %d header bytes)", errTorn, n, frameHeader)
	}
	length := int64(binary.LittleEndian.Uint32(h[:4]))
	sum := binary.LittleEndian.Uint32(h[4:])
	if length > MaxRecord {
		return nil, fmt.Errorf("record length %d over the %d limit", length, MaxRecord)
	}
	if r.off+frameHeader+length > r.size {
		return nil, fmt.Errorf("%w (%d bytes declared, %d left)", errTorn, length, r.size-r.off-frameHeader)
	}
	if int64(cap(r.buf)) < length {
		r.buf = make([]byte, length)
	}
	r.buf = r.buf[:length]
	if _, err := io.ReadFull(r.r, r.buf); err != nil {
		return nil, fmt.Errorf("%w: %v", errTorn, err)
	}
	if crc32.Checksum(r.buf, crcTable) != sum {
		if r.off+frameHeader+length == r.size {
			return nil, fmt.Errorf("%w (checksum mismatch in the last record)", errTorn)
		}
		return nil, errors.New("checksum mismatch")
	}
	r.end = r.off + frameHeader + length
	return r.buf, nil
}

// commit marks the frame just read as applied.
func (r *frameReader) commit() { r.off = r.end }

// appendFrame appends payload as a frame.
func appendFrame(dst, payload []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(payload, crcTable))
	return append(dst, payload...)
}

// Append adds one record to the log's buffer; Flush writes the buffer.
func (p *Persister) Append(rec []byte) {
	p.mu.Lock()
	p.buf = appendFrame(p.buf, rec)
	p.mu.Unlock()
}

// Flush writes the buffered records to the log, and syncs it under
// FsyncAlways. On error the log is cut back to its last whole record and
// the records stay buffered for the next Flush, so a full disk never
// leaves a torn record in the middle of the file.
func (p *Persister) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.flushLocked(p.cfg.Fsync == FsyncAlways)
}

func (p *Persister) flushLocked(sync bool) error {
	if p.closed {
		return errors.New("persistence: closed")
	}
	if len(p.buf) > 0 {
		n, err := p.file.Write(p.buf)
		if err != nil {
			p.writeErr = fmt.Errorf("persistence: writing %s: %w", p.file.Name(), err)
			if n > 0 {
				if terr := p.file.Truncate(p.size); terr != nil {
					p.writeErr = errors.Join(p.writeErr, terr)
				}
				p.file.Seek(p.size, io.SeekStart)
			}
			return p.writeErr
		}
		p.size += int64(n)
		p.buf = p.buf[:0]
		p.dirty = true
	}
	if sync && p.dirty {
		if err := p.file.Sync(); err != nil {
			p.writeErr = fmt.Errorf("persistence: syncing %s: %w", p.file.Name(), err)
			return p.writeErr
		}
		p.dirty = false
	}
	p.writeErr = nil
	return nil
}

// syncLoop syncs the log every second under FsyncEverySec, and flushes
// buffered records under every policy (a failed write is retried).
func (p *Persister) syncLoop() {
	defer p.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		if !p.closed {
			if err := p.flushLocked(p.cfg.Fsync != FsyncNo); err != nil {
				p.logger.Error("persistence write failed", "err", err)
			}
		}
		p.mu.Unlock()
	}
}

// Rewrite replaces the snapshot and the logs with a new snapshot of the
// data dump emits, without stopping writes: new records go to a new log
// from the moment the rewrite starts, and records are applied
// last-writer-wins, so a key changed during the dump loads at its newest
// state whatever the order. dump must emit every record of the data.
func (p *Persister) Rewrite(dump func(emit func(rec []byte) error) error) error {
	p.rewriteMu.Lock()
	defer p.rewriteMu.Unlock()
	p.mu.Lock()
	p.rewriting = true
	p.mu.Unlock()
	err := p.rewrite(dump)
	p.mu.Lock()
	p.rewriting = false
	p.lastStatus = err
	if err == nil {
		p.lastSave = time.Now()
	}
	p.mu.Unlock()
	return err
}

func (p *Persister) rewrite(dump func(emit func(rec []byte) error) error) error {
	// Start a new log: what is written from now on goes there.
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errors.New("persistence: closed")
	}
	if err := p.flushLocked(true); err != nil {
		p.mu.Unlock()
		return err
	}
	old, oldSeq := p.file, p.seq
	p.mu.Unlock()
	if err := p.openLog(oldSeq + 1); err != nil {
		return err
	}
	if err := old.Close(); err != nil {
		return fmt.Errorf("persistence: %w", err)
	}
	tmp := filepath.Join(p.cfg.Dir, snapshotName+".tmp")
	if err := writeSnapshot(tmp, oldSeq+1, dump); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(p.cfg.Dir, snapshotName)); err != nil {
		return fmt.Errorf("persistence: %w", err)
	}
	if err := syncDir(p.cfg.Dir); err != nil {
		return err
	}
	logs, err := p.logs()
	if err != nil {
		return err
	}
	for _, seq := range logs {
		if seq <= oldSeq {
			if err := os.Remove(p.logPath(seq)); err != nil {
				return fmt.Errorf("persistence: %w", err)
			}
		}
	}
	return nil
}

// writeSnapshot writes a complete, synced snapshot file at path.
func writeSnapshot(path string, covered uint64, dump func(emit func(rec []byte) error) error) (err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("persistence: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("persistence: %w", cerr)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(snapshotMagic)
	binary.Write(w, binary.LittleEndian, covered)
	var frame []byte
	var n uint64
	err = dump(func(rec []byte) error {
		frame = appendFrame(frame[:0], rec)
		n++
		_, err := w.Write(frame)
		return err
	})
	if err != nil {
		return fmt.Errorf("persistence: snapshot: %w", err)
	}
	end := append([]byte{endMarker}, binary.LittleEndian.AppendUint64(nil, n)...)
	if _, err := w.Write(appendFrame(nil, end)); err != nil {
		return fmt.Errorf("persistence: snapshot: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("persistence: snapshot: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("persistence: snapshot: %w", err)
	}
	return nil
}

// Stats are the figures INFO persistence shows.
type Stats struct {
	Fsync         Fsync
	LogSize       int64
	Buffered      int
	Rewriting     bool
	LastSave      time.Time
	LastSaveErr   error
	LastWriteErr  error
	CurrentLogSeq uint64
}

// Stats returns the current figures.
func (p *Persister) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Fsync: p.cfg.Fsync, LogSize: p.size, Buffered: len(p.buf), Rewriting: p.rewriting,
		LastSave: p.lastSave, LastSaveErr: p.lastStatus, LastWriteErr: p.writeErr, CurrentLogSeq: p.seq}
}

// Close flushes and syncs the log and closes it. It is idempotent.
func (p *Persister) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	var err error
	if p.file != nil {
		err = p.flushLocked(true)
		err = errors.Join(err, p.file.Close())
	}
	p.closed = true
	p.mu.Unlock()
	close(p.stop)
	p.wg.Wait()
	return err
}

// truncate cuts the file at path to size and syncs it.
func truncate(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("persistence: %w", err)
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return fmt.Errorf("persistence: truncating %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("persistence: %w", err)
	}
	return f.Close()
}

// syncDir makes a directory's entries (a rename, a new file) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("persistence: %w", err)
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("persistence: syncing %s: %w", dir, err)
	}
	return d.Close()
}
