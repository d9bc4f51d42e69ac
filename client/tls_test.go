package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/cached/cached/client"
	"github.com/cached/cached/node"
	"github.com/cached/cached/protocol/grpc/grpctest"
	"github.com/cached/cached/protocol/resp"
)

// startTLSNode starts a single node serving RESP over TLS only, with a
// self-signed certificate, and returns its address and a client config
// that trusts it.
func startTLSNode(t *testing.T) (string, *tls.Config) {
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

	ncfg := node.DefaultConfig()
	ncfg.Logger = grpctest.Logger("tls")
	n, err := node.New(ncfg)
	if err != nil {
		t.Fatal(err)
	}
	rcfg := resp.DefaultConfig()
	rcfg.Addr = ""
	rcfg.TLSAddr = "127.0.0.1:0"
	rcfg.TLS = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	rcfg.Logger = ncfg.Logger
	srv, err := resp.New(rcfg, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); n.Close() })
	return srv.TLSAddr().String(), &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
}

// TestTLS: with Config.TLS the client speaks TLS to a node's tls-port;
// without it, it cannot.
func TestTLS(t *testing.T) {
	addr, cfg := startTLSNode(t)
	c := newClient(t, client.Config{Addrs: []string{addr}, TLS: cfg})
	ctx := ctxT(t)
	if err := c.Set(ctx, "k", []byte("over tls"), 0); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, "k"); err != nil || string(got) != "over tls" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if plain, err := client.New(ctx, client.Config{Addrs: []string{addr}, DialTimeout: 2 * time.Second}); err == nil {
		err = plain.Set(ctx, "k", []byte("plain"), 0)
		plain.Close()
		if err == nil {
			t.Fatal("a client without TLS wrote to the TLS port")
		}
	}
}
