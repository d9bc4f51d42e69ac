package resp

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cached/cached/node/glob"
	"github.com/cached/cached/node/store"
)

// ParseMemory parses a redis.conf memory amount: a byte count with an
// optional unit k, kb, m, mb, g, gb (k = 1000, kb = 1024), any case.
func ParseMemory(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"g", 1e9}, {"m", 1e6}, {"k", 1e3}, {"b", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("invalid memory amount %q (want a byte count such as 100mb or 2gb)", s)
	}
	return n * mult, nil
}

// param is a configuration parameter CONFIG GET and CONFIG SET know.
type param struct {
	name string
	get  func(s *Server) string
	// set validates v and returns the change to make, without making it,
	// so that CONFIG SET can check every value before applying any. It is
	// nil for parameters fixed at start.
	set func(s *Server, v string) (apply func(), err error)
}

// Errors CONFIG SET reports for bad values, as Redis words them.
var (
	errNotMemory  = errors.New("argument must be a memory value")
	errNotInteger = errors.New("argument couldn't be parsed into an integer")
	errPolicy     = errors.New("argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction")
)

// parseIntParam parses an integer parameter value in [lo, hi].
func parseIntParam(v string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, errNotInteger
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("argument must be between %d and %d inclusive", lo, hi)
	}
	return n, nil
}

// staticDefaults are parameters clients and tools commonly ask about whose
// value is fixed in cached; cmd/cached may override them through
// Config.Settings (port, bind, dir, ...).
var staticDefaults = map[string]string{
	"port": "6379", "bind": "127.0.0.1", "save": "", "appendonly": "no", "appendfsync": "everysec",
	"databases": "1", "dir": "", "dbfilename": "dump.rdb", "tcp-keepalive": "300", "hz": "10",
	"lfu-log-factor": "10", "lfu-decay-time": "1", "notify-keyspace-events": "",
	"cluster-enabled": "no", "protected-mode": "no", "io-threads": "1", "daemonize": "no",
	"loglevel": "notice", "logfile": "",
	"lazyfree-lazy-eviction": "no", "lazyfree-lazy-expire": "no", "lazyfree-lazy-user-del": "no",
	"maxmemory-clients": "0", "active-expire-effort": "1", "replica-read-only": "yes",
	"stop-writes-on-bgsave-error": "yes", "tcp-backlog": "511", "unixsocket": "",
	"aclfile": "", "acllog-max-len": "128",
	// TLS and gossip encryption (cmd/cached/security.go); tls-port "" is off.
	"tls-port": "", "tls-cert-file": "", "tls-key-file": "", "tls-ca-cert-file": "", "tls-auth-clients": "yes",
	"tls-cluster": "no", "tls-grpc": "no", "gossip-key-file": "",
}

