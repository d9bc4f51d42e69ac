package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// tlsFiles are the certificate, key and CA bundle that the TLS listeners
// and peer links use. Handshakes read the last good copy from memory; the
// files are re-read by poll, so a handshake never waits on the disk and a
// renewed certificate (cert-manager, a rotated Secret) is used without a
// restart. Connections already open keep the certificate they started
// with.
type tlsFiles struct {
	certFile, keyFile, caFile string

	cert atomic.Pointer[tls.Certificate]
	pool atomic.Pointer[x509.CertPool] // nil without a CA file

	mu   sync.Mutex // guards seen
	seen [3][]byte  // the contents last loaded or rejected: cert, key, CA
}

// newTLSFiles loads the files once; an error names the setting at fault.
func newTLSFiles(certFile, keyFile, caFile string) (*tlsFiles, error) {
	f := &tlsFiles{certFile: certFile, keyFile: keyFile, caFile: caFile}
	if _, err := f.reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// reload reads the files and, if they changed since the last call, parses
// and installs them. It reports whether it installed new ones. On an error
// the previous certificate and CA stay in use; the same contents are not
// tried (or reported) again, so a half-written pair is picked up when its
// second file lands.
func (f *tlsFiles) reload() (bool, error) {
	var now [3][]byte
	for i, name := range [3]string{f.certFile, f.keyFile, f.caFile} {
		if name == "" {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return false, fmt.Errorf("%s: %w", [3]string{"tls-cert-file", "tls-key-file", "tls-ca-cert-file"}[i], err)
		}
		now[i] = b
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cert.Load() != nil && bytes.Equal(now[0], f.seen[0]) && bytes.Equal(now[1], f.seen[1]) && bytes.Equal(now[2], f.seen[2]) {
		return false, nil
	}
	f.seen = now
	cert, err := tls.X509KeyPair(now[0], now[1])
	if err != nil {
		return false, fmt.Errorf("tls-cert-file %s and tls-key-file %s: %w", f.certFile, f.keyFile, err)
	}
	var pool *x509.CertPool
	if f.caFile != "" {
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(now[2]) {
			return false, fmt.Errorf("tls-ca-cert-file %s: no PEM certificate in it", f.caFile)
		}
	}
	f.cert.Store(&cert)
	f.pool.Store(pool)
	return true, nil
}

// serverConfig returns the config of a TLS listener: TLS 1.2 at least, the
// current certificate, and client certificates checked against the current
// CA as auth says.
func (f *tlsFiles) serverConfig(auth tls.ClientAuthType) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return &tls.Config{
				MinVersion:   tls.VersionTLS12,
				Certificates: []tls.Certificate{*f.cert.Load()},
				ClientAuth:   auth,
				ClientCAs:    f.pool.Load(),
			}, nil
		},
	}
}

// clientConfig returns the config of a peer link: TLS 1.2 at least, the
// current certificate as the client certificate, and the peer's chain
// verified against the current CA. Host names are not checked, as in Redis
// Cluster: a node is reached at whatever address gossip advertises (a pod
// IP), and any certificate the CA signed for servers is a member.
func (f *tlsFiles) clientConfig() *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by VerifyConnection: the chain, not the name
		VerifyConnection:   f.verifyPeer,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return f.cert.Load(), nil
		},
	}
}

// errNoPeerCert is a peer that sent no certificate.
var errNoPeerCert = errors.New("tls: the peer sent no certificate")

// verifyPeer checks a peer's certificate chain against the current CA.
func (f *tlsFiles) verifyPeer(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errNoPeerCert
	}
	opts := x509.VerifyOptions{Roots: f.pool.Load(), Intermediates: x509.NewCertPool(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(opts)
	return err
}

// dialer returns a peer.Config.Dial that opens TLS links within timeout.
func (f *tlsFiles) dialer(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: f.clientConfig()}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return d.DialContext(ctx, network, addr)
	}
}

// parseClientAuth parses tls-auth-clients: no, yes (a certificate signed
// by the CA is required) or optional (checked when given).
func parseClientAuth(v string) (tls.ClientAuthType, error) {
	switch v {
	case "no":
		return tls.NoClientCert, nil
	case "yes":
		return tls.RequireAndVerifyClientCert, nil
	case "optional":
		return tls.VerifyClientCertIfGiven, nil
	}
	return 0, errors.New("must be no, yes or optional")
}

// parseTLSPort parses tls-port: empty for no TLS listener, else a port
// (0 picks a free one, as for the other ports).
func parseTLSPort(v string) error {
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 65535 {
		return errors.New("must be a port number 0..65535, or empty for no TLS listener")
	}
	return nil
}
