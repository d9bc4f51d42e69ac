package peer

import (
	"bytes"
	"fmt"
	"strconv"
)

// Limits on what a reply may declare. They bound the work a malformed or
// hostile reply can cause; nothing is ever allocated from a declared length.
const (
	// MaxDeclaredLen is the largest bulk length, aggregate count or text
	// line accepted: Redis's default proto-max-bulk-len, 512 MiB.
	MaxDeclaredLen = 512 << 20
	// MaxDepth is the deepest nesting of aggregates (attributes included).
	MaxDepth = 64
	// maxShortLine bounds the line after a length, integer, boolean or null
	// type byte ("-9223372036854775808" is 20 bytes).
	maxShortLine = 20
)

// Framing errors. Fixed values keep ReplyLen free of allocations.
var (
	errBadType     = fmt.Errorf("%w: unknown type byte", ErrMalformed)
	errBadLine     = fmt.Errorf("%w: line not ended by CRLF", ErrMalformed)
	errLongLine    = fmt.Errorf("%w: line too long", ErrMalformed)
	errBadLen      = fmt.Errorf("%w: bad length", ErrMalformed)
	errTooLong     = fmt.Errorf("%w: declared length above %d", ErrMalformed, MaxDeclaredLen)
	errTooDeep     = fmt.Errorf("%w: nesting deeper than %d", ErrMalformed, MaxDepth)
	errBadInt      = fmt.Errorf("%w: bad integer", ErrMalformed)
	errBadBool     = fmt.Errorf("%w: bad boolean", ErrMalformed)
	errBadNull     = fmt.Errorf("%w: bad null", ErrMalformed)
	errBadDouble   = fmt.Errorf("%w: empty double", ErrMalformed)
	errBadBulk     = fmt.Errorf("%w: bulk not ended by CRLF", ErrMalformed)
	errBadVerbatim = fmt.Errorf("%w: verbatim string without a format", ErrMalformed)
	errIncomplete  = fmt.Errorf("%w: incomplete reply", ErrMalformed)
	errTrailing    = fmt.Errorf("%w: bytes after the reply", ErrMalformed)
)

// ReplyLen returns the length of the first complete RESP2/RESP3 reply in
// buf, 0 if buf holds only part of one, or an error (wrapping ErrMalformed)
// for malformed input. It knows the types + - : $ * and RESP3's _ , # ( ! =
// % ~ > and | (an attribute counts as part of the value that follows it),
// nested aggregates and the RESP2 nulls $-1 and *-1; streamed RESP3 types
// ($?, *?) are malformed. Declared lengths above MaxDeclaredLen and nesting
// deeper than MaxDepth are errors. It does not allocate and reads buf only.
func ReplyLen(buf []byte) (int, error) {
	var s scanner
	s.reset()
	return s.scan(buf)
}

// scanner frames one reply, resumably: when the bytes run out it keeps its
// place, so a reply growing across reads is scanned once in all, not once
// per read. Offsets are from the reply's first byte.
type scanner struct {
	pos     int    // offset of the next element
	need    int    // after an incomplete scan: the least length the reply can have
	depth   int    // open frames (aggregates and attributes)
	lineAt  int    // offset of a text line searched, without success, ...
	lineEnd int    // ... up to here; lineAt is -1 when none
	attrs   uint64 // bit d-1 set: frame d is an attribute map
	// left[d] is the number of elements frame d still expects; left[0] is
	// the reply itself.
	left [MaxDepth + 1]int32
}

// reset readies s for a new reply.
func (s *scanner) reset() {
	s.pos, s.need, s.depth, s.lineAt, s.attrs = 0, 0, 0, -1, 0
	s.left[0] = 1
}

