package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cached/cached/node/origin"
)

// The config file's origins and rules, beside the flat settings:
//
//	origins:
//	  users: {type: http, url: "http://users/users/{id}", headers: {Authorization: "Bearer x"}}
//	  pg: {type: postgres, dsn: "postgres://...", table: users, key-column: id, value-column: data, notify-channel: cached_invalidate}
//	rules:
//	  - {pattern: "user:*", origin: users, mode: read-through, ttl: 60s, jitter: 10%, negative-ttl: 5s, timeout: 2s}
//
// They exist only in the file: a list does not fit a flag or a variable.

// originSpec is one entry of the file's origins map.
type originSpec struct {
	Type    string            `yaml:"type"`
	URL     string            `yaml:"url"`
	Headers map[string]string `yaml:"headers"`
	MaxBody string            `yaml:"max-body"`

	DSN           string `yaml:"dsn"`
	Table         string `yaml:"table"`
	KeyColumn     string `yaml:"key-column"`
	ValueColumn   string `yaml:"value-column"`
	LoadQuery     string `yaml:"load-query"`
	StoreQuery    string `yaml:"store-query"`
	DeleteQuery   string `yaml:"delete-query"`
	NotifyChannel string `yaml:"notify-channel"`
	MaxConns      int32  `yaml:"max-conns"`
}

// ruleSpec is one entry of the file's rules list.
type ruleSpec struct {
	Pattern     string `yaml:"pattern"`
	Origin      string `yaml:"origin"`
	Mode        string `yaml:"mode"`
	TTL         string `yaml:"ttl"`
	Jitter      string `yaml:"jitter"`
	NegativeTTL string `yaml:"negative-ttl"`
	Timeout     string `yaml:"timeout"`
	StaleTTL    string `yaml:"stale-ttl"`
}

// originsFile is the structured part of the config file.
type originsFile struct {
	Origins map[string]originSpec `yaml:"origins"`
	Rules   []ruleSpec            `yaml:"rules"`
}

// originsConfig is what the file's origins and rules parse to.
type originsConfig struct {
	http     map[string]origin.HTTPConfig
	postgres map[string]origin.PostgresConfig
	rules    []origin.Rule
}

// structuredKeys are the config file keys that are not flat settings.
var structuredKeys = map[string]bool{"origins": true, "rules": true}

// readOrigins parses the origins and rules of the config file at path;
// errors name the entry and the field.
func readOrigins(path string) (originsConfig, error) {
	var oc originsConfig
	b, err := os.ReadFile(path)
	if err != nil {
		return oc, fmt.Errorf("config file: %w", err)
	}
	var f originsFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		return oc, fmt.Errorf("config file %s: origins/rules: %v", path, err)
	}
	oc, err = parseOrigins(f)
	if err != nil {
		return oc, fmt.Errorf("config file %s: %w", path, err)
	}
	return oc, nil
}

