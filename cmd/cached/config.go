package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cached/cached/node"
	"github.com/cached/cached/node/origin"
	"github.com/cached/cached/node/store"
	"github.com/cached/cached/persistence"
	"github.com/cached/cached/protocol/resp"
)

// config is everything cached is started with.
type config struct {
	node     node.Config
	resp     resp.Config
	logLevel slog.Level
	logJSON  bool
	// persist is used when dir is set.
	persist node.PersistenceConfig
	// clustered is set by cluster-enabled or join; cluster is then used.
	clustered bool
	cluster   node.ClusterConfig
	// adminAddr is where the admin HTTP server listens; empty: no server.
	adminAddr string
	// settings are the raw values by name, for CONFIG GET.
	settings map[string]string
	// protectedMode refuses to start on a non-loopback address without
	// authentication (see auth.go).
	protectedMode bool
	// origins are the config file's origin rules; originEngine the
	// engine's flat settings (see origins.go).
	origins      originsConfig
	originEngine origin.Config
	// security is TLS and gossip encryption (security.go).
	security security
	// otelEndpoint is where spans are exported; empty: tracing off.
	otelEndpoint string
}

// setting is one configuration value: its redis.conf-style name (also the
// flag name, the YAML key, and CACHED_<NAME> in the environment), its
// default, its help, and how it applies to the config.
type setting struct {
	name  string
	def   string
	usage string
	apply func(c *config, v string) error
}

