package origin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresConfig configures a PostgreSQL origin. Either Table, KeyColumn
// and ValueColumn are set, and the queries are built from them, or the
// queries are given.
type PostgresConfig struct {
	// DSN is the connection string (postgres://user:pass@host/db?...).
	DSN string
	// Table, KeyColumn and ValueColumn name where values live: a row per
	// key, the key column holding the key's id.
	Table, KeyColumn, ValueColumn string
	// LoadQuery selects the value of the row whose id is $1. StoreQuery
	// upserts value $2 for id $1; DeleteQuery deletes id $1.
	LoadQuery, StoreQuery, DeleteQuery string
	// NotifyChannel, when set, is LISTENed on: each notification's payload
	// is the id of a changed row (see testdata/notify_trigger.sql).
	NotifyChannel string
	// MaxConns bounds the pool's connections.
	MaxConns int32
}

// Validate reports the first invalid field.
func (c PostgresConfig) Validate() error {
	if c.DSN == "" {
		return errors.New("dsn: must be set")
	}
	if _, err := pgxpool.ParseConfig(c.DSN); err != nil {
		return fmt.Errorf("dsn: %w", err)
	}
	if c.LoadQuery == "" {
		switch {
		case c.Table == "":
			return errors.New("table: must be set (or load-query)")
		case c.KeyColumn == "":
			return errors.New("key-column: must be set (or load-query)")
		case c.ValueColumn == "":
			return errors.New("value-column: must be set (or load-query)")
		}
	}
	if c.MaxConns < 1 {
		return errors.New("max-conns: must be at least 1")
	}
	return nil
}

// queries fills in the queries not given from the table and columns. The
// id is compared as text, so that a key column of any type works.
func (c PostgresConfig) queries() (load, store, del string) {
	load, store, del = c.LoadQuery, c.StoreQuery, c.DeleteQuery
	if c.Table == "" {
		return
	}
	t := pgx.Identifier{c.Table}.Sanitize()
	k := pgx.Identifier{c.KeyColumn}.Sanitize()
	v := pgx.Identifier{c.ValueColumn}.Sanitize()
	if load == "" {
		load = fmt.Sprintf("SELECT %s FROM %s WHERE %s = $1", v, t, k)
	}
	if store == "" {
		store = fmt.Sprintf("INSERT INTO %s (%s, %s) VALUES ($1, $2) ON CONFLICT (%s) DO UPDATE SET %s = EXCLUDED.%s", t, k, v, k, v, v)
	}
	if del == "" {
		del = fmt.Sprintf("DELETE FROM %s WHERE %s = $1", t, k)
	}
	return
}

// Postgres is an origin in a PostgreSQL table, through a pgx pool.
type Postgres struct {
	cfg              PostgresConfig
	pool             *pgxpool.Pool
	load, store, del string
}

// NewPostgres returns an origin for cfg. It connects lazily: a database
// that is down fails calls, not the start.
func NewPostgres(cfg PostgresConfig) (*Postgres, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("dsn: %w", err)
	}
	pc.MaxConns = cfg.MaxConns
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, err
	}
	p := &Postgres{cfg: cfg, pool: pool}
	p.load, p.store, p.del = cfg.queries()
	return p, nil
}

// Load implements Origin.
func (p *Postgres) Load(ctx context.Context, key, id string) ([]byte, error) {
	var val []byte
	err := p.pool.QueryRow(ctx, p.load, id).Scan(&val)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if val == nil {
		val = []byte{}
	}
	return val, nil
}

// Store implements Origin.
func (p *Postgres) Store(ctx context.Context, key, id string, val []byte) error {
	if p.store == "" {
		return errors.New("no store-query configured")
	}
	_, err := p.pool.Exec(ctx, p.store, id, string(val))
	return err
}

// Delete implements Origin.
func (p *Postgres) Delete(ctx context.Context, key, id string) error {
	if p.del == "" {
		return errors.New("no delete-query configured")
	}
	_, err := p.pool.Exec(ctx, p.del, id)
	return err
}

// Close implements Origin.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

// Listen implements Notifier: it LISTENs on the notify channel on a
// connection of its own, reconnecting with backoff, until ctx ends. Changes
// notified while it is disconnected are missed: the rule's TTL bounds how
// long their keys stay stale.
func (p *Postgres) Listen(ctx context.Context, changed func(id string), failed func(error)) {
	if p.cfg.NotifyChannel == "" {
		return
	}
	backoff := 100 * time.Millisecond
	for {
		err := p.listenOnce(ctx, changed)
		if ctx.Err() != nil {
			return
		}
		failed(err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// listenOnce holds one LISTEN connection until it fails or ctx ends.
func (p *Postgres) listenOnce(ctx context.Context, changed func(id string)) error {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{p.cfg.NotifyChannel}.Sanitize()); err != nil {
		return err
	}
	defer func() {
		// Leave the pooled connection clean, or drop it when it is broken.
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := conn.Exec(c, "UNLISTEN *"); err != nil {
			conn.Conn().Close(c)
		}
	}()
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		changed(n.Payload)
	}
}
