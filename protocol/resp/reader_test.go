package resp

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// drainReader reads every command rd yields through a Reader, the way the
// connection loop does: Next until nothing is buffered, then Fill. It
// returns copies of the commands and the error that ended the stream (nil
// at a clean end of input).
func drainReader(t testing.TB, rd io.Reader, limits Limits) (cmds [][]string, err error) {
	t.Helper()
	r := NewReader(rd, limits)
	for {
		args, ok, err := r.Next()
		if err != nil {
			return cmds, err
		}
		if ok {
			cmd := make([]string, len(args))
			for i, a := range args {
				cmd[i] = string(a)
			}
			cmds = append(cmds, cmd)
			continue
		}
		if len(r.buf) > limits.MaxQueryBuffer {
			t.Fatalf("buffer grew to %d bytes, past the %d limit", len(r.buf), limits.MaxQueryBuffer)
		}
		if err := r.Fill(); err != nil {
			if errors.Is(err, io.EOF) {
				return cmds, nil
			}
			return cmds, err
		}
	}
}

// smallLimits are limits a test can exceed with a few bytes.
func smallLimits() Limits {
	return Limits{MaxBulkLen: 16, MaxArgs: 4, MaxInlineLen: 64, MaxQueryBuffer: 128}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestReader(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		name    string
		in      string
		limits  *Limits // nil: DefaultLimits
		want    [][]string
		wantErr string // "" for a clean end of input
	}{
		{name: "multibulk", in: "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", want: [][]string{{"GET", "k"}}},
		{name: "binary bulk", in: "*2\r\n$4\r\nECHO\r\n$6\r\na\r\nb\x00c\r\n", want: [][]string{{"ECHO", "a\r\nb\x00c"}}},
		{name: "empty bulk", in: "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", want: [][]string{{"ECHO", ""}}},
		{name: "star zero skipped", in: "*0\r\n*1\r\n$4\r\nPING\r\n", want: [][]string{{"PING"}}},
		{name: "star minus one skipped", in: "*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n", want: [][]string{{"PING"}}},
		{name: "pipeline", in: "*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGET k\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
			want: [][]string{{"PING"}, {"SET", "k", "v"}, {"GET", "k"}, {"GET", "k"}}},
		{name: "partial command at end", in: "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\n", want: [][]string{{"PING"}}},

		{name: "inline", in: "PING\r\n", want: [][]string{{"PING"}}},
		{name: "inline bare newline", in: "SET k v\n", want: [][]string{{"SET", "k", "v"}}},
		{name: "inline blank lines skipped", in: "\r\n\n  \r\nPING\r\n", want: [][]string{{"PING"}}},
		{name: "inline white space", in: " SET\tk \t v  \r\n", want: [][]string{{"SET", "k", "v"}}},
		{name: "inline quotes", in: "SET \"a b\" 'c d'\r\n", want: [][]string{{"SET", "a b", "c d"}}},
		{name: "inline empty quotes", in: "SET \"\" ''\r\n", want: [][]string{{"SET", "", ""}}},
		{name: "inline escapes", in: `ECHO "\x41\x7a\n\r\t\b\a\"\\\q"` + "\r\n", want: [][]string{{"ECHO", "Az\n\r\t\b\a\"\\q"}}},
		{name: "inline bad hex escape", in: `ECHO "\x4g" "\xZZ"` + "\r\n", want: [][]string{{"ECHO", "x4g", "xZZ"}}},
		{name: "inline single quote escape", in: `ECHO 'it\'s \n'` + "\r\n", want: [][]string{{"ECHO", `it's \n`}}},
		{name: "inline quote inside word", in: "ECHO a\"b c\" x'y'\r\n", want: [][]string{{"ECHO", "ab c", "xy"}}},
		{name: "inline vertical tab inside word", in: "ECHO a\vb\r\n", want: [][]string{{"ECHO", "a\vb"}}},
		{name: "inline unbalanced double quote", in: "SET \"a b\r\n", wantErr: "Protocol error: unbalanced quotes in request"},
		{name: "inline unbalanced single quote", in: "SET 'a b\r\n", wantErr: "Protocol error: unbalanced quotes in request"},
		{name: "inline unbalanced quote inside word", in: "SET a\"b\r\n", wantErr: "Protocol error: unbalanced quotes in request"},
		{name: "inline text after closing quote", in: "SET \"a\"b\r\n", wantErr: "Protocol error: unbalanced quotes in request"},
		{name: "inline trailing backslash in quotes", in: "SET \"a\\\r\n", wantErr: "Protocol error: unbalanced quotes in request"},

		{name: "expected dollar", in: "*1\r\n+foo\r\n", wantErr: "Protocol error: expected '$', got '+'"},
		{name: "nested array", in: "*1\r\n*1\r\n$4\r\nPING\r\n", wantErr: "Protocol error: expected '$', got '*'"},
		{name: "multibulk not a number", in: "*abc\r\n", wantErr: "Protocol error: invalid multibulk length"},
		{name: "multibulk empty", in: "*\r\n", wantErr: "Protocol error: invalid multibulk length"},
		{name: "multibulk plus sign", in: "*+1\r\n$4\r\nPING\r\n", wantErr: "Protocol error: invalid multibulk length"},
		{name: "multibulk leading zero", in: "*01\r\n$4\r\nPING\r\n", wantErr: "Protocol error: invalid multibulk length"},
		{name: "multibulk minus zero", in: "*-0\r\n", wantErr: "Protocol error: invalid multibulk length"},
		{name: "multibulk overflow", in: "*9999999999999999999\r\n", wantErr: "Protocol error: invalid multibulk length"},
		{name: "multibulk min int64 skipped", in: "*-9223372036854775808\r\n*1\r\n$4\r\nPING\r\n", want: [][]string{{"PING"}}},
		{name: "multibulk without CR", in: "*1\n$4\r\nPING\r\n", wantErr: "Protocol error: invalid multibulk length"},
		{name: "negative bulk length", in: "*1\r\n$-5\r\n", wantErr: "Protocol error: invalid bulk length"},
		{name: "bulk minus one", in: "*1\r\n$-1\r\n", wantErr: "Protocol error: invalid bulk length"},
		{name: "bulk not a number", in: "*1\r\n$x\r\n", wantErr: "Protocol error: invalid bulk length"},
		{name: "bulk leading zero", in: "*1\r\n$04\r\nPING\r\n", wantErr: "Protocol error: invalid bulk length"},
		{name: "bulk without CR", in: "*1\r\n$4\nPING\r\n", wantErr: "Protocol error: invalid bulk length"},
		{name: "bulk overflow", in: "*1\r\n$99999999999999999999\r\n", wantErr: "Protocol error: invalid bulk length"},
		{name: "error after good commands", in: "PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n:1\r\n", want: [][]string{{"PING"}, {"PING"}},
			wantErr: "Protocol error: expected '$', got ':'"},
		{name: "too big mbulk count", in: "*" + strings.Repeat("1", maxHeaderLine+1), wantErr: "Protocol error: too big mbulk count string"},
		{name: "too big mbulk count with newline", in: "*" + strings.Repeat("1", maxHeaderLine+1) + "\r\n", wantErr: "Protocol error: too big mbulk count string"},
		{name: "too big bulk count", in: "*1\r\n$" + strings.Repeat("1", maxHeaderLine+1), wantErr: "Protocol error: too big bulk count string"},

		{name: "bulk at MaxBulkLen", in: "*1\r\n$16\r\n0123456789abcdef\r\n", limits: ptr(smallLimits()), want: [][]string{{"0123456789abcdef"}}},
		{name: "MaxBulkLen exceeded", in: "*1\r\n$17\r\n0123456789abcdefg\r\n", limits: ptr(smallLimits()), wantErr: "Protocol error: invalid bulk length"},
		{name: "args at MaxArgs", in: "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n", limits: ptr(smallLimits()), want: [][]string{{"a", "b", "c", "d"}}},
		{name: "MaxArgs exceeded", in: "*5\r\n", limits: ptr(smallLimits()), wantErr: "Protocol error: invalid multibulk length"},
		{name: "MaxArgs exceeded inline", in: "a b c d e\r\n", limits: ptr(smallLimits()), wantErr: "Protocol error: invalid multibulk length"},
		{name: "default MaxArgs exceeded", in: "*1048577\r\n", wantErr: "Protocol error: invalid multibulk length"},
		{name: "MaxInlineLen exceeded", in: "ECHO " + long, limits: ptr(smallLimits()), wantErr: "Protocol error: too big inline request"},
		{name: "MaxInlineLen exceeded with newline", in: "ECHO " + long + "\r\n", limits: ptr(smallLimits()), wantErr: "Protocol error: too big inline request"},
		// The limit counts the line up to the '\n', its '\r' included.
		{name: "inline at MaxInlineLen", in: "ECHO " + long[:58] + "\r\n", limits: ptr(smallLimits()), want: [][]string{{"ECHO", long[:58]}}},
		{name: "inline just over MaxInlineLen", in: "ECHO " + long[:59] + "\r\n", limits: ptr(smallLimits()), wantErr: "Protocol error: too big inline request"},
		{name: "MaxQueryBuffer exceeded", in: "*1\r\n$16\r\n0123456789abcdef\r\n" + "*4\r\n$16\r\n0123456789abcdef\r\n$16\r\n0123456789abcdef\r\n$16\r\n0123456789abcdef\r\n$16\r\n0123456789abcdef\r\n",
			limits: &Limits{MaxBulkLen: 16, MaxArgs: 4, MaxInlineLen: 64, MaxQueryBuffer: 64}, want: [][]string{{"0123456789abcdef"}}, wantErr: errQueryBuffer.Error()},
		{name: "pipeline larger than MaxQueryBuffer", in: strings.Repeat("*2\r\n$4\r\nECHO\r\n$16\r\n0123456789abcdef\r\n", 20),
			limits: &Limits{MaxBulkLen: 16, MaxArgs: 4, MaxInlineLen: 64, MaxQueryBuffer: 64}, want: slices.Repeat([][]string{{"ECHO", "0123456789abcdef"}}, 20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limits := DefaultLimits()
			if tt.limits != nil {
				limits = *tt.limits
			}
			if err := limits.Validate(); err != nil {
				t.Fatal(err)
			}
			readers := []struct {
				name string
				rd   func() io.Reader
			}{
				{"whole", func() io.Reader { return strings.NewReader(tt.in) }},
				{"one byte", func() io.Reader { return iotest.OneByteReader(strings.NewReader(tt.in)) }},
				{"halves", func() io.Reader { return iotest.HalfReader(strings.NewReader(tt.in)) }},
				{"data with EOF", func() io.Reader { return iotest.DataErrReader(strings.NewReader(tt.in)) }},
			}
			for _, rd := range readers {
				cmds, err := drainReader(t, rd.rd(), limits)
				if !slices.EqualFunc(cmds, tt.want, slices.Equal) {
					t.Errorf("%s: commands %q, want %q", rd.name, cmds, tt.want)
				}
				if errText(err) != tt.wantErr {
					t.Errorf("%s: error %q, want %q", rd.name, errText(err), tt.wantErr)
				}
				var pe *ProtocolError
				if strings.HasPrefix(tt.wantErr, "Protocol error") && !errors.As(err, &pe) {
					t.Errorf("%s: error %T is not a *ProtocolError", rd.name, err)
				}
				if tt.wantErr == errQueryBuffer.Error() && !errors.Is(err, errQueryBuffer) {
					t.Errorf("%s: error %v is not errQueryBuffer", rd.name, err)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// scriptedReader returns its chunks one per Read and fails the test if read
// past them: a limit must be enforced without reading further.
type scriptedReader struct {
	t      testing.TB
	chunks []string
}

func (s *scriptedReader) Read(p []byte) (int, error) {
	if len(s.chunks) == 0 {
		s.t.Error("reader read past the bytes that should have been rejected")
		return 0, io.EOF
	}
	n := copy(p, s.chunks[0])
	s.chunks[0] = s.chunks[0][n:]
	if s.chunks[0] == "" {
		s.chunks = s.chunks[1:]
	}
	return n, nil
}

// TestReaderLimitBeforeBody checks that an oversized bulk or array is
// refused as soon as its header arrives, before any body is read or room
// is made for it.
func TestReaderLimitBeforeBody(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		wantErr string
	}{
		{"bulk over default MaxBulkLen", "*1\r\n$1073741824\r\n", "Protocol error: invalid bulk length"},
		{"bulk far over MaxBulkLen", "*2\r\n$3\r\nSET\r\n$9223372036854775807\r\n", "Protocol error: invalid bulk length"},
		{"array over MaxArgs", "*2147483648\r\n", "Protocol error: invalid multibulk length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(&scriptedReader{t: t, chunks: []string{tt.header}}, DefaultLimits())
			for {
				_, ok, err := r.Next()
				if ok {
					t.Fatal("got a command")
				}
				if err != nil {
					if err.Error() != tt.wantErr {
						t.Fatalf("error %q, want %q", err, tt.wantErr)
					}
					break
				}
				if err := r.Fill(); err != nil {
					t.Fatalf("Fill: %v", err)
				}
			}
			if len(r.buf) > initialBuffer {
				t.Errorf("buffer grew to %d bytes", len(r.buf))
			}
		})
	}
}

// TestReaderGrowsWithData checks that a declared, allowed bulk length does
// not size the buffer: it grows only with bytes that arrived, and shrinks
// back once a large command is consumed.
func TestReaderGrowsWithData(t *testing.T) {
	r := NewReader(&scriptedReader{t: t, chunks: []string{"*2\r\n$4\r\nECHO\r\n$524288000\r\n", strings.Repeat("x", 1000)}}, DefaultLimits())
	for range 2 {
		if _, ok, err := r.Next(); ok || err != nil {
			t.Fatalf("Next = %v, %v", ok, err)
		}
		if err := r.Fill(); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, err := r.Next(); ok || err != nil {
		t.Fatalf("Next = %v, %v", ok, err)
	}
	if len(r.buf) > initialBuffer {
		t.Errorf("buffer is %d bytes after 1 KB of a 500 MB bulk", len(r.buf))
	}

	// A 1 MB command grows the buffer; consuming it shrinks it back.
	big := strings.Repeat("y", 1<<20)
	in := "*2\r\n$4\r\nECHO\r\n$1048576\r\n" + big + "\r\n*1\r\n$4\r\nPING\r\n"
	r = NewReader(strings.NewReader(in), DefaultLimits())
	var got []string
	for len(got) < 2 {
		args, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if err := r.Fill(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got = append(got, string(args[0]))
		if len(got) == 1 && (len(args) != 2 || len(args[1]) != len(big)) {
			t.Fatalf("big command parsed as %d args", len(args))
		}
	}
	if got[1] != "PING" {
		t.Fatalf("second command %q", got[1])
	}
	if len(r.buf) != initialBuffer {
		t.Errorf("buffer is %d bytes after the big command was consumed, want %d", len(r.buf), initialBuffer)
	}
}

// TestReaderSmallQueryBuffer checks that a query buffer limit below the
// initial buffer size holds from the first read.
func TestReaderSmallQueryBuffer(t *testing.T) {
	limits := Limits{MaxBulkLen: 1 << 20, MaxArgs: 16, MaxInlineLen: 64, MaxQueryBuffer: 100}
	in := "*2\r\n$4\r\nECHO\r\n$200\r\n" + strings.Repeat("z", 200) + "\r\n"
	_, err := drainReader(t, bytes.NewReader([]byte(in)), limits)
	if !errors.Is(err, errQueryBuffer) {
		t.Fatalf("error %v, want errQueryBuffer", err)
	}
}

func TestReaderNoProgress(t *testing.T) {
	r := NewReader(zeroReader{}, DefaultLimits())
	if err := r.Fill(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("Fill = %v, want io.ErrNoProgress", err)
	}
}

// zeroReader returns 0, nil forever.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestLimitsValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Limits)
		wantErr string
	}{
		{"defaults", func(*Limits) {}, ""},
		{"zero bulk", func(l *Limits) { l.MaxBulkLen = 0 }, "proto-max-bulk-len"},
		{"zero args", func(l *Limits) { l.MaxArgs = 0 }, "max arguments"},
		{"tiny inline", func(l *Limits) { l.MaxInlineLen = 63 }, "max inline length"},
		{"query buffer below inline", func(l *Limits) { l.MaxQueryBuffer = l.MaxInlineLen - 1 }, "client-query-buffer-limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := DefaultLimits()
			tt.edit(&l)
			err := l.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}
