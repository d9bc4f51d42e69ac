package persistence

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func testConfig(t testing.TB, dir string) Config {
	cfg := DefaultConfig()
	cfg.Dir = dir
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg
}

// rec makes a test record: an 8-byte version then a key=value text.
func rec(version uint64, kv string) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, version), kv...)
}

// model applies test records last-writer-wins by version, as the store does.
type model struct {
	mu   sync.Mutex
	data map[string]string
	ver  map[string]uint64
}

func newModel() *model { return &model{data: map[string]string{}, ver: map[string]uint64{}} }

func (m *model) apply(r []byte) error {
	if len(r) < 8 {
		return errors.New("short record")
	}
	v := binary.LittleEndian.Uint64(r)
	k, val, ok := strings.Cut(string(r[8:]), "=")
	if !ok {
		return errors.New("no =")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if v > m.ver[k] {
		m.ver[k], m.data[k] = v, val
	}
	return nil
}

func (m *model) dump(emit func([]byte) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.data {
		if err := emit(rec(m.ver[k], k+"="+v)); err != nil {
			return err
		}
	}
	return nil
}

// open opens dir and loads it into a fresh model.
func open(t testing.TB, cfg Config) (*Persister, *model, LoadStats) {
	t.Helper()
	p, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := newModel()
	st, err := p.Load(m.apply)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, m, st
}

func write(t testing.TB, p *Persister, from, to int, value string) {
	t.Helper()
	for i := from; i < to; i++ {
		p.Append(rec(uint64(i+1), fmt.Sprintf("k%d=%s", i, value)))
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, fsync := range []Fsync{FsyncAlways, FsyncEverySec, FsyncNo} {
		t.Run(fsync.String(), func(t *testing.T) {
			cfg := testConfig(t, t.TempDir())
			cfg.Fsync = fsync
			p, _, _ := open(t, cfg)
			write(t, p, 0, 100, "a")
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			_, m, st := open(t, cfg)
			if st.Records != 100 || len(m.data) != 100 || m.data["k42"] != "a" {
				t.Fatalf("loaded %d records, %d keys, k42=%q", st.Records, len(m.data), m.data["k42"])
			}
		})
	}
}

func TestParseFsync(t *testing.T) {
	for _, s := range []string{"always", "everysec", "no", "EVERYSEC"} {
		if f, err := ParseFsync(s); err != nil || f.String() != strings.ToLower(s) {
			t.Errorf("%s: %v %v", s, f, err)
		}
	}
	if _, err := ParseFsync("sometimes"); err == nil {
		t.Error("sometimes parsed")
	}
	if err := (Config{}).Validate(); err == nil || !strings.Contains(err.Error(), "dir") {
		t.Errorf("empty config: %v", err)
	}
}

// logFile returns the path of the only log in dir.
func logFile(t *testing.T, dir string) string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(dir, "appendonly.*.log"))
	if len(matches) != 1 {
		t.Fatalf("logs: %v", matches)
	}
	return matches[0]
}

func TestDamage(t *testing.T) {
	frame := int64(frameHeader + len(rec(1, "k0=a")))
	tests := []struct {
		name    string
		damage  func(t *testing.T, dir, log string)
		skip    bool
		records int    // records loaded, when loading succeeds
		err     string // error text, when it fails
	}{
		{"torn tail", func(t *testing.T, _, log string) {
			info, _ := os.Stat(log)
			os.Truncate(log, info.Size()-3)
		}, false, 9, ""},
		{"torn header", func(t *testing.T, _, log string) {
			info, _ := os.Stat(log)
			os.Truncate(log, info.Size()-frame+4)
		}, false, 9, ""},
		{"garbage tail", func(t *testing.T, _, log string) {
			f, _ := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
			f.Write([]byte{0, 0, 0, 9, 1, 2})
			f.Close()
		}, false, 10, ""},
		{"flipped byte mid-file", func(t *testing.T, _, log string) {
			flip(t, log, int64(len(logMagic))+3*frame+frameHeader+2)
		}, false, 0, fmt.Sprintf("at offset %d", int64(len(logMagic))+3*frame)},
		{"flipped byte mid-file, skip", func(t *testing.T, _, log string) {
			flip(t, log, int64(len(logMagic))+3*frame+frameHeader+2)
		}, true, 3, ""},
		{"huge declared length", func(t *testing.T, _, log string) {
			f, _ := os.OpenFile(log, os.O_RDWR, 0)
			f.WriteAt([]byte{0xff, 0xff, 0xff, 0x7f}, int64(len(logMagic))+frame)
			f.Close()
		}, false, 0, "over the"},
		{"zero-length log", func(t *testing.T, _, log string) { os.Truncate(log, 0) }, false, 0, ""},
		{"wrong magic", func(t *testing.T, _, log string) {
			f, _ := os.OpenFile(log, os.O_RDWR, 0)
			f.WriteAt([]byte("REDIS001"), 0)
			f.Close()
		}, false, 0, "not a cached log file"},
		{"zero-length snapshot", func(t *testing.T, dir, _ string) {
			os.WriteFile(filepath.Join(dir, snapshotName), nil, 0o600)
		}, false, 0, "not a cached snapshot file"},
		{"snapshot without its end", func(t *testing.T, dir, _ string) {
			os.WriteFile(filepath.Join(dir, snapshotName), append([]byte(snapshotMagic), 1, 0, 0, 0, 0, 0, 0, 0), 0o600)
		}, false, 0, "incomplete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(t, dir)
			p, _, _ := open(t, cfg)
			write(t, p, 0, 10, "a")
			p.Close()
			tt.damage(t, dir, logFile(t, dir))
			cfg.SkipCorrupt = tt.skip
			q, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			m := newModel()
			st, err := q.Load(m.apply)
			if tt.err != "" {
				if err == nil || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Load: %v, want an ErrCorrupt containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if st.Records != tt.records || len(m.data) != tt.records {
				t.Fatalf("loaded %d records (%d keys), want %d", st.Records, len(m.data), tt.records)
			}
			// The damage is gone: the log takes writes and loads cleanly.
			write(t, q, 100, 101, "b")
			q.Close()
			_, m2, _ := open(t, testConfig(t, dir))
			if len(m2.data) != tt.records+1 {
				t.Fatalf("after repair and a write: %d keys, want %d", len(m2.data), tt.records+1)
			}
		})
	}
}

