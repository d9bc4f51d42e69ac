package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// tlsArgs are the flags for a TLS listener on tlsPort with server's
// certificate and ca's bundle, plus extra.
func tlsArgs(tlsPort string, ca *testCA, server testCert, extra ...string) []string {
	return append([]string{"--tls-port", tlsPort, "--tls-cert-file", server.CertFile, "--tls-key-file", server.KeyFile,
		"--tls-ca-cert-file", ca.CAFile}, extra...)
}

// waitTLS dials addr with cfg until a handshake and a PING succeed.
func waitTLS(t *testing.T, addr string, cfg *tls.Config) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := pingTLS(addr, cfg)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("TLS on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pingTLS connects with go-redis over TLS and sends one PING.
func pingTLS(addr string, cfg *tls.Config) error {
	c := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: cfg, MaxRetries: -1,
		DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, DisableIdentity: true})
	defer c.Close()
	return c.Ping(context.Background()).Err()
}

func TestTLSClientCertificates(t *testing.T) {
	ca, other := newTestCA(t, "ca"), newTestCA(t, "other")
	server, client := ca.issue("server", time.Time{}, time.Time{}), ca.issue("client", time.Time{}, time.Time{})
	expired, untrusted := ca.expired("expired-client"), other.issue("untrusted-client", time.Time{}, time.Time{})
	for _, tc := range []struct {
		auth string
		// what each client gets: true connects
		withCert, noCert, untrustedCert, expiredCert bool
	}{
		{auth: "yes", withCert: true},
		{auth: "optional", withCert: true, noCert: true},
		{auth: "no", withCert: true, noCert: true, untrustedCert: true, expiredCert: true},
	} {
		t.Run("tls-auth-clients="+tc.auth, func(t *testing.T) {
			tlsPort := strconv.Itoa(freePort(t))
			p := startRun(t, false, tlsArgs(tlsPort, ca, server, "--tls-auth-clients", tc.auth)...)
			addr := "127.0.0.1:" + tlsPort
			waitTLS(t, addr, clientTLS(ca, &client))
			for _, c := range []struct {
				name string
				cfg  *tls.Config
				want bool
			}{
				{"client certificate from the CA", clientTLS(ca, &client), tc.withCert},
				{"no client certificate", clientTLS(ca, nil), tc.noCert},
				{"client certificate from another CA", clientTLS(ca, &untrusted), tc.untrustedCert},
				{"expired client certificate", clientTLS(ca, &expired), tc.expiredCert},
				{"server not trusted by the client", clientTLS(other, &client), false},
			} {
				err := pingTLS(addr, c.cfg)
				if (err == nil) != c.want {
					t.Errorf("%s: PING error %v, want success %v", c.name, err, c.want)
				}
			}
			// The plain port still answers beside the TLS one.
			if got := dialRESP(t, p.port).do(t, "PING"); got != "+PONG" {
				t.Errorf("plain PING: %q", got)
			}
		})
	}
}

func TestTLSExpiredServerCertificate(t *testing.T) {
	ca := newTestCA(t, "ca")
	server, client := ca.expired("server"), ca.issue("client", time.Time{}, time.Time{})
	tlsPort := strconv.Itoa(freePort(t))
	p := startRun(t, false, tlsArgs(tlsPort, ca, server)...)
	dialRESP(t, p.port) // up
	err := pingTLS("127.0.0.1:"+tlsPort, clientTLS(ca, &client))
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("PING to a server with an expired certificate: %v, want a certificate expired error", err)
	}
}

// TestTLSOnly serves clients on the TLS port alone (port "").
func TestTLSOnly(t *testing.T) {
	ca := newTestCA(t, "ca")
	server, client := ca.issue("server", time.Time{}, time.Time{}), ca.issue("client", time.Time{}, time.Time{})
	tlsPort := strconv.Itoa(freePort(t))
	p := startRun(t, false, tlsArgs(tlsPort, ca, server, "--port", "")...)
	addr := "127.0.0.1:" + tlsPort
	waitTLS(t, addr, clientTLS(ca, &client))
	if c, err := net.Dial("tcp", "127.0.0.1:"+p.port); err == nil {
		c.Close()
		t.Fatalf("port %s accepts plain connections with port \"\"", p.port)
	}
	rc := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: clientTLS(ca, &client), DisableIdentity: true})
	defer rc.Close()
	got, err := rc.ConfigGet(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"port": "", "tls-port": tlsPort, "tls-cert-file": server.CertFile,
		"tls-key-file": server.KeyFile, "tls-ca-cert-file": ca.CAFile, "tls-auth-clients": "yes", "tls-cluster": "no",
		"tls-grpc": "no", "gossip-key-file": ""} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("CONFIG GET %s = %q (present %v), want %q", name, v, ok, want)
		}
	}
}

