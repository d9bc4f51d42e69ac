package peer

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// validReplies holds one complete reply of every type and shape; each is
// also a fuzz seed.
var validReplies = []struct {
	name, reply string
}{
	{"simple", "+OK\r\n"},
	{"empty simple", "+\r\n"},
	{"error", "-ERR boom\r\n"},
	{"integer", ":42\r\n"},
	{"negative integer", ":-9223372036854775808\r\n"},
	{"bulk", "$5\r\nhello\r\n"},
	{"empty bulk", "$0\r\n\r\n"},
	{"bulk with CRLF inside", "$4\r\n\r\n\r\n\r\n"},
	{"null bulk", "$-1\r\n"},
	{"array", "*2\r\n$3\r\nfoo\r\n:1\r\n"},
	{"empty array", "*0\r\n"},
	{"null array", "*-1\r\n"},
	{"nested", "*2\r\n*2\r\n:1\r\n:2\r\n*1\r\n$-1\r\n"},
	{"null", "_\r\n"},
	{"double", ",3.14\r\n"},
	{"double inf", ",-inf\r\n"},
	{"true", "#t\r\n"},
	{"false", "#f\r\n"},
	{"big number", "(3492890328409238509324850943850943825024385\r\n"},
	{"blob error", "!21\r\nSYNTAX invalid syntax\r\n"},
	{"verbatim", "=15\r\ntxt:Some string\r\n"},
	{"map", "%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n"},
	{"empty map", "%0\r\n"},
	{"set", "~3\r\n+a\r\n+b\r\n_\r\n"},
	{"push", ">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nkey\r\n"},
	{"attribute", "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:2039123\r\n:9543892\r\n"},
	{"empty attribute", "|0\r\n:7\r\n"},
	{"nested attribute", "*2\r\n|1\r\n+ttl\r\n:3600\r\n$1\r\nv\r\n:5\r\n"},
	{"deep", strings.Repeat("*1\r\n", MaxDepth) + ":1\r\n"},
	{"map of aggregates", "%1\r\n*1\r\n:1\r\n~1\r\n#t\r\n"},
}

func TestReplyLen(t *testing.T) {
	for _, tc := range validReplies {
		t.Run(tc.name, func(t *testing.T) {
			for _, tail := range []string{"", "+NEXT\r\n", "$3\r\n"} {
				n, err := ReplyLen([]byte(tc.reply + tail))
				if err != nil || n != len(tc.reply) {
					t.Fatalf("ReplyLen(%q + %q) = %d, %v; want %d", tc.reply, tail, n, err, len(tc.reply))
				}
			}
			for i := range len(tc.reply) {
				if n, err := ReplyLen([]byte(tc.reply[:i])); n != 0 || err != nil {
					t.Fatalf("prefix %q: %d, %v; want 0, nil", tc.reply[:i], n, err)
				}
			}
		})
	}
}

func TestReplyLenMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, reply string
	}{
		{"unknown type", "?x\r\n"},
		{"bare LF", "+OK\n"},
		{"bad integer", ":12a\r\n"},
		{"integer overflow", ":9223372036854775808\r\n"},
		{"empty integer", ":\r\n"},
		{"bad bulk length", "$x\r\n"},
		{"negative bulk length", "$-2\r\n"},
		{"bulk too long", "$536870913\r\n"},
		{"bulk length too many digits", "$12345678901\r\n"},
		{"array too long", "*536870913\r\n"},
		{"bulk without CRLF", "$3\r\nabcde\r\n"},
		{"streamed bulk", "$?\r\n;4\r\nHell\r\n;0\r\n"},
		{"streamed array", "*?\r\n:1\r\n.\r\n"},
		{"null map", "%-1\r\n"},
		{"null blob error", "!-1\r\n"},
		{"bad boolean", "#x\r\n"},
		{"bad null", "_x\r\n"},
		{"empty double", ",\r\n"},
		{"bad big number", "(12x\r\n"},
		{"verbatim without format", "=3\r\ntxt\r\n"},
		{"verbatim bad format", "=5\r\ntxt_a\r\n"},
		{"header too long", "*" + strings.Repeat("1", 30)},
		{"too deep", strings.Repeat("*1\r\n", MaxDepth+1) + ":1\r\n"},
		{"too deep via attributes", strings.Repeat("|1\r\n", MaxDepth+1)},
		{"bad element", "*2\r\n:1\r\n!x\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := ReplyLen([]byte(tc.reply))
			if !errors.Is(err, ErrMalformed) || n != 0 {
				t.Fatalf("ReplyLen(%q) = %d, %v; want ErrMalformed", tc.reply, n, err)
			}
		})
	}
}

