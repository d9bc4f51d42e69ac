package client

import "time"

// Hooks are callbacks for metrics. They run synchronously on the calling
// goroutine, possibly concurrently with each other: they must be safe for
// concurrent use and must not block.
type Hooks struct {
	// Call runs once per client call (Get, Set, MGet, ...), after it ends.
	Call func(CallInfo)
	// Retry runs before each retry of a call.
	Retry func(op string, attempt int, err error)
	// BreakerChange runs when a node's circuit breaker changes state.
	BreakerChange func(node string, from, to BreakerState)
	// Load runs after each GetOrLoad loader call (once per single-flight
	// group), with how long it took and its error.
	Load func(key string, d time.Duration, err error)
	// NearCache runs on each near cache event (hit, miss, eviction,
	// invalidated key, flush); NearCacheStats has the same counts.
	NearCache func(NearCacheEvent)
}

// CallInfo describes one finished call.
type CallInfo struct {
	Op       string        // "get", "set", "mget", ...
	Keys     int           // keys the call was about
	Attempts int           // tries made (the most over its nodes for multi-key calls); 0 for a near cache hit
	Duration time.Duration // from start to end, retries included
	Err      error         // nil on success; ErrNotFound is not an error here
}
