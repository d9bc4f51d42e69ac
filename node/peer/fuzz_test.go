package peer

import (
	"testing"
)

// FuzzReplyLen checks ReplyLen never panics nor overruns, that a reply it
// finds is found again, exactly, by every other way of scanning it (a
// prefix at a time: 0; resumed in pieces: the same length), and that the
// decoding helpers survive whatever it accepts.
func FuzzReplyLen(f *testing.F) {
	for _, tc := range validReplies {
		f.Add([]byte(tc.reply))
		f.Add([]byte(tc.reply + tc.reply))
	}
	f.Add([]byte("*3\r\n$3\r\nfoo\r\n%1\r\n+a\r\n_\r\n~1\r\n#t\r\n"))
	f.Add([]byte("$536870912\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ReplyLen(data)
		if n < 0 || n > len(data) {
			t.Fatalf("ReplyLen = %d for %d bytes", n, len(data))
		}
		if err != nil && n != 0 {
			t.Fatalf("ReplyLen = %d with error %v", n, err)
		}
		if n == 0 {
			return
		}
		reply := data[:n]
		if m, err := ReplyLen(reply); m != n || err != nil {
			t.Fatalf("ReplyLen(reply alone) = %d, %v; want %d", m, err, n)
		}
		if len(reply) <= 4096 {
			for i := range n {
				if m, err := ReplyLen(reply[:i]); m != 0 || err != nil {
					t.Fatalf("ReplyLen(prefix %d of %d) = %d, %v; want 0, nil", i, n, m, err)
				}
			}
		}
		for _, step := range []int{1, 3, 17} {
			if m := scanInPieces(data, step); m != n {
				t.Fatalf("resumed scan by %d = %d, want %d", step, m, n)
			}
		}
		ParseInt(reply)
		ReplyError(reply)
		isPush(reply)
		if elems, err := ParseArray(reply); err == nil {
			for _, e := range elems {
				if m, err := ReplyLen(e); m != len(e) || err != nil {
					t.Fatalf("element %q: ReplyLen = %d, %v", e, m, err)
				}
			}
		}
	})
}
