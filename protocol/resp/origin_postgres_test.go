package resp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/cached/cached/node/origin"
)

// pgTable creates a table of its own for one test (id int key, data text)
// with the NOTIFY trigger of node/origin/testdata installed on it, and
// returns a connection, the table and its channel.
func pgTable(t *testing.T) (*pgx.Conn, string, string, string) {
	t.Helper()
	dsn := os.Getenv("CACHED_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("CACHED_TEST_POSTGRES not set: no PostgreSQL to test against (.ci/run starts one)")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	trigger, err := os.ReadFile("../../node/origin/testdata/notify_trigger.sql")
	if err != nil {
		t.Fatal(err)
	}
	suffix := fmt.Sprintf("%d_%d", os.Getpid(), rand.Uint32())
	table, channel := "cached_test_"+suffix, "cached_inv_"+suffix
	for _, q := range []string{
		"SELECT pg_advisory_lock(4242)", // concurrent test processes install the function one at a time
		string(trigger),
		"SELECT pg_advisory_unlock(4242)",
		"CREATE TABLE " + table + " (id int PRIMARY KEY, data text NOT NULL)",
		"CREATE TRIGGER notify_cached AFTER INSERT OR UPDATE OR DELETE ON " + table +
			" FOR EACH ROW EXECUTE FUNCTION cached_notify('" + channel + "', 'id')",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() { conn.Exec(context.Background(), "DROP TABLE "+table) })
	return conn, dsn, table, channel
}

// pgEngine returns an engine with one PostgreSQL origin "pg" on table for
// keys "row:*" in mode.
func pgEngine(t *testing.T, dsn, table, channel string, mode origin.Mode, queueDir string) *origin.Engine {
	t.Helper()
	p, err := origin.NewPostgres(origin.PostgresConfig{DSN: dsn, Table: table, KeyColumn: "id", ValueColumn: "data", NotifyChannel: channel, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	cfg := origin.DefaultConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Rules = []origin.Rule{{Pattern: "row:*", Origin: "pg", Mode: mode, TTL: time.Hour, NegativeTTL: time.Hour, Timeout: 5 * time.Second}}
	cfg.Queue.Dir = queueDir
	cfg.Queue.RetryMin, cfg.Queue.RetryMax = 10*time.Millisecond, 50*time.Millisecond
	e, err := origin.New(cfg, map[string]origin.Origin{"pg": p})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestPostgresReadThroughAndNotify(t *testing.T) {
	conn, dsn, table, channel := pgTable(t)
	ctx := t.Context()
	if _, err := conn.Exec(ctx, "INSERT INTO "+table+" VALUES (1, 'alice')"); err != nil {
		t.Fatal(err)
	}
	_, rc := startOriginServer(t, pgEngine(t, dsn, table, channel, origin.ReadThrough, ""))
	if v, err := rc.Get(ctx, "row:1").Result(); err != nil || v != "alice" {
		t.Fatalf("GET row:1: %q, %v", v, err)
	}
	if err := rc.Get(ctx, "row:2").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET row:2: %v, want nil", err)
	}
	// Changes made in SQL reach the cache through NOTIFY: the UPDATE is
	// repeated until the listener, which starts in the background, is in
	// place.
	checkFor(t, 10*time.Second, func() error {
		if _, err := conn.Exec(ctx, "UPDATE "+table+" SET data = 'alicia' WHERE id = 1"); err != nil {
			return err
		}
		if v, err := rc.Get(ctx, "row:1").Result(); err != nil || v != "alicia" {
			return fmt.Errorf("GET row:1 after UPDATE: %q, %v", v, err)
		}
		return nil
	})
	// An INSERT drops the negative-cached absence.
	if _, err := conn.Exec(ctx, "INSERT INTO "+table+" VALUES (2, 'bob')"); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, func() error {
		if v, err := rc.Get(ctx, "row:2").Result(); err != nil || v != "bob" {
			return fmt.Errorf("GET row:2 after INSERT: %q, %v", v, err)
		}
		return nil
	})
}

func TestPostgresWriteThrough(t *testing.T) {
	conn, dsn, table, channel := pgTable(t)
	ctx := t.Context()
	_, rc := startOriginServer(t, pgEngine(t, dsn, table, channel, origin.WriteThrough, ""))
	if err := rc.Set(ctx, "row:5", "five", 0).Err(); err != nil {
		t.Fatal(err)
	}
	var data string
	if err := conn.QueryRow(ctx, "SELECT data FROM "+table+" WHERE id = 5").Scan(&data); err != nil || data != "five" {
		t.Fatalf("row 5: %q, %v", data, err)
	}
	if v := rc.Get(ctx, "row:5").Val(); v != "five" {
		t.Fatalf("GET row:5: %q", v)
	}
	// The origin refuses a key that is not an int: the cache is unchanged.
	if err := rc.Set(ctx, "row:x", "bad", 0).Err(); err == nil {
		t.Fatal("SET row:x accepted")
	}
	if n := rc.Exists(ctx, "row:x").Val(); n != 0 {
		t.Fatal("refused SET changed the cache")
	}
	if err := rc.Del(ctx, "row:5").Err(); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT data FROM "+table+" WHERE id = 5").Scan(&data); !errors.Is(err, pgx.ErrNoRows) {
		t.Fatalf("row 5 after DEL: %q, %v", data, err)
	}
}

func TestPostgresWriteBehindRestart(t *testing.T) {
	conn, dsn, table, channel := pgTable(t)
	ctx := t.Context()
	dir := t.TempDir()
	// First run: the database is unreachable (a closed port), so the
	// writes stay queued.
	down := pgEngine(t, "postgres://nobody@127.0.0.1:1/none?connect_timeout=1", table, channel, origin.WriteBehind, dir)
	ts, rc := startOriginServer(t, down)
	for _, v := range []string{"a", "b", "c"} {
		if err := rc.Set(ctx, "row:9", v, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rc.Set(ctx, "row:10", "ten", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if d := down.Stats().Queue.Depth; d != 2 {
		t.Fatalf("depth %d, want 2 (coalesced)", d)
	}
	ts.srv.Close()
	ts.node.Close()
	// Second run, database up: the queue is replayed and delivered.
	up := pgEngine(t, dsn, table, channel, origin.WriteBehind, dir)
	startOriginServer(t, up)
	checkFor(t, 10*time.Second, func() error {
		rows, err := conn.Query(ctx, "SELECT id, data FROM "+table+" ORDER BY id")
		if err != nil {
			return err
		}
		got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
			var id int
			var data string
			err := r.Scan(&id, &data)
			return fmt.Sprintf("%d=%s", id, data), err
		})
		if err != nil {
			return err
		}
		if fmt.Sprint(got) != "[9=c 10=ten]" {
			return fmt.Errorf("rows %v, want [9=c 10=ten]", got)
		}
		if d := up.Stats().Queue.Depth; d != 0 {
			return fmt.Errorf("depth %d", d)
		}
		return nil
	})
}

// TestPostgresNotifyCluster checks that a change made in SQL removes every
// copy of the key in a cluster: the owner's and its replica's, whichever
// node the key was read through.
func TestPostgresNotifyCluster(t *testing.T) {
	conn, dsn, table, channel := pgTable(t)
	ctx := t.Context()
	if _, err := conn.Exec(ctx, "INSERT INTO "+table+" VALUES (1, 'alice')"); err != nil {
		t.Fatal(err)
	}
	tc := startClusterWith(t, 3, nil, func(_ string, c *Config) {
		c.Origins = pgEngine(t, dsn, table, channel, origin.ReadThrough, "")
	})
	nodes := tc.live()
	copies := func() int {
		n := 0
		for _, cn := range nodes {
			if cn.node.Exists([]byte("row:1")) {
				n++
			}
		}
		return n
	}
	for _, cn := range nodes {
		rc := cn.client(t, 2)
		if v, err := rc.Get(ctx, "row:1").Result(); err != nil || v != "alice" {
			t.Fatalf("GET row:1 through %s: %q, %v", cn.name, v, err)
		}
	}
	checkFor(t, 10*time.Second, func() error {
		if n := copies(); n != 2 {
			return fmt.Errorf("%d copies of row:1, want 2 (primary and replica)", n)
		}
		return nil
	})
	checkFor(t, 10*time.Second, func() error {
		if _, err := conn.Exec(ctx, "UPDATE "+table+" SET data = 'alicia' WHERE id = 1"); err != nil {
			return err
		}
		if n := copies(); n != 0 {
			return fmt.Errorf("%d copies of row:1 left after the UPDATE", n)
		}
		return nil
	})
	if v, err := nodes[1].client(t, 2).Get(ctx, "row:1").Result(); err != nil || v != "alicia" {
		t.Fatalf("GET row:1 after the UPDATE: %q, %v", v, err)
	}
}
