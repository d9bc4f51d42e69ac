package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// Config configures a Pool. Start from DefaultConfig.
type Config struct {
	// DialTimeout bounds the TCP connect to a peer.
	DialTimeout time.Duration
	// CallTimeout bounds a call from Go to its reply, dialing and handshake
	// included. A call without a reply by then fails with ErrTimeout and its
	// connection is closed, since a pipelined connection cannot skip a
	// reply; the connection's other pending calls fail with ErrConnClosed
	// (or ErrTimeout, if theirs has passed too) and the next call redials.
	// Dedicated connections ignore it: their context governs.
	CallTimeout time.Duration
	// ConnsPerPeer is the number of pipelined connections per (address,
	// protocol); a call's hint picks one, hint % ConnsPerPeer.
	ConnsPerPeer int
	// MaxInFlight bounds the calls pending (queued, sent, awaiting a reply)
	// on one connection. Beyond it calls fail at once with ErrOverloaded.
	MaxInFlight int
	// MaxReplyLen bounds one reply, in bytes, aggregates included. A larger
	// reply closes the connection with ErrMalformed: the network never
	// decides how much the pool allocates.
	MaxReplyLen int
	// Handshake holds commands sent right after dialing, before any call
	// and before HELLO 3 (so AUTH can come first), e.g. AUTH or CLIENT
	// SETNAME. An error reply fails the connection's calls with
	// ErrHandshake.
	Handshake [][][]byte
	// OnPush, if set, receives RESP3 push messages (">") that are not
	// replies to calls, such as invalidations, with the peer's address. It
	// runs on the connection's reader goroutine, must not block, and owns
	// msg. Pooled connections must not be used for SUBSCRIBE and the like,
	// whose replies are pushes too.
	OnPush func(addr string, msg []byte)
	// Dial, if set, opens connections instead of a net.Dialer with
	// DialTimeout (tests use it to cut nodes off from each other).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logger receives connection events (never one line per call).
	Logger *slog.Logger
}

// DefaultConfig returns the defaults: 2s dial, 5s calls, 2 connections per
// peer, 10000 calls in flight per connection, 512 MiB replies.
func DefaultConfig() Config {
	return Config{
		DialTimeout:  2 * time.Second,
		CallTimeout:  5 * time.Second,
		ConnsPerPeer: 2,
		MaxInFlight:  10000,
		MaxReplyLen:  MaxDeclaredLen,
		Logger:       slog.Default(),
	}
}

// maxConnsPerPeer keeps a typo from opening thousands of sockets per peer.
const maxConnsPerPeer = 1024

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.DialTimeout <= 0:
		return errors.New("peer: DialTimeout: must be positive")
	case c.CallTimeout <= 0:
		return errors.New("peer: CallTimeout: must be positive")
	case c.ConnsPerPeer < 1 || c.ConnsPerPeer > maxConnsPerPeer:
		return fmt.Errorf("peer: ConnsPerPeer: %d not in [1, %d]", c.ConnsPerPeer, maxConnsPerPeer)
	case c.MaxInFlight < 1:
		return errors.New("peer: MaxInFlight: must be positive")
	case c.MaxReplyLen < 1:
		return errors.New("peer: MaxReplyLen: must be positive")
	case c.Logger == nil:
		return errors.New("peer: Logger: must be set")
	}
	for i, cmd := range c.Handshake {
		if len(cmd) == 0 {
			return fmt.Errorf("peer: Handshake[%d]: empty command", i)
		}
	}
	return nil
}