var settings = append([]setting{
	{"bind", "127.0.0.1", "address to listen on for Redis clients", func(c *config, v string) error {
		if v != "" && net.ParseIP(v) == nil && v != "localhost" {
			return errors.New("not an IP address")
		}
		return nil
	}},
	{"port", "6379", "TCP port for Redis clients (0 picks a free port; empty: none, only tls-port)", func(c *config, v string) error {
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			return errors.New("must be a port number 0..65535")
		}
		return nil
	}},
	{"grpc-port", "6380", "TCP port for gRPC clients: cache.v1.Cache, health, reflection (0 picks a free port)", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			return errors.New("must be a port number 0..65535")
		}
		return nil
	}},
	{"tls-port", "", "TCP port for Redis clients over TLS (empty: none; 0 picks a free port)", func(c *config, v string) error {
		c.security.tlsPort = v
		return parseTLSPort(v)
	}},
	{"tls-cert-file", "", "PEM certificate (chain) served by tls-port, tls-grpc and tls-cluster; re-read when it changes", func(c *config, v string) error {
		c.security.certFile = v
		return nil
	}},
	{"tls-key-file", "", "PEM private key of tls-cert-file; re-read when it changes", func(c *config, v string) error {
		c.security.keyFile = v
		return nil
	}},
	{"tls-ca-cert-file", "", "PEM CA bundle that client and peer certificates must chain to; re-read when it changes", func(c *config, v string) error {
		c.security.caFile = v
		return nil
	}},
	{"tls-auth-clients", "yes", "client certificates on tls-port and tls-grpc: yes (required), optional (checked when sent), no", func(c *config, v string) error {
		a, err := parseClientAuth(v)
		c.security.clientAuth = a
		return err
	}},
	{"tls-cluster", "no", "peer links between nodes over mutual TLS (yes/no); other nodes are told the tls-port", func(c *config, v string) error {
		b, err := parseYesNo(v)
		c.security.cluster = b
		return err
	}},
	{"tls-grpc", "no", "serve gRPC over TLS on grpc-port (yes/no), client certificates as tls-auth-clients", func(c *config, v string) error {
		b, err := parseYesNo(v)
		c.security.grpc = b
		return err
	}},
	{"gossip-key", "", "base64 AES key (16, 24 or 32 bytes) encrypting gossip; nodes without it are not admitted", func(c *config, v string) error {
		c.security.gossipKey = v
		return nil
	}},
	{"gossip-key-file", "", "file of base64 gossip keys, one a line: the first encrypts, all decrypt; re-read when it changes, for rotation", func(c *config, v string) error {
		c.security.gossipKeyFile = v
		return nil
	}},
	{"maxmemory", "0", "memory limit for data, e.g. 100mb or 2gb (0: no limit)", func(c *config, v string) error {
		n, err := resp.ParseMemory(v)
		c.node.Store.MaxMemory = n
		return err
	}},
	{"maxmemory-policy", "allkeys-lfu", "what to evict at maxmemory: noeviction, allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu, volatile-ttl, volatile-random", func(c *config, v string) error {
		p, err := store.ParsePolicy(strings.ToLower(v))
		c.node.Store.Policy = p
		return err
	}},
	{"maxmemory-samples", "5", "keys sampled per eviction (1..64)", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			return errors.New("must be an integer 1..64")
		}
		c.node.Store.Samples = n
		return nil
	}},
	{"requirepass", "", "password clients must AUTH with (empty: none)", func(c *config, v string) error {
		c.resp.RequirePass = v
		return nil
	}},
	{"requirepass-file", "", "file holding the password clients must AUTH with, e.g. a mounted Kubernetes Secret (one trailing newline is ignored); instead of requirepass", func(c *config, v string) error {
		if v == "" {
			return nil
		}
		if c.resp.RequirePass != "" {
			return errors.New("set requirepass or requirepass-file, not both")
		}
		pass, err := readPasswordFile(v)
		c.resp.RequirePass = pass
		return err
	}},
	{"aclfile", "", "file of ACL users, one \"user <name> <rules>\" per line, loaded at start; ACL LOAD rereads it, ACL SAVE rewrites it", func(c *config, v string) error {
		c.resp.ACLFile = v
		return nil
	}},
	{"protected-mode", "yes", "refuse to start when bound to a non-loopback address while clients need no password (yes/no)", func(c *config, v string) error {
		b, err := parseYesNo(v)
		c.protectedMode = b
		return err
	}},
	{"maxclients", "10000", "maximum simultaneous client connections", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errors.New("must be a positive integer")
		}
		c.resp.MaxClients = n
		return nil
	}},
	{"timeout", "0", "close clients idle for this many seconds (0: never)", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errors.New("must be a non-negative number of seconds")
		}
		c.resp.IdleTimeout = time.Duration(n) * time.Second
		return nil
	}},
	{"slowlog-log-slower-than", "10000", "log commands that run at least this many microseconds in SLOWLOG (-1: never, 0: every command)", func(c *config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < -1 || n > 1<<40 {
			return errors.New("must be an integer of microseconds, -1 or more")
		}
		c.resp.SlowlogSlowerThan = time.Duration(n) * time.Microsecond
		return nil
	}},
	{"slowlog-max-len", "128", "SLOWLOG entries kept", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errors.New("must be a non-negative integer")
		}
		c.resp.SlowlogMaxLen = n
		return nil
	}},
	{"latency-monitor-threshold", "0", "record LATENCY spikes of at least this many milliseconds (0: off)", func(c *config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > 1<<40 {
			return errors.New("must be a non-negative integer of milliseconds")
		}
		c.resp.LatencyMonitorThreshold = time.Duration(n) * time.Millisecond
		return nil
	}},
	{"otel-endpoint", "", "OpenTelemetry collector to send command traces to: host:port for OTLP/gRPC, or an http(s):// URL for OTLP/HTTP (empty: tracing off)", func(c *config, v string) error {
		c.otelEndpoint = v
		return checkEndpoint(v)
	}},
	{"otel-sample-ratio", "0.01", "share of commands traced when otel-endpoint is set (0..1)", func(c *config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f >= 0 && f <= 1) {
			return errors.New("must be a number from 0 to 1")
		}
		c.resp.TraceSampleRatio = f
		return nil
	}},
	{"proto-max-bulk-len", "512mb", "largest bulk string a client may send", func(c *config, v string) error {
		n, err := resp.ParseMemory(v)
		if err == nil && (n < 1 || n > 1<<40) {
			err = errors.New("must be between 1 byte and 1tb")
		}
		c.resp.Limits.MaxBulkLen = int(n)
		return err
	}},
	{"client-query-buffer-limit", "1gb", "most unprocessed input buffered per client", func(c *config, v string) error {
		n, err := resp.ParseMemory(v)
		if err == nil && (n < 1<<20 || n > 1<<40) {
			err = errors.New("must be between 1mb and 1tb")
		}
		c.resp.Limits.MaxQueryBuffer = int(n)
		return err
	}},
	{"client-output-buffer-limit", "normal 0 0 0 pubsub 32mb 8mb 60", "output limits per client class, as redis.conf: groups of \"<class> <hard> <soft> <seconds>\", class normal or pubsub; a client whose unsent replies pass its class's hard limit is disconnected (0: no limit; only the hard limit is enforced)", applyOutputLimits},
	{"proto-max-multibulk-len", "1048576", "most arguments one command may have (checked before any is read)", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1<<30 {
			return errors.New("must be an integer 1..1073741824")
		}
		c.resp.Limits.MaxArgs = n
		return nil
	}},
	{"proto-inline-max-size", "64kb", "longest inline (telnet-style) command line", func(c *config, v string) error {
		n, err := resp.ParseMemory(v)
		if err == nil && (n < 64 || n > 1<<30) {
			err = errors.New("must be between 64 bytes and 1gb")
		}
		c.resp.Limits.MaxInlineLen = int(n)
		return err
	}},
	{"cluster-peer-max-inflight", "10000", "most requests pending on one link to another node; beyond it a forwarded command is retried a few times, then fails", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1<<20 {
			return errors.New("must be an integer 1..1048576")
		}
		c.cluster.Peer.MaxInFlight = n
		return nil
	}},
	{"cluster-peer-timeout", "5000", "milliseconds a request to another node may take before it fails (and its link is redialed)", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3600_000 {
			return errors.New("must be a number of milliseconds 1..3600000")
		}
		c.cluster.Peer.CallTimeout = time.Duration(n) * time.Millisecond
		return nil
	}},
	{"io-threads", "0", "event loops serving clients (0: half the cores, at least 1)", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1024 {
			return errors.New("must be an integer 0..1024")
		}
		c.resp.IOThreads = n
		return nil
	}},
	{"loglevel", "info", "log level: debug, info, warn, error (or Redis's verbose, notice, warning)", func(c *config, v string) error {
		switch strings.ToLower(v) {
		case "debug", "verbose":
			c.logLevel = slog.LevelDebug
		case "info", "notice":
			c.logLevel = slog.LevelInfo
		case "warn", "warning":
			c.logLevel = slog.LevelWarn
		case "error":
			c.logLevel = slog.LevelError
		default:
			return errors.New("must be debug, info, warn or error")
		}
		return nil
	}},
	{"cluster-enabled", "no", "join a cluster (yes/no); implied by --join", func(c *config, v string) error {
		b, err := parseYesNo(v)
		c.clustered = c.clustered || b
		return err
	}},
	{"join", "", "comma-separated seed addresses host:port (each name may resolve to several addresses, e.g. a headless Service)", func(c *config, v string) error {
		for _, j := range strings.Split(v, ",") {
			if j = strings.TrimSpace(j); j == "" {
				continue
			}
			if _, _, err := net.SplitHostPort(j); err != nil {
				return fmt.Errorf("%q: want host:port", j)
			}
			c.cluster.Join = append(c.cluster.Join, j)
			c.clustered = true
		}
		return nil
	}},
	{"node-name", "", "this node's unique, stable name in the cluster (default: the hostname)", func(c *config, v string) error {
		if v != "" {
			c.cluster.NodeName = v
		}
		return nil
	}},
	{"gossip-port", "7946", "TCP and UDP port for cluster gossip (0 picks a free port)", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			return errors.New("must be a port number 0..65535")
		}
		return nil
	}},
	{"peer-port", "0", "TCP port other nodes forward, replicate and hand slots off to (0: the client port + 10000, as Redis Cluster's bus)", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			return errors.New("must be a port number 0..65535")
		}
		return nil
	}},
	{"advertise-addr", "", "host or IP other nodes and cluster-aware clients reach this node at (default: the bind address, or a private address when bound to all interfaces)", func(c *config, v string) error {
		c.cluster.AdvertiseHost = v
		return nil
	}},
	{"replicas", "2", "copies of each slot in a cluster, the primary included", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 16 {
			return errors.New("must be an integer 1..16")
		}
		c.cluster.Replicas = n
		return nil
	}},
	{"min-members", "1", "members that must be seen before cluster writes are served (set to the StatefulSet's replicas)", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errors.New("must be a positive integer")
		}
		c.cluster.MinMembers = n
		return nil
	}},
	{"replica-ack", "no", "reply to a write only once its replicas have it (yes/no)", func(c *config, v string) error {
		b, err := parseYesNo(v)
		c.cluster.ReplicaAck = b
		return err
	}},
	{"admin-port", "9121", "TCP port of the admin HTTP server: /healthz, /readyz, /metrics, /debug/pprof/ (0: no admin server)", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			return errors.New("must be a port number 0..65535")
		}
		return nil
	}},
	{"dir", "", "data directory for persistence (empty: an in-memory cache, nothing saved)", func(c *config, v string) error {
		c.persist.Dir = v
		return nil
	}},
	{"appendonly", "yes", "with dir: log every write for warm restarts (yes/no); no keeps only the snapshots", func(c *config, v string) error {
		b, err := parseYesNo(v)
		c.persist.Log = b
		return err
	}},
	{"appendfsync", "everysec", "when the log reaches the disk: always (before each reply), everysec, no (the OS decides)", func(c *config, v string) error {
		f, err := persistence.ParseFsync(v)
		c.persist.Fsync = f
		return err
	}},
	{"save", "3600 1 300 100 60 10000", "snapshot rules as redis.conf: pairs of <seconds> <changes>; empty: only SAVE/BGSAVE/BGREWRITEAOF", func(c *config, v string) error {
		f := strings.Fields(v)
		if len(f)%2 != 0 {
			return errors.New("want pairs of <seconds> <changes>")
		}
		c.persist.Save = nil
		for i := 0; i < len(f); i += 2 {
			secs, err1 := strconv.Atoi(f[i])
			changes, err2 := strconv.Atoi(f[i+1])
			if err1 != nil || err2 != nil || secs < 1 || changes < 0 {
				return fmt.Errorf("%q %q: want positive seconds and non-negative changes", f[i], f[i+1])
			}
			c.persist.Save = append(c.persist.Save, node.SaveRule{Seconds: secs, Changes: changes})
		}
		return nil
	}},
	{"aof-load-corrupt", "fail", "a damaged record in the middle of the log at start-up: fail (stop with the file and offset) or skip (drop the rest of that file, with a warning)", func(c *config, v string) error {
		switch v {
		case "fail", "skip":
			c.persist.SkipCorrupt = v == "skip"
			return nil
		}
		return errors.New("must be fail or skip")
	}},
	{"log-format", "text", "log format: text or json", func(c *config, v string) error {
		switch v {
		case "text", "json":
			c.logJSON = v == "json"
			return nil
		}
		return errors.New("must be text or json")
	}},
}, originSettings...)