// TestReplyLenLimitsAllocateNothing: a declared length at the limit is
// merely incomplete, and framing never allocates.
func TestReplyLenLimitsAllocateNothing(t *testing.T) {
	for _, reply := range []string{"$536870912\r\nab", "*536870912\r\n:1\r\n", "%536870912\r\n"} {
		if n, err := ReplyLen([]byte(reply)); n != 0 || err != nil {
			t.Fatalf("ReplyLen(%q) = %d, %v; want 0, nil", reply, n, err)
		}
	}
	buf := []byte("*3\r\n$3\r\nfoo\r\n%1\r\n+a\r\n|1\r\n+b\r\n_\r\n:1\r\n~1\r\n#t\r\n")
	if allocs := testing.AllocsPerRun(100, func() { ReplyLen(buf) }); allocs != 0 {
		t.Fatalf("ReplyLen allocates %v times", allocs)
	}
}

// TestScannerResume feeds replies to one scanner a byte at a time, as the
// reader does when a reply spans reads.
func TestScannerResume(t *testing.T) {
	for _, tc := range validReplies {
		t.Run(tc.name, func(t *testing.T) {
			if got := scanInPieces([]byte(tc.reply+"+tail\r\n"), 1); got != len(tc.reply) {
				t.Fatalf("resumed scan = %d, want %d", got, len(tc.reply))
			}
		})
	}
}

// scanInPieces scans b with one scanner, growing the view step bytes at a
// time; it returns the reply's length, or -1 on error. It panics if the
// scanner's need is not beyond the bytes it has, or beyond the reply.
func scanInPieces(b []byte, step int) int {
	var s scanner
	s.reset()
	need := 0 // the largest least length announced
	for end := min(step, len(b)); ; end = min(end+step, len(b)) {
		n, err := s.scan(b[:end])
		if err != nil {
			return -1
		}
		if n > 0 && need > n {
			// The reader trusts need: it reads that many bytes as the reply's.
			panic(fmt.Sprintf("announced a least length of %d for a %d-byte reply", need, n))
		}
		if n > 0 || end == len(b) {
			return n
		}
		if s.need <= end {
			panic(fmt.Sprintf("need %d with %d bytes", s.need, end))
		}
		need = max(need, s.need)
	}
}

