package peer

import (
	"bufio"
	"fmt"
	"io"
	"slices"
)

// readBufferSize is the size of each connection's bufio.Reader: replies
// that fit are framed in place and copied out once.
const readBufferSize = 64 << 10

// replyReader frames replies off one connection. Not safe for concurrent
// use: each connection has one reader goroutine (or, for a Conn, one call
// at a time).
type replyReader struct {
	br  *bufio.Reader
	sc  scanner // state of the reply being framed
	max int     // Config.MaxReplyLen
}

func newReplyReader(r io.Reader, max int) *replyReader {
	rr := &replyReader{br: bufio.NewReaderSize(r, readBufferSize), max: max}
	rr.sc.reset()
	return rr
}

// next returns the next reply in a fresh slice owned by the caller. With
// block false it returns nil, nil rather than wait for the network, so the
// caller can hand over the replies it has first.
func (r *replyReader) next(block bool) ([]byte, error) {
	for {
		b, _ := r.br.Peek(r.br.Buffered()) // starts at the reply: nothing is discarded before it is complete
		if len(b) > 0 {
			n, err := r.sc.scan(b)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				if n > r.max {
					return nil, r.tooLarge(n)
				}
				reply := make([]byte, n)
				copy(reply, b)
				r.br.Discard(n)
				r.sc.reset()
				return reply, nil
			}
			if r.sc.need > r.max {
				return nil, r.tooLarge(r.sc.need)
			}
		}
		if !block {
			return nil, nil
		}
		if len(b) == r.br.Size() {
			return r.readLarge(b)
		}
		if _, err := r.br.Peek(len(b) + 1); err != nil {
			return nil, err
		}
	}
}

// readLarge finishes a reply that outgrew the buffer, whose first bytes
// are b, the whole buffer. The reply grows in its own slice, at most
// doubling at each step, so memory follows the bytes received, not the
// lengths declared. Bytes known to belong to the reply (the rest of a bulk
// string) are read straight into it, bypassing the buffer; otherwise what
// is buffered is appended and scanned, and only the reply's part consumed.
func (r *replyReader) readLarge(b []byte) ([]byte, error) {
	reply := make([]byte, len(b), 2*len(b))
	copy(reply, b)
	r.br.Discard(len(b))
	for {
		if want := r.sc.need - len(reply); want >= r.br.Size() && r.br.Buffered() == 0 {
			k := min(want, len(reply))
			reply = slices.Grow(reply, k)
			if _, err := io.ReadFull(r.br, reply[len(reply):len(reply)+k]); err != nil {
				return nil, err
			}
			reply = reply[:len(reply)+k]
			n, err := r.sc.scan(reply)
			if err != nil {
				return nil, err
			}
			if n > 0 { // n == len(reply): sc.need never overshoots
				r.sc.reset()
				return reply[:n:n], nil
			}
		} else {
			if r.br.Buffered() == 0 {
				if _, err := r.br.Peek(1); err != nil {
					return nil, err
				}
			}
			chunk, _ := r.br.Peek(r.br.Buffered())
			old := len(reply)
			reply = append(reply, chunk...)
			n, err := r.sc.scan(reply)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				if n > r.max {
					return nil, r.tooLarge(n)
				}
				r.br.Discard(n - old)
				r.sc.reset()
				return reply[:n:n], nil
			}
			r.br.Discard(len(chunk))
		}
		if r.sc.need > r.max {
			return nil, r.tooLarge(r.sc.need)
		}
	}
}

func (r *replyReader) tooLarge(n int) error {
	return fmt.Errorf("%w: reply of %d bytes or more, above MaxReplyLen %d", ErrMalformed, n, r.max)
}
