package resp

import (
	"errors"
	"math"
	"strconv"

	"github.com/tidwall/redcon"

	"github.com/cached/cached/node/store"
)

// Reply encoding. RESP2 encodings come from redcon; the RESP3 types that
// differ (null, map, set, double, verbatim, push) are written here. Every
// method appends to the client's output buffer, which the connection loop
// flushes once per pipelined batch.

// resp3 reports whether the client speaks RESP3.
func (c *Client) resp3() bool { return c.proto.Load() == 3 }

func (c *Client) ok() { c.out = append(c.out, "+OK\r\n"...) }

func (c *Client) simple(s string) { c.out = redcon.AppendString(c.out, s) }

// errorReply writes msg, which starts with its error code (ERR, WRONGTYPE, ...).
func (c *Client) errorReply(msg string) {
	c.noteError(msg)
	c.out = redcon.AppendError(c.out, msg)
}

func (c *Client) integer(n int64) { c.out = redcon.AppendInt(c.out, n) }

func (c *Client) bulk(b []byte) { c.out = redcon.AppendBulk(c.out, b) }

func (c *Client) bulkString(s string) { c.out = redcon.AppendBulkString(c.out, s) }

func (c *Client) array(n int) { c.out = redcon.AppendArray(c.out, n) }

// null writes a null bulk string (RESP2) or null (RESP3).
func (c *Client) null() {
	if c.resp3() {
		c.out = append(c.out, "_\r\n"...)
		return
	}
	c.out = append(c.out, "$-1\r\n"...)
}

// nullArray writes a null array (RESP2) or null (RESP3).
func (c *Client) nullArray() {
	if c.resp3() {
		c.out = append(c.out, "_\r\n"...)
		return
	}
	c.out = append(c.out, "*-1\r\n"...)
}

// mapHeader starts a map of n pairs: a flat array of 2n in RESP2.
func (c *Client) mapHeader(n int) {
	if c.resp3() {
		c.out = appendPrefix(c.out, '%', n)
		return
	}
	c.array(2 * n)
}

// setHeader starts a set of n members: an array in RESP2.
func (c *Client) setHeader(n int) {
	if c.resp3() {
		c.out = appendPrefix(c.out, '~', n)
		return
	}
	c.array(n)
}

// double writes f as a RESP3 double, or a bulk string in RESP2.
func (c *Client) double(f float64) {
	if c.resp3() {
		c.out = append(c.out, ',')
		c.out = appendFloat(c.out, f)
		c.out = append(c.out, "\r\n"...)
		return
	}
	c.bulk(appendFloat(c.scratch[:0], f))
}

// verbatim writes text as a RESP3 verbatim string of format "txt", or a bulk
// string in RESP2.
func (c *Client) verbatim(text string) {
	if c.resp3() {
		c.out = appendPrefix(c.out, '=', len(text)+4)
		c.out = append(c.out, "txt:"...)
		c.out = append(c.out, text...)
		c.out = append(c.out, "\r\n"...)
		return
	}
	c.bulkString(text)
}

// stringArray writes ss as an array of bulk strings.
func (c *Client) stringArray(ss []string) {
	c.array(len(ss))
	for _, s := range ss {
		c.bulkString(s)
	}
}

func appendPrefix(b []byte, prefix byte, n int) []byte {
	b = append(b, prefix)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, "\r\n"...)
}

// appendFloat formats f as Redis replies doubles: shortest round-trip form,
// "inf"/"-inf" for infinities.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// Error replies with Redis's exact strings.
const (
	msgSyntax        = "ERR syntax error"
	msgNotInteger    = "ERR value is not an integer or out of range"
	msgNotFloat      = "ERR value is not a valid float"
	msgNoAuth        = "NOAUTH Authentication required."
	msgWrongPass     = "WRONGPASS invalid username-password pair or user is disabled."
	msgDBRange       = "ERR DB index is out of range"
	msgOffsetRange   = "ERR offset is out of range"
	msgNoSuchKey     = "ERR no such key"
	msgWrongType     = "WRONGTYPE Operation against a key holding the wrong kind of value"
	msgOOM           = "OOM command not allowed when used memory > 'maxmemory'."
	msgOverflow      = "ERR increment or decrement would overflow"
	msgNaN           = "ERR increment would produce NaN or Infinity"
	msgTooLarge      = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	msgCursor        = "ERR invalid cursor"
	msgNoProto       = "NOPROTO unsupported protocol version"
	msgMaxClients    = "ERR max number of clients reached"
	msgQueryBufLimit = "ERR query buffer limit reached, closing connection"
)

// replyErr writes err with the RESP error code front ends agree on. It is
// the one place store errors become protocol errors.
func (c *Client) replyErr(err error) {
	switch {
	case errors.Is(err, store.ErrWrongType):
		c.errorReply(msgWrongType)
	case errors.Is(err, store.ErrNotInteger):
		c.errorReply(msgNotInteger)
	case errors.Is(err, store.ErrNotFloat):
		c.errorReply(msgNotFloat)
	case errors.Is(err, store.ErrOverflow):
		c.errorReply(msgOverflow)
	case errors.Is(err, store.ErrNaN):
		c.errorReply(msgNaN)
	case errors.Is(err, store.ErrNoSuchKey):
		c.errorReply(msgNoSuchKey)
	case errors.Is(err, store.ErrTooLarge):
		c.errorReply(msgTooLarge)
	case errors.Is(err, store.ErrOOM):
		c.errorReply(msgOOM)
	case errors.Is(err, store.ErrHashNotInteger), errors.Is(err, store.ErrHashNotFloat),
		errors.Is(err, store.ErrIncrNaN), errors.Is(err, store.ErrIndexOutOfRange),
		errors.Is(err, store.ErrScoreNaN):
		c.errorReply("ERR " + err.Error())
	default:
		c.errorReply("ERR " + err.Error())
	}
}

func (c *Client) wrongArity(name string) { c.errorReply(arityMessage(name)) }

// arityMessage is Redis's error for a wrong number of arguments.
func arityMessage(name string) string {
	return "ERR wrong number of arguments for '" + name + "' command"
}