func TestParseInt(t *testing.T) {
	for _, tc := range []struct {
		reply string
		want  int64
		err   error
	}{
		{":0\r\n", 0, nil},
		{":-12\r\n", -12, nil},
		{":9223372036854775807\r\n", 9223372036854775807, nil},
		{"|1\r\n+a\r\n+b\r\n:5\r\n", 5, nil},
		{"+OK\r\n", 0, ErrReplyType},
		{"-ERR nope\r\n", 0, ErrReplyType},
		{"$1\r\n1\r\n", 0, ErrReplyType},
		{":1\r\n:2\r\n", 0, ErrMalformed},
		{":1", 0, ErrMalformed},
		{":x\r\n", 0, ErrMalformed},
		{"", 0, ErrMalformed},
	} {
		t.Run(tc.reply, func(t *testing.T) {
			got, err := ParseInt([]byte(tc.reply))
			if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("ParseInt(%q) = %d, %v; want %d, %v", tc.reply, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestParseArray(t *testing.T) {
	for _, tc := range []struct {
		reply string
		want  []string // nil: a null array
		err   error
	}{
		{"*3\r\n$3\r\nfoo\r\n$-1\r\n:1\r\n", []string{"$3\r\nfoo\r\n", "$-1\r\n", ":1\r\n"}, nil},
		{"*2\r\n_\r\n*-1\r\n", []string{"_\r\n", "*-1\r\n"}, nil},
		{"*0\r\n", []string{}, nil},
		{"*-1\r\n", nil, nil},
		{"_\r\n", nil, nil},
		{"~2\r\n+a\r\n+b\r\n", []string{"+a\r\n", "+b\r\n"}, nil},
		{"%1\r\n+k\r\n*1\r\n:1\r\n", []string{"+k\r\n", "*1\r\n:1\r\n"}, nil},
		{">2\r\n+a\r\n:1\r\n", []string{"+a\r\n", ":1\r\n"}, nil},
		{"|1\r\n+a\r\n+b\r\n*1\r\n-ERR x\r\n", []string{"-ERR x\r\n"}, nil},
		{"*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n", []string{"|1\r\n+a\r\n+b\r\n:1\r\n", ":2\r\n"}, nil},
		{"*1\r\n*1\r\n*0\r\n", []string{"*1\r\n*0\r\n"}, nil},
		{":1\r\n", nil, ErrReplyType},
		{"-ERR no\r\n", nil, ErrReplyType},
		{"*2\r\n:1\r\n", nil, ErrMalformed},
		{"*1\r\n:1\r\n+x\r\n", nil, ErrMalformed},
		{"*536870912\r\n", nil, ErrMalformed},
	} {
		t.Run(tc.reply, func(t *testing.T) {
			got, err := ParseArray([]byte(tc.reply))
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("ParseArray(%q) error %v; want %v", tc.reply, err, tc.err)
			}
			if (got == nil) != (tc.want == nil) || len(got) != len(tc.want) {
				t.Fatalf("ParseArray(%q) = %q; want %q", tc.reply, got, tc.want)
			}
			for i := range got {
				if string(got[i]) != tc.want[i] || cap(got[i]) != len(got[i]) {
					t.Fatalf("element %d = %q (cap %d); want %q", i, got[i], cap(got[i]), tc.want[i])
				}
			}
		})
	}
}

func TestReplyError(t *testing.T) {
	for _, tc := range []struct {
		reply, msg string
		ok         bool
	}{
		{"-ERR boom\r\n", "ERR boom", true},
		{"-\r\n", "", true},
		{"!21\r\nSYNTAX invalid syntax\r\n", "SYNTAX invalid syntax", true},
		{"|1\r\n+a\r\n+b\r\n-MOVED 1 x\r\n", "MOVED 1 x", true},
		{"+OK\r\n", "", false},
		{"$3\r\nERR\r\n", "", false},
		{"-ERR", "", false},
		{"", "", false},
	} {
		t.Run(tc.reply, func(t *testing.T) {
			msg, ok := ReplyError([]byte(tc.reply))
			if msg != tc.msg || ok != tc.ok {
				t.Fatalf("ReplyError(%q) = %q, %v; want %q, %v", tc.reply, msg, ok, tc.msg, tc.ok)
			}
		})
	}
}

func TestAppendCommand(t *testing.T) {
	for _, tc := range []struct {
		args [][]byte
		want string
	}{
		{cmd("PING"), "*1\r\n$4\r\nPING\r\n"},
		{cmd("SET", "k", ""), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"},
		{[][]byte{[]byte("ECHO"), []byte("a\r\nb")}, "*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := string(appendCommand(nil, tc.args)); got != tc.want {
				t.Fatalf("appendCommand = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		field string // "" when valid
	}{
		{"default", func(*Config) {}, ""},
		{"dial timeout", func(c *Config) { c.DialTimeout = 0 }, "DialTimeout"},
		{"call timeout", func(c *Config) { c.CallTimeout = -1 }, "CallTimeout"},
		{"no conns", func(c *Config) { c.ConnsPerPeer = 0 }, "ConnsPerPeer"},
		{"too many conns", func(c *Config) { c.ConnsPerPeer = 5000 }, "ConnsPerPeer"},
		{"in flight", func(c *Config) { c.MaxInFlight = 0 }, "MaxInFlight"},
		{"reply len", func(c *Config) { c.MaxReplyLen = 0 }, "MaxReplyLen"},
		{"logger", func(c *Config) { c.Logger = nil }, "Logger"},
		{"handshake", func(c *Config) { c.Handshake = [][][]byte{cmd("AUTH", "x"), {}} }, "Handshake[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.edit(&cfg)
			err := cfg.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Validate() = %v; want an error naming %s", err, tc.field)
			}
			if _, err := NewPool(cfg); err == nil {
				t.Fatal("NewPool accepted an invalid config")
			}
		})
	}
}
