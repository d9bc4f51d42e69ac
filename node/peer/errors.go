package peer

import "errors"

// Errors reported by the pool. They reach callers wrapped with the peer's
// address (and the underlying cause, where there is one); match them with
// errors.Is.
var (
	// ErrClosed: the Pool or the Conn was closed.
	ErrClosed = errors.New("peer pool closed")
	// ErrTimeout: no reply within Config.CallTimeout. The command may have
	// run on the peer.
	ErrTimeout = errors.New("peer call timed out")
	// ErrOverloaded: the connection already has Config.MaxInFlight calls
	// pending. The command was not sent.
	ErrOverloaded = errors.New("peer connection overloaded")
	// ErrConnClosed: the connection broke (I/O error, malformed reply,
	// another call's timeout, Forget) before the reply arrived. The command
	// may have run on the peer.
	ErrConnClosed = errors.New("peer connection closed")
	// ErrDial: the peer could not be reached. The command was not sent.
	ErrDial = errors.New("peer unreachable")
	// ErrHandshake: a handshake command (Config.Handshake, HELLO 3) got an
	// error reply. The command was not sent.
	ErrHandshake = errors.New("peer handshake failed")
	// ErrMalformed: bytes that are not valid RESP, or that break a limit
	// (MaxDeclaredLen, MaxDepth, Config.MaxReplyLen).
	ErrMalformed = errors.New("malformed RESP reply")
	// ErrReplyType: a decoding helper got a reply of another type than it
	// decodes (an error reply, for instance).
	ErrReplyType = errors.New("unexpected RESP reply type")
)