// flagError is a command-line error the flag package has already reported.
type flagError struct{ error }

// envName returns the environment variable for a setting: CACHED_ and the
// name in upper case with '-' as '_'.
func envName(name string) string {
	return "CACHED_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// loadConfig builds the configuration from, in increasing precedence, the
// defaults, the YAML file named by --config (or CACHED_CONFIG), CACHED_*
// variables, and flags. Errors name the setting and where its value came from.
func loadConfig(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("cached", flag.ContinueOnError)
	fs.SetOutput(stderr)
	values := make(map[string]*string, len(settings))
	for _, s := range settings {
		values[s.name] = fs.String(s.name, s.def, s.usage+" (env "+envName(s.name)+")")
	}
	file := fs.String("config", "", "YAML file of settings, keys as the flag names (env CACHED_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return nil, flagError{err}
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	raw := make(map[string]string, len(settings))
	source := make(map[string]string, len(settings))
	for _, s := range settings {
		raw[s.name], source[s.name] = s.def, "default"
	}
	if *file == "" {
		*file, _ = lookupEnv("CACHED_CONFIG")
	}
	var origins originsConfig
	if *file != "" {
		fromFile, err := readConfigFile(*file)
		if err != nil {
			return nil, err
		}
		for k, v := range fromFile {
			raw[k], source[k] = v, "config file "+*file
		}
		if origins, err = readOrigins(*file); err != nil {
			return nil, err
		}
	}
	for _, s := range settings {
		if v, ok := lookupEnv(envName(s.name)); ok {
			raw[s.name], source[s.name] = v, "environment "+envName(s.name)
		}
	}
	fs.Visit(func(f *flag.Flag) {
		if _, ok := values[f.Name]; ok {
			raw[f.Name], source[f.Name] = f.Value.String(), "flag --"+f.Name
		}
	})

	c := &config{node: node.DefaultConfig(), resp: resp.DefaultConfig(), cluster: node.DefaultClusterConfig(), settings: raw,
		persist: node.PersistenceConfig{Config: persistence.DefaultConfig()}, origins: origins, originEngine: origin.DefaultConfig()}
	for _, s := range settings {
		if err := s.apply(c, raw[s.name]); err != nil {
			return nil, fmt.Errorf("invalid %s %q (from %s): %v", s.name, raw[s.name], source[s.name], err)
		}
	}
	if err := c.resp.Limits.Validate(); err != nil {
		return nil, fmt.Errorf("invalid limits: %w", err)
	}
	c.resp.Addr = net.JoinHostPort(raw["bind"], raw["port"]) // "" port: see security.setup
	if c.persist.Dir != "" {
		pc := c.persist
		c.node.Persistence = &pc
	}
	if p, _ := strconv.Atoi(raw["admin-port"]); p != 0 {
		c.adminAddr = net.JoinHostPort(raw["bind"], raw["admin-port"])
	}
	if c.clustered {
		port, _ := strconv.Atoi(raw["port"])
		peerPort, _ := strconv.Atoi(raw["peer-port"])
		if peerPort == 0 && port != 0 {
			peerPort = port + 10000
			if peerPort > 65535 {
				return nil, fmt.Errorf("invalid peer-port: the client port %d + 10000 is not a port; set peer-port", port)
			}
		}
		c.resp.PeerAddr = net.JoinHostPort(raw["bind"], strconv.Itoa(peerPort))
		c.cluster.GossipAddr = net.JoinHostPort(raw["bind"], raw["gossip-port"])
		if c.cluster.AdvertiseHost == "" {
			host, err := advertiseHost(raw["bind"])
			if err != nil {
				return nil, fmt.Errorf("advertise-addr: %w", err)
			}
			c.cluster.AdvertiseHost = host
		}
		cl := c.cluster
		c.node.Cluster = &cl
		if err := cl.Validate(); err != nil {
			return nil, err
		}
	}
	// CONFIG GET reports the settings it does not own as they were given.
	c.resp.Settings = map[string]string{}
	for _, name := range []string{"bind", "port", "dir", "save", "appendfsync", "cluster-enabled", "replicas", "min-members", "replica-ack", "node-name", "aclfile", "protected-mode"} {
		c.resp.Settings[name] = raw[name]
	}
	c.resp.Settings["appendonly"] = "no"
	if c.persist.Dir != "" && c.persist.Log {
		c.resp.Settings["appendonly"] = "yes"
	}
	if c.clustered {
		c.resp.Settings["cluster-enabled"] = "yes"
	}
	if *file != "" {
		c.resp.Settings["config-file"] = *file
	}
	if err := c.security.setup(c, raw); err != nil {
		return nil, err
	}
	return c, nil
}

// parseYesNo parses redis.conf's yes/no.
func parseYesNo(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes", "true", "1":
		return true, nil
	case "no", "false", "0", "":
		return false, nil
	}
	return false, errors.New("must be yes or no")
}

// advertiseHost returns the address to tell others for a node bound to
// bind: bind itself, or for a wildcard bind the first private (else
// non-loopback) address of an interface.
func advertiseHost(bind string) (string, error) {
	ip := net.ParseIP(bind)
	if bind == "localhost" {
		return "127.0.0.1", nil
	}
	if ip != nil && !ip.IsUnspecified() {
		return bind, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	var fallback string
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsLoopback() || n.IP.IsLinkLocalUnicast() || n.IP.To4() == nil {
			continue
		}
		if n.IP.IsPrivate() {
			return n.IP.String(), nil
		}
		if fallback == "" {
			fallback = n.IP.String()
		}
	}
	if fallback == "" {
		return "", errors.New("no address to advertise: set advertise-addr")
	}
	return fallback, nil
}

// readConfigFile reads a flat YAML map of setting names to scalar values.
func readConfigFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("config file %s: %s", path, oneLine(err))
	}
	known := make(map[string]bool, len(settings))
	for _, s := range settings {
		known[s.name] = true
	}
	out := make(map[string]string, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if structuredKeys[k] {
			continue // origins.go reads them
		}
		if !known[k] {
			return nil, fmt.Errorf("config file %s: unknown setting %q", path, k)
		}
		switch v := m[k].(type) {
		case string:
			out[k] = v
		case int, int64, uint64, float64, bool:
			out[k] = fmt.Sprint(v)
		case nil:
			out[k] = ""
		default:
			return nil, fmt.Errorf("config file %s: setting %q must be a scalar", path, k)
		}
	}
	return out, nil
}
