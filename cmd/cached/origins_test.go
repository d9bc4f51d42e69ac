package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cached/cached/node/origin"
)

func TestLoadConfigOrigins(t *testing.T) {
	path := writeFile(t, `
port: 7001
serve-stale: yes
origins:
  users: {type: http, url: "http://127.0.0.1:8080/users/{id}", headers: {Authorization: "Bearer x"}}
  pg: {type: postgres, dsn: "postgres://u@127.0.0.1/db", table: users, key-column: id, value-column: data, notify-channel: cached_invalidate}
rules:
  - {pattern: "user:*", origin: users, mode: read-through, ttl: 60s, jitter: 10%, negative-ttl: 5s, timeout: 2s}
  - {pattern: "row:*", origin: pg, mode: write-behind, ttl: 1m}
`)
	c, err := loadConfig([]string{"--config", path}, env(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !c.originEngine.ServeStale {
		t.Error("serve-stale not applied")
	}
	if len(c.origins.rules) != 2 {
		t.Fatalf("rules: %+v", c.origins.rules)
	}
	r := c.origins.rules[0]
	if r.Pattern != "user:*" || r.Mode != origin.ReadThrough || r.TTL != time.Minute || r.Jitter != 0.1 ||
		r.NegativeTTL != 5*time.Second || r.Timeout != 2*time.Second || r.StaleTTL != time.Minute {
		t.Errorf("rule 0: %+v", r)
	}
	if h := c.origins.http["users"]; h.Headers["Authorization"] != "Bearer x" {
		t.Errorf("http origin: %+v", h)
	}
	if p := c.origins.postgres["pg"]; p.Table != "users" || p.NotifyChannel != "cached_invalidate" {
		t.Errorf("postgres origin: %+v", p)
	}
	if c.origins.rules[1].Mode != origin.WriteBehind || c.origins.rules[1].Timeout != 5*time.Second {
		t.Errorf("rule 1: %+v", c.origins.rules[1])
	}
}

func TestLoadConfigOriginErrors(t *testing.T) {
	const users = "origins:\n  users: {type: http, url: \"http://h/u/{id}\"}\n"
	tests := []struct{ name, file, want string }{
		{"type", "origins:\n  x: {type: ftp}\n", "origins.x.type: want http or postgres"},
		{"url", "origins:\n  x: {type: http, url: \"ftp://h/{id}\"}\n", "origins.x.url:"},
		{"dsn", "origins:\n  x: {type: postgres, table: t, key-column: k, value-column: v}\n", "origins.x.dsn: must be set"},
		{"table", "origins:\n  x: {type: postgres, dsn: \"postgres://h/db\"}\n", "origins.x.table: must be set"},
		{"mode", users + "rules:\n  - {pattern: \"u:*\", origin: users, mode: read-around}\n", "rules[0].mode:"},
		{"ttl", users + "rules:\n  - {pattern: \"u:*\", origin: users, mode: read-through, ttl: soon}\n", "rules[0].ttl: \"soon\" is not a duration"},
		{"jitter", users + "rules:\n  - {pattern: \"u:*\", origin: users, mode: read-through, ttl: 1s, jitter: 150%}\n", "rules[0].jitter: must be 0%..100%"},
		{"jitter unit", users + "rules:\n  - {pattern: \"u:*\", origin: users, mode: read-through, ttl: 1s, jitter: 0.1}\n", "rules[0].jitter: \"0.1\" is not a percentage"},
		{"origin", users + "rules:\n  - {pattern: \"u:*\", origin: nobody, mode: read-through}\n", "rules[0].origin: no origin named \"nobody\""},
		{"pattern", users + "rules:\n  - {origin: users, mode: read-through}\n", "rules[0].pattern: must be set"},
		{"shape", "rules: {pattern: x}\n", "origins/rules:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig([]string{"--config", writeFile(t, tt.file)}, env(), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := loadConfig([]string{"--origin-breaker-failures", "0"}, env(), io.Discard); err == nil {
		t.Error("origin-breaker-failures 0 accepted")
	}
}

// TestReadThroughMetrics runs the program with a read-through rule against
// an httptest origin and checks the reply and the origin series.
func TestReadThroughMetrics(t *testing.T) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/users/7" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		io.WriteString(w, "seven")
	}))
	defer o.Close()
	path := writeFile(t, "origins:\n  users: {type: http, url: \""+o.URL+"/users/{id}\"}\n"+
		"rules:\n  - {pattern: \"user:*\", origin: users, mode: read-through, ttl: 60s, negative-ttl: 5s}\n")
	p := startRun(t, false, "--config", path)
	p.waitStatus(t, "/readyz", http.StatusOK, 5*time.Second)
	c := dialRESP(t, p.port)
	if got := c.do(t, "GET user:7"); got != "seven" {
		t.Fatalf("GET user:7: %q", got)
	}
	if got := c.do(t, "GET user:8"); got != "$-1" {
		t.Fatalf("GET user:8: %q", got)
	}
	m := p.scrape(t)
	for k, want := range map[string]float64{
		`cached_origin_loads_total{result="ok",rule="user:*"}`:     1,
		`cached_origin_loads_total{result="absent",rule="user:*"}`: 1,
		`cached_origin_load_duration_seconds_count{rule="user:*"}`: 2,
		`cached_origin_errors_total{rule="user:*"}`:                0,
		`cached_origin_breaker_open{origin="users"}`:               0,
		`cached_writebehind_queue_depth`:                           0,
		`cached_writebehind_oldest_age_seconds`:                    0,
	} {
		if got, ok := m[k]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, want)
		}
	}
}