func flip(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	f.ReadAt(b, off)
	b[0] ^= 0x40
	f.WriteAt(b, off)
}

// TestRewriteUnderWrites rewrites while writers append: nothing is lost
// and the old logs are gone.
func TestRewriteUnderWrites(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	p, _, _ := open(t, cfg)
	live := newModel()
	var version sync.Mutex
	next := uint64(0)
	writeOne := func(k, v string) {
		version.Lock()
		next++
		r := rec(next, k+"="+v)
		live.apply(r)
		p.Append(r)
		version.Unlock()
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				writeOne(fmt.Sprintf("w%d-%d", w, i%500), fmt.Sprint(i))
				if i%50 == 0 {
					p.Flush()
				}
			}
		}()
	}
	for range 3 {
		if err := p.Rewrite(live.dump); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "appendonly.*.log"))
	if len(logs) != 1 {
		t.Errorf("logs after rewrites: %v", logs)
	}
	_, loaded, _ := open(t, cfg)
	if len(loaded.data) != len(live.data) {
		t.Fatalf("loaded %d keys, want %d", len(loaded.data), len(live.data))
	}
	for k, v := range live.data {
		if loaded.data[k] != v {
			t.Fatalf("%s = %q, want %q", k, loaded.data[k], v)
		}
	}
	if st := p.Stats(); st.LastSave.IsZero() || st.LastSaveErr != nil {
		t.Errorf("stats after rewrite: %+v", st)
	}
}

// TestLeftoverLogsAfterRewrite: a crash after the snapshot's rename but
// before the old logs' removal loads correctly and removes them.
func TestLeftoverLogsAfterRewrite(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	p, _, _ := open(t, cfg)
	write(t, p, 0, 10, "a")
	old := logFile(t, dir)
	saved, _ := os.ReadFile(old)
	m := newModel()
	for i := range 10 {
		m.apply(rec(uint64(i+1), fmt.Sprintf("k%d=a", i)))
	}
	if err := p.Rewrite(m.dump); err != nil {
		t.Fatal(err)
	}
	write(t, p, 10, 12, "b")
	p.Close()
	os.WriteFile(old, saved, 0o600) // as if the removal never happened
	_, loaded, st := open(t, cfg)
	if len(loaded.data) != 12 || st.Files != 2 {
		t.Fatalf("loaded %d keys from %d files", len(loaded.data), st.Files)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the covered log %s was not removed", old)
	}
}

// FuzzLoadLog feeds arbitrary bytes as a log file: loading never panics
// and either fails with ErrCorrupt or loads a prefix.
func FuzzLoadLog(f *testing.F) {
	valid := []byte(logMagic)
	for i := range 3 {
		valid = appendFrame(valid, rec(uint64(i+1), fmt.Sprintf("k%d=v", i)))
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-2])
	f.Add([]byte(logMagic))
	f.Add([]byte{})
	f.Add(append([]byte(logMagic), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "appendonly.1.log"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		p, err := Open(testConfig(t, dir))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		m := newModel()
		if _, err := p.Load(func(r []byte) error { m.apply(r); return nil }); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Load: %v", err)
		}
	})
}

// TestFullDisk writes to a device that is always full: Flush fails with
// the error, keeps the records, leaves no torn record, and a later Flush
// to a healthy file writes them.
func TestFullDisk(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full on this system")
	}
	cfg := testConfig(t, t.TempDir())
	cfg.Fsync = FsyncAlways
	p, _, _ := open(t, cfg)
	healthy := p.file
	p.mu.Lock()
	p.file = full
	p.mu.Unlock()
	p.Append(rec(1, "k=v"))
	if err := p.Flush(); err == nil || !strings.Contains(err.Error(), "no space") {
		t.Fatalf("Flush to a full disk: %v", err)
	}
	if st := p.Stats(); st.LastWriteErr == nil || st.Buffered == 0 {
		t.Fatalf("after a failed write: %+v", st)
	}
	p.mu.Lock()
	p.file = healthy
	p.mu.Unlock()
	full.Close()
	if err := p.Flush(); err != nil {
		t.Fatalf("Flush after the disk recovered: %v", err)
	}
	if st := p.Stats(); st.LastWriteErr != nil || st.Buffered != 0 {
		t.Fatalf("after recovery: %+v", st)
	}
	p.Close()
	_, m, _ := open(t, cfg)
	if m.data["k"] != "v" {
		t.Fatalf("the record written after recovery is missing: %v", m.data)
	}
}
