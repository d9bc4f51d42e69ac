package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
)

// Limits bound what one client may make the server allocate. Every limit is
// checked before the bytes it guards are buffered.
type Limits struct {
	// MaxBulkLen is the largest accepted bulk string (proto-max-bulk-len).
	MaxBulkLen int
	// MaxArgs is the most arguments one command may have.
	MaxArgs int
	// MaxInlineLen is the longest inline (telnet-style) command line.
	MaxInlineLen int
	// MaxQueryBuffer is the most unprocessed input buffered for one client
	// (client-query-buffer-limit).
	MaxQueryBuffer int
}

// DefaultLimits returns Redis's defaults.
func DefaultLimits() Limits {
	return Limits{
		MaxBulkLen:     512 << 20,
		MaxArgs:        1024 * 1024,
		MaxInlineLen:   64 << 10,
		MaxQueryBuffer: 1 << 30,
	}
}

// Validate reports the first invalid limit.
func (l Limits) Validate() error {
	switch {
	case l.MaxBulkLen < 1:
		return errors.New("proto-max-bulk-len: must be positive")
	case l.MaxArgs < 1:
		return errors.New("max arguments: must be positive")
	case l.MaxInlineLen < 64:
		return errors.New("max inline length: must be at least 64")
	case l.MaxQueryBuffer < l.MaxInlineLen:
		return errors.New("client-query-buffer-limit: must be at least the max inline length")
	}
	return nil
}

// ProtocolError is a malformed request. The server replies with it and
// closes the connection, as Redis does.
type ProtocolError struct{ msg string }

func (e *ProtocolError) Error() string { return "Protocol error: " + e.msg }

func protoErr(format string, args ...any) error {
	return &ProtocolError{msg: fmt.Sprintf(format, args...)}
}

// errQueryBuffer: a client's unprocessed input passed MaxQueryBuffer.
var errQueryBuffer = errors.New("query buffer limit reached")

const (
	initialBuffer = 16 << 10
	maxHeaderLine = 64 << 10 // longest '*' or '$' line, as Redis's PROTO_INLINE_MAX_SIZE
)

// Reader reads RESP commands (arrays of bulk strings, or inline lines) from a
// connection. It parses incrementally: a command that arrives in pieces is
// not re-parsed from its start, and the buffer grows only with bytes that
// really arrived, never to a declared length.
//
// The argument slices returned by Next point into the reader's buffer and
// are valid only until the next call to Next.
type Reader struct {
	rd     io.Reader
	limits Limits
	buf    []byte
	r, w   int   // unread data is buf[r:w]
	total  int64 // bytes read so far

	// Parse state of the command at buf[r:], kept across reads.
	nargs  int   // -1 until the array header was read
	pos    int   // offset from r of the next unparsed byte
	bulk   int   // length of the bulk being read, -1 when at a '$' line
	marks  []int // start, end offsets (from r) of parsed arguments
	args   [][]byte
	inline [][]byte
}

// NewReader returns a Reader of rd enforcing limits.
func NewReader(rd io.Reader, limits Limits) *Reader {
	return &Reader{rd: rd, limits: limits, buf: make([]byte, limits.startBuffer()), nargs: -1, bulk: -1}
}

// startBuffer is the size of a new or shrunk buffer: never more than the
// query buffer limit, so that the limit holds from the first read.
func (l Limits) startBuffer() int {
	return max(min(initialBuffer, l.MaxQueryBuffer), 1)
}

// Next returns the next buffered command's arguments without reading; ok is
// false when no complete command is buffered (call Fill). An empty array
// (*0) is skipped, as Redis does. Errors are *ProtocolError.
func (r *Reader) Next() (args [][]byte, ok bool, err error) {
	for {
		args, done, err := r.parse()
		if err != nil || !done {
			return nil, false, err
		}
		if args != nil {
			return args, true, nil
		}
	}
}

// Fill reads more input, making room first. It returns errQueryBuffer when
// the client's unprocessed input reached MaxQueryBuffer, or the read error.
func (r *Reader) Fill() error { return r.fill() }

