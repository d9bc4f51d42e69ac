// Package node is a running cache node: the Go API that the protocol front
// ends call. For now it serves every key from its local store; membership,
// routing, replication and origins build on it.
package node

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/cached/cached/node/store"
)

// Config configures a Node. Start from DefaultConfig.
type Config struct {
	// Store configures the local engine.
	Store store.Config
	// Logger receives the node's logs.
	Logger *slog.Logger
}

// DefaultConfig returns a single-node configuration with no memory limit.
func DefaultConfig() Config {
	return Config{Store: store.DefaultConfig(), Logger: slog.Default()}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.Logger == nil {
		return errors.New("logger: must be set")
	}
	return c.Store.Validate()
}

// Node is a cache node. The embedded Store is its local key space; its
// methods are the node's data API.
type Node struct {
	*store.Store
	logger    *slog.Logger
	closeOnce sync.Once
}

// New returns a node for cfg. It starts nothing until Start.
func New(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Store.Logger = cfg.Logger
	st, err := store.New(cfg.Store)
	if err != nil {
		return nil, err
	}
	return &Node{Store: st, logger: cfg.Logger}, nil
}

// Start starts the node's background work (active expiry).
func (n *Node) Start(ctx context.Context) error {
	n.Store.Start()
	return ctx.Err()
}

// Close stops the node. It is idempotent.
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() { err = n.Store.Close() })
	return err
}
