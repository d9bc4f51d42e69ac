package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// reloadInterval is how often the TLS and gossip key files are re-read.
const reloadInterval = time.Second

// security is TLS (for clients, gRPC and peer links) and gossip encryption:
// the settings as given, then the files they name once loaded.
type security struct {
	tlsPort                   string
	certFile, keyFile, caFile string
	clientAuth                tls.ClientAuthType
	cluster, grpc             bool
	gossipKey, gossipKeyFile  string

	files  *tlsFiles   // nil without TLS
	gossip *gossipKeys // nil without gossip encryption

	// The last reload errors, so a file that stays broken or missing is
	// reported once, not every reloadInterval. Used by watch's goroutine.
	lastTLSErr, lastGossipErr string
}

// securitySettings are the CONFIG GET names of the settings in security;
// gossip-key is left out, as a secret.
var securitySettings = []string{"tls-port", "tls-cert-file", "tls-key-file", "tls-ca-cert-file",
	"tls-auth-clients", "tls-cluster", "tls-grpc", "gossip-key-file"}

// setup checks the settings together, loads the files, and wires TLS and
// the gossip keyring into c. It runs after every setting is applied.
func (s *security) setup(c *config, raw map[string]string) error {
	var users []string
	if s.tlsPort != "" {
		users = append(users, "tls-port")
	}
	if s.cluster {
		users = append(users, "tls-cluster")
	}
	if s.grpc {
		users = append(users, "tls-grpc")
	}
	if raw["port"] == "" && s.tlsPort == "" {
		return errors.New(`invalid port "": no listener for clients; set port or tls-port`)
	}
	if len(users) > 0 {
		if err := s.loadTLS(strings.Join(users, ", ")); err != nil {
			return err
		}
		s.wireTLS(c, raw)
	}
	g, err := newGossipKeys(s.gossipKey, s.gossipKeyFile)
	if err != nil {
		return err
	}
	s.gossip = g
	if g != nil && c.node.Cluster != nil {
		c.node.Cluster.Keyring = g.keyring
	}
	for _, name := range securitySettings {
		c.resp.Settings[name] = raw[name]
	}
	return nil
}

// loadTLS checks that the files the TLS settings named by users need are
// set, and loads them.
func (s *security) loadTLS(users string) error {
	switch {
	case s.certFile == "":
		return fmt.Errorf("invalid tls-cert-file: required by %s", users)
	case s.keyFile == "":
		return fmt.Errorf("invalid tls-key-file: required by %s", users)
	case s.caFile == "" && s.clientAuth != tls.NoClientCert && (s.tlsPort != "" || s.grpc):
		return errors.New("invalid tls-auth-clients: verifying client certificates needs tls-ca-cert-file (or set tls-auth-clients no)")
	case s.caFile == "" && s.cluster:
		return errors.New("invalid tls-cluster: verifying the other nodes needs tls-ca-cert-file")
	}
	f, err := newTLSFiles(s.certFile, s.keyFile, s.caFile)
	if err != nil {
		return fmt.Errorf("invalid %w", err)
	}
	s.files = f
	return nil
}

// wireTLS sets the TLS listener, the peer listener and peer dials of c.
func (s *security) wireTLS(c *config, raw map[string]string) {
	if raw["port"] == "" {
		c.resp.Addr = ""
	}
	if s.tlsPort != "" {
		c.resp.TLSAddr = net.JoinHostPort(raw["bind"], s.tlsPort)
		c.resp.TLS = s.files.serverConfig(s.clientAuth)
	}
	if s.cluster && c.node.Cluster != nil {
		// Peers are trusted without AUTH: the peer listener always wants a
		// certificate from the CA, whatever tls-auth-clients says.
		c.resp.PeerTLS = s.files.serverConfig(tls.RequireAndVerifyClientCert)
		c.node.Cluster.Peer.Dial = s.files.dialer(c.node.Cluster.Peer.DialTimeout)
	}
	if c.resp.PeerAddr != "" && raw["port"] == "" && raw["peer-port"] == "0" {
		// As Redis Cluster's bus: the client port + 10000, here the TLS one.
		if p, _ := strconv.Atoi(s.tlsPort); p != 0 && p+10000 <= 65535 {
			c.resp.PeerAddr = net.JoinHostPort(raw["bind"], strconv.Itoa(p+10000))
		}
	}
}

// grpcTLS returns the gRPC server's TLS config, or nil for plain text.
func (s *security) grpcTLS() *tls.Config {
	if !s.grpc {
		return nil
	}
	return s.files.serverConfig(s.clientAuth)
}

// advertiseTLS reports whether other nodes and cluster-aware clients are
// told the TLS port rather than the plain one (tls-cluster, as Redis).
func (s *security) advertiseTLS() bool { return s.cluster && s.tlsPort != "" }

// watch re-reads the TLS and gossip key files every reloadInterval in the
// background, logging what changed; the returned func stops it and waits.
func (s *security) watch(logger *slog.Logger) (stop func()) {
	if s.files == nil && (s.gossip == nil || s.gossip.file == "") {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(reloadInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			s.reload(logger)
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// reload re-reads the files once.
func (s *security) reload(logger *slog.Logger) {
	if s.files != nil {
		changed, err := s.files.reload()
		if report(err, &s.lastTLSErr) {
			logger.Warn("tls files not reloaded: the previous certificate stays in use", "err", err)
		} else if changed {
			logger.Info("tls files reloaded", "cert", s.files.certFile, "ca", s.files.caFile)
		}
	}
	if s.gossip != nil {
		changed, err := s.gossip.reload()
		if report(err, &s.lastGossipErr) {
			logger.Warn("gossip keys not reloaded: the previous keys stay in use", "file", s.gossip.file, "err", err)
		} else if changed {
			logger.Info("gossip keys reloaded", "file", s.gossip.file, "keys", len(s.gossip.keyring.GetKeys()))
		}
	}
}

// report reports whether err is new since the last call with last, and
// records it.
func report(err error, last *string) bool {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	isNew := msg != *last
	*last = msg
	return err != nil && isNew
}
