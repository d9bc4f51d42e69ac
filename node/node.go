// Package node is a running cache node: the Go API that the protocol front
// ends call, its local store and, when clustered, its membership (gossip),
// the ring that places slots on members, replication to the other owners of
// a slot and the hand-off of slots when members come and go.
package node

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/cached/cached/node/peer"
	"github.com/cached/cached/node/store"
	"github.com/cached/cached/persistence"
)

// Config configures a Node. Start from DefaultConfig.
type Config struct {
	// Store configures the local engine.
	Store store.Config
	// Logger receives the node's logs.
	Logger *slog.Logger
	// Cluster, when set, makes the node a member of a cluster.
	Cluster *ClusterConfig
	// Persistence, when set, keeps the data in a directory for warm
	// restarts (Start loads it).
	Persistence *PersistenceConfig
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
	if c.Cluster != nil {
		if err := c.Cluster.Validate(); err != nil {
			return err
		}
	}
	if c.Persistence != nil {
		if err := c.Persistence.Validate(); err != nil {
			return err
		}
	}
	return c.Store.Validate()
}

// Node is a cache node. The embedded Store is its local key space; its
// methods are the node's data API.
type Node struct {
	*store.Store
	logger     *slog.Logger
	cluster    *cluster // nil on a single node
	pump       pump
	persist    *persistence.Persister // nil without persistence
	persistCfg PersistenceConfig
	logChanges bool // append changes to the log (appendonly)
	saving     saver
	started    time.Time
	closeOnce  sync.Once
	inval      invalidation // hooks and Watches of the invalidation API
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
	n := &Node{Store: st, logger: cfg.Logger, started: time.Now()}
	n.pump = pump{node: n, stop: make(chan struct{})}
	if pc := cfg.Persistence; pc != nil {
		c := pc.Config
		c.Logger = cfg.Logger
		if n.persist, err = persistence.Open(c); err != nil {
			return nil, err
		}
		n.saving = saver{rules: pc.Save, stop: make(chan struct{})}
		n.persistCfg = *pc
	}
	if cfg.Cluster != nil {
		pcfg := cfg.Cluster.Peer
		pcfg.Logger = cfg.Logger
		peers, err := peer.NewPool(pcfg)
		if err != nil {
			return nil, err
		}
		n.cluster = &cluster{cfg: *cfg.Cluster, logger: cfg.Logger, node: n, peers: peers,
			changed: make(chan struct{}, 1), stop: make(chan struct{})}
	}
	return n, nil
}

// Start loads the persisted data, if any, and starts the node's
// background work (active expiry, the change pump, snapshots).
func (n *Node) Start(ctx context.Context) error {
	if n.persist != nil {
		if err := n.load(); err != nil {
			return err
		}
	}
	n.Store.Start()
	return ctx.Err()
}

// Close stops the node at once, without handing its slots off (see
// Leave). It is idempotent.
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		if n.persist != nil {
			n.saving.close()
		}
		n.pump.close() // the last changes go to the log and the replicas
		if c := n.cluster; c != nil {
			err = c.close()
		}
		if n.persist != nil {
			err = errors.Join(err, n.persist.Close())
		}
		err = errors.Join(err, n.Store.Close())
	})
	return err
}
