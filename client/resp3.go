package client

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// A minimal RESP3 codec for the near cache's tracking connections, which
// need what go-redis does not give: invalidation pushes interleaved with
// the replies of one connection, in the order the server sent them.

// Limits of what the server may make this reader allocate.
const (
	maxBulkLen   = 512 << 20 // Redis's proto-max-bulk-len default
	maxLineLen   = 64 << 10  // a simple string, error or number line
	maxNesting   = 8         // aggregates within aggregates
	maxPrealloc  = 64        // elements reserved before they arrive
	crlfOverhead = 2
)

// errProtocol: the server sent something this reader does not accept;
// the connection cannot be trusted any more.
var errProtocol = errors.New("cached: protocol error on the tracking connection")

// replyError is an error reply of the server. It satisfies go-redis's
// redis.Error, so the retry and breaker logic treats it as the node
// answering.
type replyError string

func (e replyError) Error() string { return string(e) }

// RedisError marks replyError as a server reply.
func (replyError) RedisError() {}

// value is one decoded RESP3 value.
type value struct {
	kind  byte // the RESP3 type byte: '$', '+', '-', ':', '_', '*', '>', ...
	null  bool // a null ('_', or RESP2's $-1 / *-1)
	str   []byte
	num   int64
	elems []value // aggregates; a map's keys and values alternate
}

// err returns the error of an error reply, nil for any other value.
func (v value) err() error {
	if v.kind == '-' || v.kind == '!' {
		return replyError(v.str)
	}
	return nil
}

// readValue reads one value from r.
func readValue(r *bufio.Reader) (value, error) {
	return readNested(r, 0)
}

func readNested(r *bufio.Reader, depth int) (value, error) {
	if depth > maxNesting {
		return value{}, fmt.Errorf("%w: nested deeper than %d", errProtocol, maxNesting)
	}
	line, err := readLine(r)
	if err != nil {
		return value{}, err
	}
	if len(line) == 0 {
		return value{}, fmt.Errorf("%w: empty line", errProtocol)
	}
	v := value{kind: line[0]}
	body := line[1:]
	switch v.kind {
	case '+', '-', ',', '(':
		v.str = body
	case '_':
		v.null = true
	case '#':
		v.num = 0
		if string(body) == "t" {
			v.num = 1
		}
	case ':':
		if v.num, err = strconv.ParseInt(string(body), 10, 64); err != nil {
			return value{}, fmt.Errorf("%w: integer %q", errProtocol, body)
		}
	case '$', '!', '=':
		n, err := strconv.Atoi(string(body))
		switch {
		case err != nil || n < -1 || n > maxBulkLen:
			return value{}, fmt.Errorf("%w: bulk length %q", errProtocol, body)
		case n == -1:
			v.null = true
			return v, nil
		}
		buf, err := readBulk(r, n+crlfOverhead)
		if err != nil {
			return value{}, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return value{}, fmt.Errorf("%w: bulk not ended by CRLF", errProtocol)
		}
		v.str = buf[:n]
	case '*', '>', '~', '%', '|':
		n, err := strconv.Atoi(string(body))
		if err != nil || n < -1 {
			return value{}, fmt.Errorf("%w: aggregate length %q", errProtocol, body)
		}
		if n == -1 {
			v.null = true
			return v, nil
		}
		if v.kind == '%' || v.kind == '|' {
			n *= 2
		}
		// Elements are appended as they arrive: a length the server
		// announces costs nothing until its elements are really sent.
		v.elems = make([]value, 0, min(n, maxPrealloc))
		for range n {
			e, err := readNested(r, depth+1)
			if err != nil {
				return value{}, err
			}
			v.elems = append(v.elems, e)
		}
		if v.kind == '|' {
			// Attributes precede the value they describe: skip them.
			return readNested(r, depth)
		}
	default:
		return value{}, fmt.Errorf("%w: unknown type %q", errProtocol, v.kind)
	}
	return v, nil
}

// readLine reads a line ended by CRLF, without it, of at most maxLineLen
// bytes. The returned slice is the caller's.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > maxLineLen {
			return nil, fmt.Errorf("%w: line longer than %d bytes", errProtocol, maxLineLen)
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			if len(line) < 2 || line[len(line)-2] != '\r' {
				return nil, fmt.Errorf("%w: line not ended by CRLF", errProtocol)
			}
			return line[:len(line)-2], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return nil, err
		}
	}
}

// smallBulk is the largest bulk read into a buffer of its announced size
// at once; a larger one grows with the bytes that arrive.
const smallBulk = 64 << 10

// readBulk reads exactly n bytes.
func readBulk(r *bufio.Reader, n int) ([]byte, error) {
	if n <= smallBulk {
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, noEOF(err)
		}
		return buf, nil
	}
	var bb bytes.Buffer
	if _, err := io.CopyN(&bb, r, int64(n)); err != nil {
		return nil, noEOF(err)
	}
	return bb.Bytes(), nil
}

// noEOF turns a clean EOF in the middle of a value into
// io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// appendCommand appends args as a RESP array of bulk strings.
func appendCommand(b []byte, args ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}
