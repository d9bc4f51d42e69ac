package main

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoadConfigTLSErrors: each bad combination names the setting at
// fault.
func TestLoadConfigTLSErrors(t *testing.T) {
	ca := newTestCA(t, "ca")
	server, other := ca.issue("server", time.Time{}, time.Time{}), ca.issue("other", time.Time{}, time.Time{})
	key16 := base64.StdEncoding.EncodeToString(make([]byte, 16))
	emptyKeys := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(emptyKeys, []byte("# none yet\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls-port", "x"}, "tls-port"},
		{[]string{"--tls-port", "70000"}, "tls-port"},
		{[]string{"--tls-port", "0"}, "tls-cert-file: required by tls-port"},
		{[]string{"--tls-grpc", "yes"}, "tls-cert-file: required by tls-grpc"},
		{[]string{"--tls-port", "0", "--tls-cert-file", server.CertFile}, "tls-key-file: required by tls-port"},
		{[]string{"--tls-port", "0", "--tls-cert-file", server.CertFile, "--tls-key-file", server.KeyFile}, "tls-auth-clients"},
		{[]string{"--tls-cluster", "yes", "--cluster-enabled", "yes", "--tls-cert-file", server.CertFile,
			"--tls-key-file", server.KeyFile, "--tls-auth-clients", "no"}, "tls-cluster"},
		{[]string{"--tls-port", "0", "--tls-cert-file", server.CertFile, "--tls-key-file", other.KeyFile, "--tls-auth-clients", "no"}, "tls-cert-file"},
		{[]string{"--tls-port", "0", "--tls-cert-file", "/nonexistent.pem", "--tls-key-file", server.KeyFile, "--tls-auth-clients", "no"}, "tls-cert-file"},
		{[]string{"--tls-port", "0", "--tls-cert-file", server.CertFile, "--tls-key-file", server.KeyFile, "--tls-ca-cert-file", server.KeyFile}, "tls-ca-cert-file"},
		{[]string{"--tls-auth-clients", "maybe"}, "tls-auth-clients"},
		{[]string{"--tls-cluster", "sometimes"}, "tls-cluster"},
		{[]string{"--tls-grpc", "sometimes"}, "tls-grpc"},
		{[]string{"--port", ""}, `invalid port ""`},
		{[]string{"--gossip-key", "not base64!"}, "gossip-key"},
		{[]string{"--gossip-key", base64.StdEncoding.EncodeToString(make([]byte, 20))}, "gossip-key"},
		{[]string{"--gossip-key", key16, "--gossip-key-file", emptyKeys}, "not both"},
		{[]string{"--gossip-key-file", emptyKeys}, "gossip-key-file"},
		{[]string{"--gossip-key-file", "/nonexistent"}, "gossip-key-file"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := loadConfig(tc.args, env(), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
}

// TestLoadConfigTLS wires the settings and CONFIG GET reports them.
func TestLoadConfigTLS(t *testing.T) {
	ca := newTestCA(t, "ca")
	server := ca.issue("server", time.Time{}, time.Time{})
	keyFile := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(make([]byte, 32))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig([]string{"--port", "", "--tls-port", "7000", "--tls-cert-file", server.CertFile,
		"--tls-key-file", server.KeyFile, "--tls-ca-cert-file", ca.CAFile, "--tls-auth-clients", "optional",
		"--tls-cluster", "yes", "--tls-grpc", "yes", "--cluster-enabled", "yes", "--gossip-key-file", keyFile}, env(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case c.resp.Addr != "" || c.resp.TLSAddr != "127.0.0.1:7000":
		t.Errorf("addr %q tls addr %q, want none and 127.0.0.1:7000", c.resp.Addr, c.resp.TLSAddr)
	case c.resp.PeerAddr != "127.0.0.1:17000":
		t.Errorf("peer addr %q, want the TLS port + 10000", c.resp.PeerAddr)
	case c.resp.TLS == nil || c.resp.PeerTLS == nil || c.security.grpcTLS() == nil:
		t.Error("a TLS config is missing")
	case c.node.Cluster.Peer.Dial == nil:
		t.Error("peer links do not dial TLS")
	case c.node.Cluster.Keyring == nil || len(c.node.Cluster.Keyring.GetKeys()) != 1:
		t.Error("gossip keyring not set")
	}
	for _, tc := range []struct {
		cfg  *tls.Config
		want tls.ClientAuthType
	}{{c.resp.TLS, tls.VerifyClientCertIfGiven}, {c.resp.PeerTLS, tls.RequireAndVerifyClientCert}} {
		got, err := tc.cfg.GetConfigForClient(&tls.ClientHelloInfo{})
		if err != nil || got.ClientAuth != tc.want || got.MinVersion != tls.VersionTLS12 || got.ClientCAs == nil {
			t.Errorf("handshake config: %+v, %v; want client auth %v, TLS 1.2, the CA", got, err, tc.want)
		}
	}
	for name, want := range map[string]string{"tls-port": "7000", "tls-cert-file": server.CertFile, "tls-key-file": server.KeyFile,
		"tls-ca-cert-file": ca.CAFile, "tls-auth-clients": "optional", "tls-cluster": "yes", "tls-grpc": "yes", "gossip-key-file": keyFile} {
		if got := c.resp.Settings[name]; got != want {
			t.Errorf("CONFIG GET %s = %q, want %q", name, got, want)
		}
	}
	if _, ok := c.resp.Settings["gossip-key"]; ok {
		t.Error("CONFIG GET shows gossip-key, a secret")
	}
}

// TestGossipKeysReload follows a rotation through the key file: new keys
// are added, the first becomes primary, unlisted ones go; a broken file
// leaves the keyring as it was.
func TestGossipKeysReload(t *testing.T) {
	k := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	enc := base64.StdEncoding.EncodeToString
	file := filepath.Join(t.TempDir(), "keys")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(enc(k(1)) + "\n")
	g, err := newGossipKeys("", file)
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, primary byte, keys ...byte) {
		t.Helper()
		if got := g.keyring.GetPrimaryKey(); !bytes.Equal(got, k(primary)) {
			t.Errorf("%s: primary key %x, want %x", step, got[:1], primary)
		}
		got := g.keyring.GetKeys()
		if len(got) != len(keys) {
			t.Fatalf("%s: %d keys, want %d", step, len(got), len(keys))
		}
		for _, want := range keys {
			if !containsKey(got, k(want)) {
				t.Errorf("%s: key %x missing", step, want)
			}
		}
	}
	check("start", 1, 1)
	for _, tc := range []struct {
		step, body string
		changed    bool
		primary    byte
		keys       []byte
	}{
		{"unchanged", enc(k(1)) + "\n", false, 1, []byte{1}},
		{"add a secondary", enc(k(1)) + "\n\n# next\n" + enc(k(2)) + "\n", true, 1, []byte{1, 2}},
		{"make it primary", enc(k(2)) + "\n" + enc(k(1)) + "\n", true, 2, []byte{1, 2}},
		{"remove the old", enc(k(2)) + "\n", true, 2, []byte{2}},
	} {
		write(tc.body)
		changed, err := g.reload()
		if err != nil || changed != tc.changed {
			t.Fatalf("%s: reload %v, %v; want %v, nil", tc.step, changed, err, tc.changed)
		}
		check(tc.step, tc.primary, tc.keys...)
	}
	for _, bad := range []string{"", "# nothing\n", "!!!\n", enc(k(3)[:7]) + "\n"} {
		write(bad)
		if changed, err := g.reload(); changed || err == nil {
			t.Fatalf("file %q: reload %v, %v; want an error", bad, changed, err)
		}
		check("after a bad file", 2, 2)
	}
}

// TestReportOnce: a reload error is logged when it first appears, not on
// every poll while it lasts, and again after a good reload.
func TestReportOnce(t *testing.T) {
	errA, errB := errors.New("a"), errors.New("b")
	var last string
	for i, tc := range []struct {
		err  error
		want bool
	}{{errA, true}, {errA, false}, {errB, true}, {nil, false}, {errB, true}} {
		if got := report(tc.err, &last); got != tc.want {
			t.Errorf("call %d (%v): %v, want %v", i, tc.err, got, tc.want)
		}
	}
}