func TestTLSRedisCli(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not installed (apt-get install -y redis-tools)")
	}
	if help, _ := exec.Command(cli, "--help").CombinedOutput(); !bytes.Contains(help, []byte("--tls")) {
		t.Skip("this redis-cli was built without TLS support")
	}
	ca := newTestCA(t, "ca")
	server, client := ca.issue("server", time.Time{}, time.Time{}), ca.issue("client", time.Time{}, time.Time{})
	tlsPort := strconv.Itoa(freePort(t))
	startRun(t, false, tlsArgs(tlsPort, ca, server, "--tls-auth-clients", "yes")...)
	waitTLS(t, "127.0.0.1:"+tlsPort, clientTLS(ca, &client))
	run := func(args ...string) (string, error) {
		args = append([]string{"-h", "127.0.0.1", "-p", tlsPort, "--tls", "--cacert", ca.CAFile}, args...)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	out, err := run("--cert", client.CertFile, "--key", client.KeyFile, "SET", "k", "over-tls")
	if err != nil || out != "OK" {
		t.Fatalf("redis-cli --tls SET: %q, %v", out, err)
	}
	out, err = run("--cert", client.CertFile, "--key", client.KeyFile, "GET", "k")
	if err != nil || out != "over-tls" {
		t.Fatalf("redis-cli --tls GET: %q, %v", out, err)
	}
	// Without a client certificate the server ends the handshake.
	if out, _ = run("PING"); out == "PONG" {
		t.Fatalf("redis-cli --tls without --cert: %q, want a failure", out)
	}
}

// TestTLSReload replaces the certificate and key files of a running
// server: new handshakes get the new certificate, the connection opened
// before keeps working, and a broken pair leaves the last good one in use.
func TestTLSReload(t *testing.T) {
	ca := newTestCA(t, "ca")
	server, client := ca.issue("server", time.Time{}, time.Time{}), ca.issue("client", time.Time{}, time.Time{})
	renewed := ca.issue("renewed", time.Time{}, time.Time{})
	tlsPort := strconv.Itoa(freePort(t))
	startRun(t, false, tlsArgs(tlsPort, ca, server)...)
	addr := "127.0.0.1:" + tlsPort
	waitTLS(t, addr, clientTLS(ca, &client))
	if got := servedCert(t, addr, clientTLS(ca, &client)); got != "server" {
		t.Fatalf("certificate before the reload: %q", got)
	}
	old := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: clientTLS(ca, &client), PoolSize: 1, MaxRetries: -1, DisableIdentity: true})
	defer old.Close()
	ctx := context.Background()
	id, err := old.ClientID(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}

	copyFile(t, renewed.KeyFile, server.KeyFile)
	copyFile(t, renewed.CertFile, server.CertFile)
	waitCert(t, addr, clientTLS(ca, &client), "renewed")
	if id2, err := old.ClientID(ctx).Result(); err != nil || id2 != id {
		t.Fatalf("connection opened before the reload: id %d, %v; want the same connection %d", id2, err, id)
	}
}

// TestTLSFilesReload: a key that does not match the certificate is
// refused and the last good pair stays in use; the next complete pair is
// taken.
func TestTLSFilesReload(t *testing.T) {
	ca := newTestCA(t, "ca")
	server, other := ca.issue("server", time.Time{}, time.Time{}), ca.issue("other", time.Time{}, time.Time{})
	f, err := newTLSFiles(server.CertFile, server.KeyFile, ca.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := f.reload(); changed || err != nil {
		t.Fatalf("reload of unchanged files: %v, %v; want false, nil", changed, err)
	}
	copyFile(t, other.KeyFile, server.KeyFile)
	if changed, err := f.reload(); changed || err == nil || !strings.Contains(err.Error(), "tls-key-file") {
		t.Fatalf("reload with a mismatched key: %v, %v; want an error naming tls-key-file", changed, err)
	}
	if cn := f.cert.Load().Leaf.Subject.CommonName; cn != "server" {
		t.Fatalf("certificate after a failed reload: %q, want the last good one", cn)
	}
	if changed, err := f.reload(); changed || err != nil {
		t.Fatalf("reload of the same broken files: %v, %v; want false, nil (reported once)", changed, err)
	}
	copyFile(t, other.CertFile, server.CertFile)
	if changed, err := f.reload(); !changed || err != nil {
		t.Fatalf("reload with a matching pair: %v, %v; want true, nil", changed, err)
	}
	if cn := f.cert.Load().Leaf.Subject.CommonName; cn != "other" {
		t.Fatalf("certificate after the reload: %q, want other", cn)
	}

	// A new CA bundle: peers are verified against it from then on.
	newCA := newTestCA(t, "new-ca")
	oldPeer, newPeer := ca.issue("old-peer", time.Time{}, time.Time{}), newCA.issue("new-peer", time.Time{}, time.Time{})
	verify := func(c testCert) error {
		return f.verifyPeer(tls.ConnectionState{PeerCertificates: []*x509.Certificate{c.Leaf}})
	}
	if err := verify(oldPeer); err != nil {
		t.Fatalf("peer of the CA before the change: %v", err)
	}
	copyFile(t, newCA.CAFile, ca.CAFile)
	if changed, err := f.reload(); !changed || err != nil {
		t.Fatalf("reload with a new CA: %v, %v; want true, nil", changed, err)
	}
	if err := verify(oldPeer); err == nil {
		t.Error("a peer of the replaced CA is still trusted")
	}
	if err := verify(newPeer); err != nil {
		t.Errorf("a peer of the new CA: %v", err)
	}
}

// servedCert returns the common name of the certificate addr serves.
func servedCert(t *testing.T, addr string, cfg *tls.Config) string {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName
}

// waitCert polls until addr serves the certificate named name.
func waitCert(t *testing.T, addr string, cfg *tls.Config, name string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := servedCert(t, addr, cfg)
		if got == name {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("served certificate %q, want %q after the files changed", got, name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
