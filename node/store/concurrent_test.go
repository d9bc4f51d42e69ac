package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestConcurrentMix runs every kind of operation from several goroutines on
// a small, overlapping key set; the race detector checks the locking, and the
// invariants check the bookkeeping afterwards.
func TestConcurrentMix(t *testing.T) {
	configs := []struct {
		name string
		edit func(*Config)
	}{
		{"unlimited", nil},
		{"evicting lru", func(c *Config) {
			c.Policy = AllKeysLRU
			c.MaxMemory = 8 << 10
		}},
		{"evicting volatile-ttl", func(c *Config) {
			c.Policy = VolatileTTL
			c.MaxMemory = 8 << 10
		}},
	}
	for _, cfg := range configs {
		t.Run(cfg.name, func(t *testing.T) {
			s, clk := newTestStore(t, func(c *Config) {
				c.ExpiryInterval = time.Millisecond
				if cfg.edit != nil {
					cfg.edit(c)
				}
			})
			s.Start()
			const (
				workers = 8
				ops     = 2000
				nkeys   = 32
			)
			key := func(r *rand.Rand) []byte {
				if r.IntN(4) == 0 {
					return fmt.Appendf(nil, "{tag}%d", r.IntN(8)) // same shard
				}
				return fmt.Appendf(nil, "key:%d", r.IntN(nkeys))
			}
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(w), 42))
					for i := range ops {
						if w == 0 && i%50 == 0 {
							clk.Advance(time.Duration(r.IntN(20)) * time.Millisecond)
						}
						k := key(r)
						at := clk.Ms() + int64(r.IntN(100))
						if s.MaxMemory() != 0 && s.Reserve() != nil {
							continue // the server would refuse the write
						}
						switch r.IntN(16) {
						case 0:
							s.Set(k, []byte("value"), SetOptions{ExpireAt: at})
						case 1:
							if v, ok, err := s.Get(k); err != nil || (ok && v == nil) {
								t.Errorf("Get = %q, %v, %v", v, ok, err)
							}
						case 2:
							s.Del(k)
						case 3:
							s.Append(k, []byte("ab"))
						case 4:
							if _, err := s.IncrBy(k, 1); err != nil && !errors.Is(err, ErrNotInteger) {
								t.Errorf("IncrBy: %v", err)
							}
						case 5:
							s.Expire(k, at, ExpireCond(r.IntN(5)))
						case 6:
							s.Scan(uint64(r.IntN(16384)), ScanOptions{Count: 5})
						case 7:
							if _, err := s.Rename(k, key(r), r.IntN(2) == 0); err != nil && !errors.Is(err, ErrNoSuchKey) {
								t.Errorf("Rename: %v", err)
							}
						case 8:
							s.Copy(k, key(r), r.IntN(2) == 0)
						case 9:
							s.SetRange(k, int64(r.IntN(10)), []byte("xyz"))
						case 10:
							s.GetEx(k, ExpireChange{Set: true, At: at})
						case 11:
							s.GetDel(k)
						case 12:
							s.MSet([][]byte{k, []byte("1"), key(r), []byte("2")}, r.IntN(2) == 0)
						case 13:
							s.Persist(k)
							s.Touch(k)
							s.Inspect(k)
						case 14:
							s.IncrByFloat(k, []byte("0.5"))
						case 15:
							s.Set(k, []byte("12"), SetOptions{KeepTTL: true, Get: true})
							s.Exists(k)
							s.Deadline(k)
						}
						if i%500 == 0 {
							s.Keys("key:*")
							s.RandomKey()
							s.Stats()
						}
					}
				})
			}
			wg.Wait()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, s)
			for _, k := range s.Keys("*") {
				s.Del([]byte(k))
			}
			clk.Advance(time.Hour)
			s.ExpireCycle(0, time.Hour)
			if got := s.UsedMemory(); got != 0 {
				t.Errorf("UsedMemory() = %d after deleting everything", got)
			}
		})
	}
}

// TestConcurrentIncr checks that increments from many goroutines all count.
func TestConcurrentIncr(t *testing.T) {
	s, _ := newTestStore(t, nil)
	const (
		workers = 8
		each    = 1000
	)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				delta := int64(1)
				if w%2 == 1 {
					delta = 2
				}
				if _, err := s.IncrBy([]byte("counter"), delta); err != nil {
					t.Errorf("IncrBy: %v", err)
					return
				}
				if i%4 == 0 {
					s.Get([]byte("counter"))
				}
			}
		})
	}
	wg.Wait()
	want := int64(workers/2*each*1 + workers/2*each*2)
	wantValue(t, s, "counter", strconv.FormatInt(want, 10), true)
	checkInvariants(t, s)
}

// TestConcurrentAppendReaders checks the read contract under contention: a
// slice from Get never changes, whatever APPENDs follow, and each read sees
// a prefix of the final value.
func TestConcurrentAppendReaders(t *testing.T) {
	s, _ := newTestStore(t, nil)
	key := []byte("log")
	const appends = 3000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range appends {
			s.Append(key, []byte{byte('a' + i%26)})
		}
	}()
	var wg sync.WaitGroup
	var held [][]byte
	var mu sync.Mutex // guards held
	for range 4 {
		wg.Go(func() {
			var mine [][]byte
			for {
				select {
				case <-done:
					mu.Lock()
					held = append(held, mine...)
					mu.Unlock()
					return
				default:
				}
				v, ok, _ := s.Get(key)
				if !ok {
					continue
				}
				for i, c := range v {
					if c != byte('a'+i%26) {
						t.Errorf("byte %d of a read is %q", i, c)
						return
					}
				}
				if len(mine) < 200 {
					mine = append(mine, v)
				}
			}
		})
	}
	wg.Wait()
	final, _, _ := s.Get(key)
	if len(final) != appends {
		t.Fatalf("final length %d, want %d", len(final), appends)
	}
	for _, v := range held {
		if !bytes.HasPrefix(final, v) {
			t.Fatalf("a held read of %d bytes is no longer a prefix of the value", len(v))
		}
	}
	checkInvariants(t, s)
}