// scan continues framing the reply b begins with (b must extend, not
// replace, the bytes of earlier calls since the last reset). It returns the
// reply's length once complete; 0 and s.need while incomplete.
func (s *scanner) scan(b []byte) (int, error) {
	for {
		for s.left[s.depth] == 0 {
			if s.depth == 0 {
				return s.pos, nil
			}
			bit := uint64(1) << (s.depth - 1)
			attr := s.attrs&bit != 0
			s.attrs &^= bit
			s.depth--
			if !attr { // an attribute is not an element: its value follows
				s.left[s.depth]--
			}
		}
		p := s.pos
		if p >= len(b) {
			s.need = p + 1
			return 0, nil
		}
		t := b[p]
		switch t {
		case '+', '-', ',', '(':
			line, end, err := s.textLine(b, p)
			if err != nil {
				return 0, err
			}
			if end == 0 {
				s.need = len(b) + 1
				return 0, nil
			}
			switch {
			case t == ',' && len(line) == 0:
				return 0, errBadDouble
			case t == '(' && !isBigNumber(line):
				return 0, errBadInt
			}
			s.pos = end
			s.left[s.depth]--
			continue
		case ':', '_', '#', '$', '!', '=', '*', '%', '~', '>', '|':
		default:
			return 0, errBadType
		}
		line, end, err := shortLine(b, p)
		if err != nil {
			return 0, err
		}
		if end == 0 {
			s.need = len(b) + 1
			return 0, nil
		}
		switch t {
		case ':':
			if _, ok := parseInt64(line); !ok {
				return 0, errBadInt
			}
		case '_':
			if len(line) != 0 {
				return 0, errBadNull
			}
		case '#':
			if len(line) != 1 || line[0] != 't' && line[0] != 'f' {
				return 0, errBadBool
			}
		case '$', '!', '=':
			n, err := parseLen(line, t == '$')
			if err != nil {
				return 0, err
			}
			if n >= 0 {
				total := end + n + 2
				if total > len(b) {
					s.need = total
					return 0, nil
				}
				if b[total-2] != '\r' || b[total-1] != '\n' {
					return 0, errBadBulk
				}
				if t == '=' && (n < 4 || b[end+3] != ':') {
					return 0, errBadVerbatim
				}
				end = total
			}
		default: // aggregates and attributes
			n, err := parseLen(line, t == '*')
			if err != nil {
				return 0, err
			}
			if t == '%' || t == '|' {
				n *= 2
			}
			s.pos = end
			if n > 0 {
				if s.depth == MaxDepth {
					return 0, errTooDeep
				}
				s.depth++
				s.left[s.depth] = int32(n)
				if t == '|' {
					s.attrs |= 1 << (s.depth - 1)
				}
			} else if t != '|' { // empty or null aggregate: one element
				s.left[s.depth]--
			}
			continue
		}
		s.pos = end
		s.left[s.depth]--
	}
}

// textLine finds the end of the text line (simple string, error, double,
// big number) at b[p]. It returns the line without type byte and CRLF, and
// the offset after it; end is 0 while incomplete. It remembers how far it
// searched, so a long line arriving in pieces is searched once.
func (s *scanner) textLine(b []byte, p int) (line []byte, end int, err error) {
	from := p + 1
	if s.lineAt == p && s.lineEnd > from {
		from = s.lineEnd
	}
	i := bytes.IndexByte(b[from:], '\n')
	if i < 0 {
		if len(b)-p > MaxDeclaredLen+3 {
			return nil, 0, errLongLine
		}
		s.lineAt, s.lineEnd = p, len(b)
		return nil, 0, nil
	}
	i += from
	if b[i-1] != '\r' {
		return nil, 0, errBadLine
	}
	return b[p+1 : i-1], i + 1, nil
}

// shortLine is textLine for lines of at most maxShortLine bytes.
func shortLine(b []byte, p int) (line []byte, end int, err error) {
	limit := min(len(b), p+1+maxShortLine+2)
	i := bytes.IndexByte(b[p+1:limit], '\n')
	if i < 0 {
		if limit == p+1+maxShortLine+2 {
			return nil, 0, errLongLine
		}
		return nil, 0, nil
	}
	i += p + 1
	if b[i-1] != '\r' {
		return nil, 0, errBadLine
	}
	return b[p+1 : i-1], i + 1, nil
}

// parseLen parses a declared length: decimal digits, at most
// MaxDeclaredLen, or -1 (a RESP2 null) when allowNull.
func parseLen(line []byte, allowNull bool) (int, error) {
	if allowNull && len(line) == 2 && line[0] == '-' && line[1] == '1' {
		return -1, nil
	}
	if len(line) == 0 || len(line) > 10 {
		return 0, errBadLen
	}
	var n int64
	for _, c := range line {
		if c < '0' || c > '9' {
			return 0, errBadLen
		}
		n = n*10 + int64(c-'0')
	}
	if n > MaxDeclaredLen {
		return 0, errTooLong
	}
	return int(n), nil
}

