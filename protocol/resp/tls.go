package resp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"
)

// handshakeTimeout bounds a TLS handshake, so a client that connects and
// says nothing does not hold a goroutine (and a maxclients slot) forever.
const handshakeTimeout = 10 * time.Second

// tlsListener is the TLS side of a Server: the listener for clients
// (tls-port) and the config of the peer listener (tls-cluster).
type tlsListener struct {
	addr       string
	config     *tls.Config // for clients
	peerConfig *tls.Config // for the peer listener; nil: plain text
	ln         net.Listener
	// handshakes counts connections accepted but not yet through their
	// handshake.
	handshakes atomic.Int64
	// ctx ends when the server closes, cutting handshakes in progress.
	ctx    context.Context
	cancel context.CancelFunc
}

// validateTLS checks the listener settings: at least one client listener,
// and a TLS config for each TLS one.
func (c Config) validateTLS() error {
	switch {
	case c.Addr == "" && c.TLSAddr == "":
		return errors.New("port: no listener for clients: set port or tls-port")
	case c.TLSAddr != "" && c.TLS == nil:
		return errors.New("tls-port: needs a TLS configuration (tls-cert-file, tls-key-file)")
	case c.TLS != nil && c.TLS.MinVersion < tls.VersionTLS12:
		return errors.New("tls: the minimum version must be at least TLS 1.2")
	case c.PeerTLS != nil && c.PeerTLS.MinVersion < tls.VersionTLS12:
		return errors.New("tls-cluster: the minimum version must be at least TLS 1.2")
	}
	return nil
}

// TLSAddr returns the address of the TLS listener for clients (nil
// without one).
func (s *Server) TLSAddr() net.Addr {
	if s.tls.ln == nil {
		return nil
	}
	return s.tls.ln.Addr()
}

// startTLS serves the TLS listener, if any. Each connection's handshake
// runs on the connection's own goroutine, never on the accept loop.
func (s *Server) startTLS() {
	s.tls.ctx, s.tls.cancel = context.WithCancel(context.Background())
	if s.tls.ln == nil {
		return
	}
	s.wg.Add(1)
	go s.acceptTLS()
}

// stopTLS closes the TLS listener and cuts the handshakes in progress.
func (s *Server) stopTLS() {
	if s.tls.ln != nil {
		s.tls.ln.Close()
	}
	if s.tls.cancel != nil {
		s.tls.cancel()
	}
}

func (s *Server) acceptTLS() {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		nc, err := s.tls.ln.Accept()
		if err != nil {
			if s.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			backoff = min(max(backoff*2, 5*time.Millisecond), time.Second)
			s.logger.Warn("tls accept failed", "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		s.connsReceived.Add(1)
		// Connections in their handshake count against maxclients, as
		// plain ones count from their accept: a crowd of silent
		// connections cannot pile up. There is no channel yet to send
		// the error on, so the connection is just closed.
		if s.tls.handshakes.Load()+int64(s.ClientCount()) >= s.maxClients.Load() {
			s.connsRejected.Add(1)
			nc.Close()
			continue
		}
		s.tls.handshakes.Add(1)
		s.wg.Add(1)
		go s.serveTLS(tls.Server(nc, s.tls.config))
	}
}

// serveTLS completes a client's handshake, then serves it like a plain
// connection (on its goroutine: the event loops speak only plain TCP).
func (s *Server) serveTLS(tc *tls.Conn) {
	ok := s.handshake(tc)
	s.tls.handshakes.Add(-1)
	if !ok {
		s.wg.Done()
		return
	}
	c := s.newClient(tc.RemoteAddr().String(), tc.LocalAddr().String())
	c.conn = tc
	c.execLock = &s.execLocks[len(s.execLocks)-1]
	c.reader = NewReader(tc, s.limits)
	if !s.register(c) {
		s.connsRejected.Add(1)
		tc.SetWriteDeadline(time.Now().Add(handshakeTimeout))
		tc.Write([]byte("-" + msgMaxClients + "\r\n"))
		tc.Close()
		s.wg.Done()
		return
	}
	s.serve(c)
}

// handshake completes the TLS handshake of nc, if it is a TLS connection,
// within handshakeTimeout. On failure it closes nc and reports false.
func (s *Server) handshake(nc net.Conn) bool {
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return true
	}
	ctx, cancel := context.WithTimeout(s.tls.ctx, handshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		s.logger.Debug("tls handshake failed", "client", tc.RemoteAddr().String(), "err", fmt.Sprint(err))
		tc.Close()
		return false
	}
	return true
}