// params returns the table of parameters, sorted by name.
func params() []param {
	ps := []param{
		{name: "maxmemory",
			get: func(s *Server) string { return strconv.FormatInt(s.node.MaxMemory(), 10) },
			set: func(s *Server, v string) (func(), error) {
				n, err := ParseMemory(v)
				if err != nil {
					return nil, errNotMemory
				}
				return func() { s.node.SetMaxMemory(n) }, nil
			}},
		{name: "maxmemory-policy",
			get: func(s *Server) string { return s.node.Policy().String() },
			set: func(s *Server, v string) (func(), error) {
				p, err := store.ParsePolicy(strings.ToLower(v))
				if err != nil {
					return nil, errPolicy
				}
				return func() { s.node.SetPolicy(p) }, nil
			}},
		{name: "maxmemory-samples",
			get: func(s *Server) string { return strconv.Itoa(s.node.Samples()) },
			set: func(s *Server, v string) (func(), error) {
				n, err := parseIntParam(v, 1, 64)
				if err != nil {
					return nil, err
				}
				return func() { s.node.SetSamples(int(n)) }, nil
			}},
		{name: "requirepass",
			get: func(s *Server) string { return *s.requirePass.Load() },
			set: func(s *Server, v string) (func(), error) {
				return func() { s.requirePass.Store(&v); s.users.SetDefaultPassword(v) }, nil
			}},
		{name: "maxclients",
			get: func(s *Server) string { return strconv.FormatInt(s.maxClients.Load(), 10) },
			set: func(s *Server, v string) (func(), error) {
				n, err := parseIntParam(v, 1, math.MaxUint32)
				if err != nil {
					return nil, err
				}
				return func() { s.maxClients.Store(n) }, nil
			}},
		{name: "timeout",
			get: func(s *Server) string { return strconv.FormatInt(s.idleTimeout.Load()/int64(time.Second), 10) },
			set: func(s *Server, v string) (func(), error) {
				n, err := parseIntParam(v, 0, math.MaxInt32)
				if err != nil {
					return nil, err
				}
				return func() { s.idleTimeout.Store(n * int64(time.Second)) }, nil
			}},
		{name: "proto-max-bulk-len", get: func(s *Server) string { return strconv.Itoa(s.limits.MaxBulkLen) }},
		{name: "client-query-buffer-limit", get: func(s *Server) string { return strconv.Itoa(s.limits.MaxQueryBuffer) }},
		{name: "client-output-buffer-limit", get: func(s *Server) string {
			return "normal " + strconv.FormatInt(s.outputLimit, 10) + " 0 0 pubsub " + strconv.FormatInt(s.pubsubLimit, 10) + " 0 0"
		}},
	}
	ps = append(ps, observabilityParams()...)
	known := make(map[string]bool, len(ps))
	for _, p := range ps {
		known[p.name] = true
	}
	for name := range staticDefaults {
		if !known[name] {
			ps = append(ps, param{name: name, get: func(s *Server) string {
				if v, ok := s.settings[name]; ok {
					return v
				}
				return staticDefaults[name]
			}})
		}
	}
	slices.SortFunc(ps, func(a, b param) int { return strings.Compare(a.name, b.name) })
	return ps
}

// configParams is the parameter table; it is never modified.
var configParams = params()

func findParam(name string) *param {
	for i := range configParams {
		if configParams[i].name == name {
			return &configParams[i]
		}
	}
	return nil
}

func cmdConfigGet(c *Client, args [][]byte) {
	var names []string
	seen := map[string]bool{}
	for _, a := range args[2:] {
		pat := strings.ToLower(string(a))
		for _, p := range configParams {
			if !seen[p.name] && glob.Match(pat, p.name) {
				seen[p.name] = true
				names = append(names, p.name)
			}
		}
	}
	c.mapHeader(len(names))
	for _, n := range names {
		c.bulkString(n)
		c.bulkString(findParam(n).get(c.srv))
	}
}

// cmdConfigSet sets several parameters atomically, as Redis 7 does: it
// checks every name and value first, so a bad one changes nothing, then
// applies them in order.
func cmdConfigSet(c *Client, args [][]byte) {
	if len(args)%2 != 0 {
		c.wrongArity("config|set")
		return
	}
	var todo []*param
	for i := 2; i < len(args); i += 2 {
		name := strings.ToLower(string(args[i]))
		p := findParam(name)
		if p == nil {
			c.errorReply("ERR Unknown option or number of arguments for CONFIG SET - '" + truncate(args[i]) + "'")
			return
		}
		if p.set == nil {
			c.errorReply("ERR CONFIG SET failed (possibly related to argument '" + truncate(args[i]) + "') - can't set immutable config")
			return
		}
		if slices.Contains(todo, p) {
			c.errorReply("ERR CONFIG SET failed (possibly related to argument '" + truncate(args[i]) + "') - duplicate parameter")
			return
		}
		todo = append(todo, p)
	}
	apply := make([]func(), len(todo))
	for j, p := range todo {
		fn, err := p.set(c.srv, string(args[2+2*j+1]))
		if err != nil {
			c.errorReply("ERR CONFIG SET failed (possibly related to argument '" + p.name + "') - " + err.Error())
			return
		}
		apply[j] = fn
	}
	for _, fn := range apply {
		fn()
	}
	c.ok()
}

func cmdConfigResetStat(c *Client, _ [][]byte) {
	c.srv.node.ResetStats()
	c.srv.resetStats()
	c.srv.stats.reset()
	c.ok()
}