// fill reads more input, making room first.
func (r *Reader) fill() error {
	if r.r == r.w {
		r.r, r.w = 0, 0
	}
	if r.w == len(r.buf) {
		if r.r > 0 {
			r.w = copy(r.buf, r.buf[r.r:r.w])
			r.r = 0
		} else {
			if len(r.buf) >= r.limits.MaxQueryBuffer {
				return errQueryBuffer
			}
			grown := make([]byte, min(len(r.buf)*2, r.limits.MaxQueryBuffer))
			copy(grown, r.buf[:r.w])
			r.buf = grown
		}
	}
	n, err := r.rd.Read(r.buf[r.w:])
	r.w += n
	r.total += int64(n)
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// shrink drops a buffer that grew for a large command once it is consumed.
func (r *Reader) shrink() {
	if r.r == r.w && len(r.buf) > 4*initialBuffer {
		r.buf = make([]byte, r.limits.startBuffer())
		r.r, r.w = 0, 0
	}
}

// parse advances the parse of buf[r:w]. It returns done when a command is
// complete (args nil for an empty one) and consumes it.
func (r *Reader) parse() (args [][]byte, done bool, err error) {
	data := r.buf[r.r:r.w]
	if len(data) == 0 {
		return nil, false, nil
	}
	if r.nargs < 0 {
		if data[0] != '*' {
			return r.parseInline(data)
		}
		// The line-length checks apply whether or not the '\n' has
		// arrived, so the outcome does not depend on how input is split.
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 && len(data) > maxHeaderLine || nl > maxHeaderLine {
			return nil, false, protoErr("too big mbulk count string")
		}
		if nl < 0 {
			return nil, false, nil
		}
		n, ok := parseLength(data[1:nl])
		if !ok || n > int64(r.limits.MaxArgs) {
			return nil, false, protoErr("invalid multibulk length")
		}
		if n <= 0 {
			r.consume(nl + 1)
			return nil, true, nil
		}
		r.nargs, r.pos, r.marks = int(n), nl+1, r.marks[:0]
	}
	for len(r.marks)/2 < r.nargs {
		rest := data[r.pos:]
		if r.bulk < 0 {
			if len(rest) == 0 {
				return nil, false, nil
			}
			if rest[0] != '$' {
				return nil, false, protoErr("expected '$', got '%c'", rest[0])
			}
			nl := bytes.IndexByte(rest, '\n')
			if nl < 0 && len(rest) > maxHeaderLine || nl > maxHeaderLine {
				return nil, false, protoErr("too big bulk count string")
			}
			if nl < 0 {
				return nil, false, nil
			}
			n, ok := parseLength(rest[1:nl])
			if !ok || n < 0 || n > int64(r.limits.MaxBulkLen) {
				return nil, false, protoErr("invalid bulk length")
			}
			r.bulk = int(n)
			r.pos += nl + 1
			rest = rest[nl+1:]
		}
		if len(rest) < r.bulk+2 {
			return nil, false, nil
		}
		r.marks = append(r.marks, r.pos, r.pos+r.bulk)
		r.pos += r.bulk + 2
		r.bulk = -1
	}
	args = r.args[:0]
	for j := 0; j < len(r.marks); j += 2 {
		args = append(args, data[r.marks[j]:r.marks[j+1]:r.marks[j+1]])
	}
	r.args = args
	r.consume(r.pos)
	r.nargs = -1
	return args, true, nil
}

// consume marks n bytes from r as read.
func (r *Reader) consume(n int) {
	r.r += n
	r.pos = 0
	r.shrink()
}

// parseInline parses a telnet-style line: space-separated words, with
// double-quoted (escapes allowed) and single-quoted words, as redis-cli sends.
func (r *Reader) parseInline(data []byte) ([][]byte, bool, error) {
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 && len(data) > r.limits.MaxInlineLen || nl > r.limits.MaxInlineLen {
		return nil, false, protoErr("too big inline request")
	}
	if nl < 0 {
		return nil, false, nil
	}
	line := data[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	words, err := splitInline(line, r.inline[:0])
	if err != nil {
		return nil, false, err
	}
	if len(words) > r.limits.MaxArgs {
		return nil, false, protoErr("invalid multibulk length")
	}
	r.inline = words
	r.consume(nl + 1)
	if len(words) == 0 {
		return nil, true, nil
	}
	return words, true, nil
}

// splitInline splits an inline command line into words following Redis's
// sdssplitargs: words are separated by white space; a double or single quote,
// even inside a word, opens a quoted part (C-like escapes and \xHH allowed
// in double quotes, only \' in single quotes); a closing quote must be
// followed by white space or the end of the line.
func splitInline(line []byte, words [][]byte) ([][]byte, error) {
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			return words, nil
		}
		word := []byte{}
		inDouble, inSingle := false, false
	scan:
		for {
			switch {
			case inDouble:
				if i == len(line) {
					return nil, protoErr("unbalanced quotes in request")
				}
				c := line[i]
				switch {
				case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					c = unhex(line[i+2])<<4 | unhex(line[i+3])
					i += 3
				case c == '\\' && i+1 < len(line):
					i++
					switch c = line[i]; c {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					case 'b':
						c = '\b'
					case 'a':
						c = '\a'
					}
				case c == '"':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, protoErr("unbalanced quotes in request")
					}
					i++
					break scan
				}
				word = append(word, c)
				i++
			case inSingle:
				if i == len(line) {
					return nil, protoErr("unbalanced quotes in request")
				}
				c := line[i]
				switch {
				case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
					i++
					c = '\''
				case c == '\'':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, protoErr("unbalanced quotes in request")
					}
					i++
					break scan
				}
				word = append(word, c)
				i++
			default:
				if i == len(line) {
					break scan
				}
				switch c := line[i]; c {
				case ' ', '\n', '\r', '\t':
					break scan
				case '"':
					inDouble = true
				case '\'':
					inSingle = true
				default:
					word = append(word, c)
				}
				i++
			}
		}
		words = append(words, word)
	}
}

// isSpace reports C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// parseLength parses the number of a '*' or '$' line: b is what follows
// the type byte up to the '\n', so it must end in '\r'. Like Redis's
// string2ll it accepts only canonical decimals that fit in an int64: no '+',
// no leading zeros, no "-0".
func parseLength(b []byte) (int64, bool) {
	if len(b) < 2 || b[len(b)-1] != '\r' {
		return 0, false
	}
	b = b[:len(b)-1]
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	limit := uint64(math.MaxInt64)
	if neg {
		b = b[1:]
		limit++
	}
	if len(b) == 0 || b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (limit-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if neg {
		return -int64(n-1) - 1, true // -(1<<63) does not overflow
	}
	return int64(n), true
}
