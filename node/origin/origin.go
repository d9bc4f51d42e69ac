package origin

import (
	"context"
	"errors"
)

// ErrNotFound is what an Origin's Load returns when the origin has no value
// for the key (HTTP 404, no row): the miss is negative-cached.
var ErrNotFound = errors.New("origin: not found")

// ErrBreakerOpen is returned instead of calling an origin whose circuit
// breaker is open.
var ErrBreakerOpen = errors.New("origin: circuit breaker open")

// Origin is where a rule's data lives. Its methods are called concurrently,
// off the node's event loops, with a context bounded by the rule's timeout.
// key is the whole cache key, id the part of it the rule's '*' matched.
type Origin interface {
	// Load returns the value of key, or ErrNotFound.
	Load(ctx context.Context, key, id string) ([]byte, error)
	// Store writes val as the value of key.
	Store(ctx context.Context, key, id string, val []byte) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(ctx context.Context, key, id string) error
	// Close releases the origin's connections.
	Close() error
}

// Notifier is an Origin that reports changes made to its data by others
// (PostgreSQL LISTEN/NOTIFY): Listen calls changed with the id of each
// changed row, and failed with each error it retries after, until ctx
// ends. It blocks; the Engine runs it on a goroutine of its own.
type Notifier interface {
	Listen(ctx context.Context, changed func(id string), failed func(error))
}
