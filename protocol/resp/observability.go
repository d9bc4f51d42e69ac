package resp

import (
	"fmt"
	"runtime"
	"strconv"
	"time"
)

// initObservability sets up the statistics, slow log, latency monitor and
// tracer from cfg.
func (s *Server) initObservability(cfg Config) {
	loops := cfg.IOThreads
	if loops == 0 {
		loops = max(runtime.GOMAXPROCS(0)/2, 1)
	}
	s.stats = newCmdStats(loops + 1)
	s.slowlog.slowerThan.Store(slowlogMicros(cfg.SlowlogSlowerThan))
	s.slowlog.maxLen.Store(int64(cfg.SlowlogMaxLen))
	s.latency.threshold.Store(int64(cfg.LatencyMonitorThreshold / time.Millisecond))
	s.tracer = newTracer(cfg.Tracer, cfg.TraceSampleRatio)
}

// slowlogMicros converts a slowlog-log-slower-than duration to its
// setting: microseconds, -1 when negative (off).
func slowlogMicros(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return int64(d / time.Microsecond)
}

// validateObservability checks the observability fields of c.
func (c Config) validateObservability() error {
	if c.SlowlogMaxLen < 0 {
		return fmt.Errorf("slowlog-max-len: must not be negative, got %d", c.SlowlogMaxLen)
	}
	if c.LatencyMonitorThreshold < 0 {
		return fmt.Errorf("latency-monitor-threshold: must not be negative")
	}
	if c.TraceSampleRatio < 0 || c.TraceSampleRatio > 1 {
		return fmt.Errorf("otel-sample-ratio: must be in [0, 1], got %v", c.TraceSampleRatio)
	}
	return nil
}

// observabilityParams are the CONFIG GET/SET parameters of the slow log
// and the latency monitor.
func observabilityParams() []param {
	return []param{
		{name: "slowlog-log-slower-than",
			get: func(s *Server) string { return strconv.FormatInt(s.slowlog.slowerThan.Load(), 10) },
			set: func(s *Server, v string) (func(), error) {
				n, err := parseIntParam(v, -1, 1<<62)
				if err != nil {
					return nil, err
				}
				return func() { s.slowlog.slowerThan.Store(n) }, nil
			}},
		{name: "slowlog-max-len",
			get: func(s *Server) string { return strconv.FormatInt(s.slowlog.maxLen.Load(), 10) },
			set: func(s *Server, v string) (func(), error) {
				n, err := parseIntParam(v, 0, 1<<31-1)
				if err != nil {
					return nil, err
				}
				return func() {
					s.slowlog.maxLen.Store(n)
					s.slowlog.mu.Lock()
					s.slowlog.trimLocked()
					s.slowlog.mu.Unlock()
				}, nil
			}},
		{name: "latency-monitor-threshold",
			get: func(s *Server) string { return strconv.FormatInt(s.latency.threshold.Load(), 10) },
			set: func(s *Server, v string) (func(), error) {
				n, err := parseIntParam(v, 0, 1<<62)
				if err != nil {
					return nil, err
				}
				return func() { s.latency.threshold.Store(n) }, nil
			}},
	}
}
