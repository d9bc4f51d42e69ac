package resp

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cached/cached/node"
)

// selfSigned returns a server config with a self-signed certificate for
// 127.0.0.1, and a client config that trusts it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, ServerName: "127.0.0.1"}
}

// tlsDo sends cmd over a new TLS connection and returns the reply line.
func tlsDo(t *testing.T, addr string, cfg *tls.Config, cmd string) string {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("%s over TLS: %v", cmd, err)
	}
	return strings.TrimSpace(line)
}

// TestTLSListener serves clients on a TLS listener alone: a client that
// connects and never handshakes holds up neither the others nor Close,
// and maxclients counts TLS clients.
func TestTLSListener(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	ts := startServer(t, func(_ *node.Config, c *Config) {
		c.Addr = ""
		c.TLSAddr = "127.0.0.1:0"
		c.TLS = serverTLS
		c.MaxClients = 2
	})
	addr := ts.srv.TLSAddr().String()
	if ts.srv.Addr().String() != addr {
		t.Fatalf("Addr() %v, want the TLS listener's %s without a plain one", ts.srv.Addr(), addr)
	}
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	if got := tlsDo(t, addr, clientTLS, "PING"); got != "+PONG" {
		t.Fatalf("PING over TLS beside a silent connection: %q", got)
	}

	checkFor(t, 5*time.Second, func() error {
		if n := ts.srv.ClientCount(); n != 0 {
			return fmt.Errorf("%d clients after the PING connection closed, want 0", n)
		}
		return nil
	})
	first, err := tls.Dial("tcp", addr, clientTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	checkFor(t, 5*time.Second, func() error {
		if n := ts.srv.ClientCount(); n != 1 {
			return fmt.Errorf("%d clients, want 1", n)
		}
		return nil
	})
	// The silent connection in its handshake and the first client make
	// maxclients: a third is closed before its handshake.
	if c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, clientTLS); err == nil {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = bufio.NewReader(c).ReadString('\n')
		c.Close()
		if err == nil {
			t.Fatal("third TLS connection at maxclients 2 was served")
		}
	}
	silent.Close()
	checkFor(t, 5*time.Second, func() error {
		if n := ts.srv.tls.handshakes.Load(); n != 0 {
			return fmt.Errorf("%d handshakes in progress after the silent connection closed, want 0", n)
		}
		return nil
	})
	if got := tlsDo(t, addr, clientTLS, "PING"); got != "+PONG" {
		t.Fatalf("PING over TLS once the silent connection left: %q", got)
	}
	done := make(chan struct{})
	go func() { ts.srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a handshake that never comes")
	}
}

func TestTLSConfigValidate(t *testing.T) {
	serverTLS, _ := selfSigned(t)
	old := serverTLS.Clone()
	old.MinVersion = tls.VersionTLS11
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no listener", func(c *Config) { c.Addr = "" }, "port"},
		{"tls-port without a config", func(c *Config) { c.TLSAddr = "127.0.0.1:0" }, "tls-port"},
		{"TLS 1.1", func(c *Config) { c.TLSAddr, c.TLS = "127.0.0.1:0", old }, "TLS 1.2"},
		{"peer TLS 1.1", func(c *Config) { c.PeerTLS = old }, "tls-cluster"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v, want an error naming %q", err, tc.want)
			}
		})
	}
}
