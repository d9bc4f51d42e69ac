package client

import (
	"bufio"
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestReadValue(t *testing.T) {
	cases := []struct {
		in   string
		want string // a rendering of the value, or "error"
	}{
		{"+OK\r\n", "+OK"},
		{"-ERR no\r\n", "-ERR no"},
		{":-42\r\n", ":-42"},
		{"$3\r\nabc\r\n", "$abc"},
		{"$0\r\n\r\n", "$"},
		{"$-1\r\n", "null"},
		{"_\r\n", "null"},
		{"*-1\r\n", "null"},
		{"*2\r\n$1\r\na\r\n:1\r\n", "[$a :1]"},
		{">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n", ">[$invalidate [$k]]"},
		{">2\r\n$10\r\ninvalidate\r\n_\r\n", ">[$invalidate null]"},
		{"%1\r\n+a\r\n:1\r\n", "[+a :1]"},
		{"|1\r\n+ttl\r\n:1\r\n:7\r\n", ":7"},
		{"#t\r\n", "#1"},
		{"$3\r\nabcd\r\n", "error"},
		{"$99999999999\r\n", "error"},
		{"?\r\n", "error"},
		{"+OK\n", "error"},
		{":x\r\n", "error"},
		{strings.Repeat("*1\r\n", maxNesting+2) + ":1\r\n", "error"},
		{"+" + strings.Repeat("a", maxLineLen) + "\r\n", "error"},
	}
	for _, tc := range cases {
		v, err := readValue(bufio.NewReader(strings.NewReader(tc.in)))
		got := "error"
		if err == nil {
			got = render(v)
		} else if !errors.Is(err, errProtocol) {
			t.Errorf("%q: error %v is not a protocol error", tc.in, err)
		}
		if got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestReadValueAnnouncedLength: huge announced lengths with little data
// fail on the missing data, without allocating what was announced.
func TestReadValueAnnouncedLength(t *testing.T) {
	for _, in := range []string{"$536870912\r\nabc", "*100000000\r\n:1\r\n"} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := readValue(bufio.NewReader(strings.NewReader(in)))
		runtime.ReadMemStats(&after)
		if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			t.Fatalf("%q: err %v", in, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Fatalf("%q: allocated %d bytes", in, grew)
		}
	}
}

func render(v value) string {
	if v.null {
		return "null"
	}
	switch v.kind {
	case '*', '>', '%', '~':
		parts := make([]string, len(v.elems))
		for i, e := range v.elems {
			parts[i] = render(e)
		}
		prefix := ""
		if v.kind == '>' {
			prefix = ">"
		}
		return prefix + "[" + strings.Join(parts, " ") + "]"
	case ':', '#':
		return string(v.kind) + itoa(v.num)
	case '$':
		return "$" + string(v.str)
	}
	return string(v.kind) + string(v.str)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
