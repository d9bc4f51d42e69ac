package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cached/cached/node/store"
)

// env returns a lookup function over a fixed environment.
func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cached.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := loadConfig(nil, env(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.resp.Addr != "127.0.0.1:6379" {
		t.Errorf("addr = %q, want 127.0.0.1:6379", c.resp.Addr)
	}
	if c.node.Store.MaxMemory != 0 || c.node.Store.Policy != store.AllKeysLFU {
		t.Errorf("maxmemory %d policy %v, want 0 allkeys-lfu", c.node.Store.MaxMemory, c.node.Store.Policy)
	}
	if c.resp.MaxClients != 10000 || c.resp.Limits.MaxBulkLen != 512<<20 {
		t.Errorf("maxclients %d max bulk %d", c.resp.MaxClients, c.resp.Limits.MaxBulkLen)
	}
}

func TestLoadConfigPrecedence(t *testing.T) {
	file := writeFile(t, "maxmemory: 10mb\nport: 7000\nmaxmemory-policy: allkeys-lru\ntimeout: 30\n")
	tests := []struct {
		name      string
		args      []string
		env       func(string) (string, bool)
		maxmemory int64
		port      string
		policy    store.Policy
	}{
		{"file", []string{"--config", file}, env(), 10 << 20, "7000", store.AllKeysLRU},
		{"file from env", nil, env("CACHED_CONFIG", file), 10 << 20, "7000", store.AllKeysLRU},
		{"env beats file", []string{"--config", file}, env("CACHED_MAXMEMORY", "2gb"), 2 << 30, "7000", store.AllKeysLRU},
		{"flag beats env", []string{"--config", file, "--maxmemory", "100mb"}, env("CACHED_MAXMEMORY", "2gb"), 100 << 20, "7000", store.AllKeysLRU},
		{"policy from env", nil, env("CACHED_MAXMEMORY_POLICY", "volatile-ttl"), 0, "6379", store.VolatileTTL},
		{"redis units", []string{"--maxmemory", "1k"}, env(), 1000, "6379", store.AllKeysLFU},
		{"raw bytes", []string{"-maxmemory=12345", "-port=0"}, env(), 12345, "0", store.AllKeysLFU},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(tt.args, tt.env, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if c.node.Store.MaxMemory != tt.maxmemory {
				t.Errorf("maxmemory = %d, want %d", c.node.Store.MaxMemory, tt.maxmemory)
			}
			if !strings.HasSuffix(c.resp.Addr, ":"+tt.port) {
				t.Errorf("addr = %q, want port %s", c.resp.Addr, tt.port)
			}
			if c.node.Store.Policy != tt.policy {
				t.Errorf("policy = %v, want %v", c.node.Store.Policy, tt.policy)
			}
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  func(string) (string, bool)
		file string
		want string // substring of the one-line error
	}{
		{"bad maxmemory flag", []string{"--maxmemory", "lots"}, env(), "", `invalid maxmemory "lots" (from flag --maxmemory)`},
		{"bad maxmemory env", nil, env("CACHED_MAXMEMORY", "-1"), "", `invalid maxmemory "-1" (from environment CACHED_MAXMEMORY)`},
		{"bad policy", []string{"--maxmemory-policy", "lru"}, env(), "", `invalid maxmemory-policy "lru"`},
		{"bad port", []string{"--port", "70000"}, env(), "", `invalid port "70000"`},
		{"bad bind", []string{"--bind", "not an ip"}, env(), "", `invalid bind`},
		{"bad samples", []string{"--maxmemory-samples", "0"}, env(), "", `invalid maxmemory-samples`},
		{"bad timeout", []string{"--timeout", "-5"}, env(), "", `invalid timeout`},
		{"bad loglevel", []string{"--loglevel", "loud"}, env(), "", `invalid loglevel`},
		{"unknown file key", nil, env(), "maxmemroy: 1gb\n", `unknown setting "maxmemroy"`},
		{"bad file value", nil, env(), "maxmemory: huge\n", `(from config file`},
		{"file not yaml", nil, env(), "maxmemory: [1, 2\n", `config file`},
		{"nested file value", nil, env(), "maxmemory:\n  a: 1\n", `must be a scalar`},
		{"missing file", []string{"--config", "/nonexistent/cached.yaml"}, env(), "", `config file`},
		{"stray argument", []string{"extra"}, env(), "", `unexpected argument "extra"`},
		{"bad join", []string{"--join", "seed-without-port"}, env(), "", `invalid join`},
		{"bad replicas", []string{"--replicas", "0"}, env(), "", `invalid replicas`},
		{"bad min-members", []string{"--min-members", "-1"}, env(), "", `invalid min-members`},
		{"bad cluster-enabled", []string{"--cluster-enabled", "maybe"}, env(), "", `invalid cluster-enabled`},
		{"bad gossip-port", []string{"--gossip-port", "65536"}, env(), "", `invalid gossip-port`},
		{"peer port overflow", []string{"--cluster-enabled", "yes", "--port", "60000"}, env(), "", `peer-port`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append(args, "--config", writeFile(t, tt.file))
			}
			_, err := loadConfig(args, tt.env, io.Discard)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadConfigUnknownFlag(t *testing.T) {
	var out strings.Builder
	_, err := loadConfig([]string{"--no-such-flag"}, env(), &out)
	if err == nil || !strings.Contains(out.String(), "no-such-flag") {
		t.Fatalf("err %v, output %q", err, out.String())
	}
}

func TestLoadConfigTimeout(t *testing.T) {
	c, err := loadConfig([]string{"--timeout", "30"}, env(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.resp.IdleTimeout != 30*time.Second {
		t.Errorf("idle timeout = %v", c.resp.IdleTimeout)
	}
}

func TestGCPercent(t *testing.T) {
	tests := []struct {
		live uint64
		want int
	}{
		{0, 100},
		{1 << 20, 100},
		{16 << 20, 100},
		{64 << 20, 25},
		{128 << 20, 12},
		{1 << 30, 12},
		{64 << 30, 12},
	}
	for _, tt := range tests {
		if got := gcPercent(tt.live); got != tt.want {
			t.Errorf("gcPercent(%d) = %d, want %d", tt.live, got, tt.want)
		}
	}
}

func TestLoadConfigOutputLimit(t *testing.T) {
	c, err := loadConfig([]string{"--client-output-buffer-limit", "pubsub 1mb 0 0"}, env(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.resp.PubsubOutputLimit != 1<<20 {
		t.Errorf("pubsub limit = %d", c.resp.PubsubOutputLimit)
	}
	for _, bad := range []string{"replica 256mb 64mb 60", "pubsub 0 0 0", "pubsub lots 0 0", "pubsub 1mb", "normal -1 0 0", "normal 1mb 0 x"} {
		if _, err := loadConfig([]string{"--client-output-buffer-limit", bad}, env(), io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestLoadConfigCluster(t *testing.T) {
	c, err := loadConfig(nil, env(), io.Discard)
	if err != nil || c.node.Cluster != nil || c.resp.PeerAddr != "" {
		t.Fatalf("default: cluster %v peer %q, %v; want a single node", c.node.Cluster, c.resp.PeerAddr, err)
	}
	c, err = loadConfig([]string{"--port", "7000", "--join", "a:7946, b:7946", "--node-name", "cached-0", "--replicas", "3",
		"--min-members", "3", "--replica-ack", "yes", "--gossip-port", "8000"}, env(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cc := c.node.Cluster
	if cc == nil {
		t.Fatal("--join did not make a cluster node")
	}
	if strings.Join(cc.Join, ",") != "a:7946,b:7946" || cc.NodeName != "cached-0" || cc.Replicas != 3 || cc.MinMembers != 3 || !cc.ReplicaAck {
		t.Errorf("cluster config %+v", cc)
	}
	if cc.GossipAddr != "127.0.0.1:8000" || c.resp.PeerAddr != "127.0.0.1:17000" || cc.AdvertiseHost != "127.0.0.1" {
		t.Errorf("gossip %q peer %q advertise %q", cc.GossipAddr, c.resp.PeerAddr, cc.AdvertiseHost)
	}
	c, err = loadConfig(nil, env("CACHED_CLUSTER_ENABLED", "yes", "CACHED_PEER_PORT", "9999", "CACHED_ADVERTISE_ADDR", "10.0.0.7"), io.Discard)
	if err != nil || c.node.Cluster == nil || c.resp.PeerAddr != "127.0.0.1:9999" || c.node.Cluster.AdvertiseHost != "10.0.0.7" {
		t.Fatalf("from the environment: %+v %q, %v", c.node.Cluster, c.resp.PeerAddr, err)
	}
}