// parseOrigins checks and converts the file's origins and rules.
func parseOrigins(f originsFile) (originsConfig, error) {
	oc := originsConfig{http: map[string]origin.HTTPConfig{}, postgres: map[string]origin.PostgresConfig{}}
	for name, s := range f.Origins {
		where := "origins." + name
		switch s.Type {
		case "http":
			hc := origin.HTTPConfig{URL: s.URL, Headers: s.Headers, MaxBody: 16 << 20}
			if s.MaxBody != "" {
				n, err := strconv.ParseInt(s.MaxBody, 10, 64)
				if err != nil {
					return oc, fmt.Errorf("%s.max-body: %q is not a number of bytes", where, s.MaxBody)
				}
				hc.MaxBody = n
			}
			if err := hc.Validate(); err != nil {
				return oc, fmt.Errorf("%s.%w", where, err)
			}
			oc.http[name] = hc
		case "postgres":
			pc := origin.PostgresConfig{DSN: s.DSN, Table: s.Table, KeyColumn: s.KeyColumn, ValueColumn: s.ValueColumn,
				LoadQuery: s.LoadQuery, StoreQuery: s.StoreQuery, DeleteQuery: s.DeleteQuery,
				NotifyChannel: s.NotifyChannel, MaxConns: s.MaxConns}
			if pc.MaxConns == 0 {
				pc.MaxConns = 8
			}
			if err := pc.Validate(); err != nil {
				return oc, fmt.Errorf("%s.%w", where, err)
			}
			oc.postgres[name] = pc
		default:
			return oc, fmt.Errorf("%s.type: want http or postgres, got %q", where, s.Type)
		}
	}
	for i, s := range f.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		r := origin.Rule{Pattern: s.Pattern, Origin: s.Origin, Timeout: 5 * time.Second}
		var err error
		if r.Mode, err = origin.ParseMode(s.Mode); err != nil {
			return oc, fmt.Errorf("%s.mode: %w", where, err)
		}
		for _, d := range []struct {
			name, v string
			to      *time.Duration
		}{{"ttl", s.TTL, &r.TTL}, {"negative-ttl", s.NegativeTTL, &r.NegativeTTL}, {"timeout", s.Timeout, &r.Timeout}, {"stale-ttl", s.StaleTTL, &r.StaleTTL}} {
			if d.v == "" {
				continue
			}
			if *d.to, err = time.ParseDuration(d.v); err != nil {
				return oc, fmt.Errorf("%s.%s: %q is not a duration (e.g. 60s, 500ms)", where, d.name, d.v)
			}
		}
		if r.StaleTTL == 0 {
			r.StaleTTL = r.TTL
		}
		if s.Jitter != "" {
			p, err := strconv.ParseFloat(strings.TrimSuffix(s.Jitter, "%"), 64)
			if err != nil || !strings.HasSuffix(s.Jitter, "%") {
				return oc, fmt.Errorf("%s.jitter: %q is not a percentage (e.g. 10%%)", where, s.Jitter)
			}
			r.Jitter = p / 100
		}
		if err := r.Validate(); err != nil {
			return oc, fmt.Errorf("%s.%w", where, err)
		}
		if _, ok := oc.http[r.Origin]; !ok {
			if _, ok := oc.postgres[r.Origin]; !ok {
				return oc, fmt.Errorf("%s.origin: no origin named %q in origins", where, r.Origin)
			}
		}
		oc.rules = append(oc.rules, r)
	}
	return oc, nil
}

// newOrigins returns the origin engine for c's rules, nil when there are
// none. The write-behind queue lives in the data dir when there is one.
func newOrigins(c *config, logger *slog.Logger) (*origin.Engine, error) {
	if len(c.origins.rules) == 0 {
		return nil, nil
	}
	origins := map[string]origin.Origin{}
	closeAll := func() {
		for _, o := range origins {
			o.Close()
		}
	}
	for name, hc := range c.origins.http {
		h, err := origin.NewHTTP(hc)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("origins.%s: %w", name, err)
		}
		origins[name] = h
	}
	for name, pc := range c.origins.postgres {
		p, err := origin.NewPostgres(pc)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("origins.%s: %w", name, err)
		}
		origins[name] = p
	}
	ec := c.originEngine
	ec.Rules = c.origins.rules
	ec.Logger = logger
	ec.Queue.Dir = c.persist.Dir
	e, err := origin.New(ec, origins)
	if err != nil {
		closeAll()
		return nil, err
	}
	return e, nil
}

// originSettings are the flat settings of the origin engine.
var originSettings = []setting{
	{"serve-stale", "no", "serve a key of an origin rule up to its stale-ttl past its ttl while one background load refreshes it (yes/no)", func(c *config, v string) error {
		b, err := parseYesNo(v)
		c.originEngine.ServeStale = b
		return err
	}},
	{"origin-breaker-failures", "5", "origin calls failing in a row that open the origin's circuit breaker", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		c.originEngine.Breaker.Failures = n
		if err != nil || n < 1 {
			return errors.New("must be a whole number of at least 1")
		}
		return nil
	}},
	{"origin-breaker-cooldown", "5s", "how long an open circuit breaker refuses calls before a probe", func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		c.originEngine.Breaker.Cooldown = d
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration, e.g. 5s")
		}
		return nil
	}},
	{"writebehind-max-depth", "1048576", "keys the write-behind queue may hold; writes of further keys fail", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		c.originEngine.Queue.MaxDepth = n
		if err != nil || n < 1 {
			return errors.New("must be a whole number of at least 1")
		}
		return nil
	}},
}
