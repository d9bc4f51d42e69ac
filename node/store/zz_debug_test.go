package store

import (
	"testing"
	"time"
)

func TestZZDebugLFU(t *testing.T) {
	lost := 0
	for run := 0; run < 300; run++ {
		s, clk := newTestStore(t, func(c *Config) {
			c.Policy = AllKeysLFU
			c.MaxMemory = 200 * evictEntry
		})
		for i := range 20 {
			reserveSet(t, s, evictKey('h', i), 0)
		}
		alive := 20
		for i := range 2000 {
			clk.Advance(time.Millisecond)
			reserveSet(t, s, evictKey('c', i), 0)
			n := 0
			for j := range 20 {
				if s.Exists([]byte(evictKey('h', j))) {
					n++
				}
			}
			if n < alive {
				o, _ := s.Inspect([]byte(evictKey('h', 0)))
				t.Logf("run %d write %d: hot left %d; h0 %+v", run, i, n, o)
				alive = n
			}
			for j := range 20 {
				s.Get([]byte(evictKey('h', j)))
			}
		}
		lost += 20 - alive
	}
	t.Logf("lost %d", lost)
}
