// Package origin puts a node's cache in front of a service's data: rules map
// key patterns to origins (an HTTP service, a PostgreSQL table) with a mode
// (read-through, write-through, write-behind), and an Engine loads misses
// through a per-key single flight and a per-origin circuit breaker, writes
// through to the origin, or queues writes durably for a background writer.
//
// The package knows nothing of RESP or of the cluster: the front end decides
// that this node owns a key and calls the Engine; the Engine never writes
// the cache itself, it tells the caller what to store, and reports keys an
// origin says changed through the invalidation callback.
package origin
