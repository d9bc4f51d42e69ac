package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// TestLoadConfigLimits: every client and peer limit is read from its
// setting, with Redis's defaults.
func TestLoadConfigLimits(t *testing.T) {
	c, err := loadConfig(nil, env(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	l := c.resp.Limits
	if l.MaxArgs != 1024*1024 || l.MaxInlineLen != 64<<10 || l.MaxQueryBuffer != 1<<30 || c.resp.OutputLimit != 0 || c.resp.PubsubOutputLimit != 32<<20 {
		t.Errorf("defaults: limits %+v, output %d, pubsub output %d", l, c.resp.OutputLimit, c.resp.PubsubOutputLimit)
	}
	if c.cluster.Peer.MaxInFlight != 10000 || c.cluster.Peer.CallTimeout != 5*time.Second {
		t.Errorf("defaults: peer in flight %d, timeout %v", c.cluster.Peer.MaxInFlight, c.cluster.Peer.CallTimeout)
	}

	c, err = loadConfig([]string{"--join", "a:7946", "--proto-max-multibulk-len", "100", "--proto-inline-max-size", "4kb",
		"--client-output-buffer-limit", "normal 8mb 4mb 10 pubsub 1mb 512kb 60",
		"--cluster-peer-max-inflight", "64", "--cluster-peer-timeout", "1500"},
		env("CACHED_CLIENT_QUERY_BUFFER_LIMIT", "2mb"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	l = c.resp.Limits
	if l.MaxArgs != 100 || l.MaxInlineLen != 4<<10 || l.MaxQueryBuffer != 2<<20 {
		t.Errorf("limits %+v", l)
	}
	if c.resp.OutputLimit != 8<<20 || c.resp.PubsubOutputLimit != 1<<20 {
		t.Errorf("output %d, pubsub output %d", c.resp.OutputLimit, c.resp.PubsubOutputLimit)
	}
	if p := c.node.Cluster.Peer; p.MaxInFlight != 64 || p.CallTimeout != 1500*time.Millisecond {
		t.Errorf("peer in flight %d, timeout %v", p.MaxInFlight, p.CallTimeout)
	}

	for _, bad := range [][]string{
		{"--proto-max-multibulk-len", "0"},
		{"--proto-max-multibulk-len", "many"},
		{"--proto-inline-max-size", "10"},
		{"--proto-inline-max-size", "2gb", "--client-query-buffer-limit", "1gb"},
		{"--cluster-peer-max-inflight", "0"},
		{"--cluster-peer-timeout", "0"},
		{"--cluster-peer-timeout", "5s"},
	} {
		if _, err := loadConfig(bad, env(), io.Discard); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line", bad, err)
		}
	}
}