// parseInt64 parses a signed decimal integer without allocating.
func parseInt64(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg || len(b) > 0 && b[0] == '+' {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}

// isBigNumber reports whether b is an optionally signed run of digits.
func isBigNumber(b []byte) bool {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// skipAttrs returns reply past any leading attribute maps.
func skipAttrs(reply []byte) ([]byte, error) {
	for len(reply) > 0 && reply[0] == '|' {
		line, end, err := shortLine(reply, 0)
		if err != nil {
			return nil, err
		}
		if end == 0 {
			return nil, errIncomplete
		}
		n, err := parseLen(line, false)
		if err != nil {
			return nil, err
		}
		for range 2 * n {
			l, err := ReplyLen(reply[end:])
			if err != nil {
				return nil, err
			}
			if l == 0 {
				return nil, errIncomplete
			}
			end += l
		}
		reply = reply[end:]
	}
	if len(reply) == 0 {
		return nil, errIncomplete
	}
	return reply, nil
}

// ParseInt decodes an integer reply (":"), skipping attributes. Any other
// reply, error replies included, yields an error wrapping ErrReplyType.
func ParseInt(reply []byte) (int64, error) {
	r, err := skipAttrs(reply)
	if err != nil {
		return 0, err
	}
	if r[0] != ':' {
		return 0, typeError("an integer", r)
	}
	line, end, err := shortLine(r, 0)
	switch {
	case err != nil:
		return 0, err
	case end == 0:
		return 0, errIncomplete
	case end != len(r):
		return 0, errTrailing
	}
	v, ok := parseInt64(line)
	if !ok {
		return 0, errBadInt
	}
	return v, nil
}

// ParseArray splits an array (RESP2 "*", RESP3 set "~" and push ">") into
// its elements' raw replies, of any type; a RESP3 map ("%") yields keys
// and values alternately. Nulls count as elements ("$-1", "_", "*-1").
// A null array ("*-1", "_") yields nil, an empty one a non-nil empty slice.
// The elements alias reply (capacity clipped); the only allocation is the
// slice of elements, sized after reply was checked complete, never from
// a declared count alone.
func ParseArray(reply []byte) ([][]byte, error) {
	n, err := ReplyLen(reply)
	switch {
	case err != nil:
		return nil, err
	case n == 0:
		return nil, errIncomplete
	case n != len(reply):
		return nil, errTrailing
	}
	r, err := skipAttrs(reply)
	if err != nil {
		return nil, err
	}
	switch r[0] {
	case '*', '~', '>', '%':
	case '_':
		return nil, nil
	default:
		return nil, typeError("an array", r)
	}
	line, end, _ := shortLine(r, 0) // checked by ReplyLen
	count, _ := parseLen(line, r[0] == '*')
	if count < 0 {
		return nil, nil
	}
	if r[0] == '%' {
		count *= 2
	}
	elems := make([][]byte, count)
	for i := range elems {
		l, _ := ReplyLen(r[end:])
		elems[i] = r[end : end+l : end+l]
		end += l
	}
	return elems, nil
}

// ReplyError returns the message of an error reply: a simple error ("-")
// or a RESP3 blob error ("!"), attributes skipped. ok is false for any
// other reply.
func ReplyError(reply []byte) (msg string, ok bool) {
	r, err := skipAttrs(reply)
	if err != nil {
		return "", false
	}
	switch r[0] {
	case '-':
		i := bytes.Index(r, []byte("\r\n"))
		if i < 0 {
			return "", false
		}
		return string(r[1:i]), true
	case '!':
		line, end, err := shortLine(r, 0)
		if err != nil || end == 0 {
			return "", false
		}
		n, err := parseLen(line, false)
		if err != nil || end+n > len(r) {
			return "", false
		}
		return string(r[end : end+n]), true
	}
	return "", false
}

// typeError describes a reply of the wrong type, quoting an error reply.
func typeError(want string, r []byte) error {
	if msg, ok := ReplyError(r); ok {
		return fmt.Errorf("%w: want %s, have error %q", ErrReplyType, want, msg)
	}
	return fmt.Errorf("%w: want %s, have type %q", ErrReplyType, want, r[0])
}

// appendCommand appends args to dst as a RESP array of bulk strings.
func appendCommand(dst []byte, args [][]byte) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// isPush reports whether reply is a RESP3 push message (attributes
// skipped): out-of-band, not the reply to a call.
func isPush(reply []byte) bool {
	if reply[0] == '|' {
		r, err := skipAttrs(reply)
		return err == nil && r[0] == '>'
	}
	return reply[0] == '>'
}
