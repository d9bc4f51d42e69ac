package resp

import (
	"bytes"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// pieceReader returns data in pieces whose sizes cycle through sizes.
type pieceReader struct {
	data  []byte
	sizes []int
	next  int
}

func (p *pieceReader) Read(b []byte) (int, error) {
	if len(p.data) == 0 {
		return 0, io.EOF
	}
	n := min(p.sizes[p.next%len(p.sizes)], len(b), len(p.data))
	p.next++
	copy(b, p.data[:n])
	p.data = p.data[n:]
	return n, nil
}

// pieceSizes derives two sequences of piece sizes from data: one from its
// bytes, one from a generator seeded with its hash.
func pieceSizes(data []byte) (fromBytes, fromHash []int) {
	for _, c := range data[:min(len(data), 64)] {
		fromBytes = append(fromBytes, 1+int(c)%13)
	}
	if len(fromBytes) == 0 {
		fromBytes = []int{1}
	}
	h := fnv.New64a()
	h.Write(data)
	rng := rand.New(rand.NewPCG(h.Sum64(), 0))
	for range 32 {
		fromHash = append(fromHash, 1+rng.IntN(300))
	}
	return fromBytes, fromHash
}

// encodeCommands writes cmds as RESP arrays of bulk strings.
func encodeCommands(cmds [][]string) []byte {
	var b bytes.Buffer
	for _, cmd := range cmds {
		b.WriteString("*" + strconv.Itoa(len(cmd)) + "\r\n")
		for _, a := range cmd {
			b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
		}
	}
	return b.Bytes()
}

// fuzzSeeds are valid commands, pipelines, inline commands and malformed
// input.
var fuzzSeeds = []string{
	"*1\r\n$4\r\nPING\r\n",
	"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n",
	"*2\r\n$4\r\nECHO\r\n$6\r\na\r\nb\x00c\r\n",
	"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
	"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n",
	"PING\r\n",
	"SET k v\n",
	"SET \"a b\" 'c d' \"\\x41\\n\" 'it\\'s'\r\n",
	"ECHO a\"b c\" x'y'\r\n",
	"\r\n\n  \t\r\nPING\r\n",
	"SET \"a b\r\n",
	"SET 'a\r\n",
	"SET \"a\"b\r\n",
	"*1\r\n+foo\r\n",
	"*abc\r\n",
	"$-5\r\n",
	"*1\r\n$-5\r\n",
	"*1\r\n$1073741824\r\n",
	"*2147483648\r\n",
	"*9999999999999999999\r\n",
	"*-9223372036854775808\r\n",
	"*01\r\n$04\r\nPING\r\n",
	"*1\n$4\nPING\n",
	"*1\r\n*1\r\n*1\r\n*1\r\n",
	"*2\r\n$3\r\nGET\r\n$10\r\nabc",
	"*3\r\n$3\r\nfoo\r\n$3\r\na\r\nb\r\n$1\r\nc\r\n",
	"*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n",
	"*1\r\n$17\r\n0123456789abcdefg\r\n",
	"ECHO " + strings.Repeat("x", 100) + "\r\n",
	"\x00\xff*\r$\n\"'\\",
}

// FuzzReader feeds input through the Reader whole, one byte at a time and
// in pieces derived from the input, under small and default limits. The
// commands and the final error must not depend on how the input was split,
// no argument may pass the limits, and the buffer must stay within the
// query buffer limit (drainReader checks it).
func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fromBytes, fromHash := pieceSizes(data)
		for _, limits := range []Limits{
			{MaxBulkLen: 16, MaxArgs: 4, MaxInlineLen: 64, MaxQueryBuffer: 128},
			DefaultLimits(),
		} {
			want, wantErr := drainReader(t, bytes.NewReader(data), limits)
			for _, cmd := range want {
				if len(cmd) == 0 || len(cmd) > limits.MaxArgs {
					t.Fatalf("command with %d args (limit %d)", len(cmd), limits.MaxArgs)
				}
				for _, a := range cmd {
					if len(a) > max(limits.MaxBulkLen, limits.MaxInlineLen) {
						t.Fatalf("argument of %d bytes (limits %+v)", len(a), limits)
					}
				}
			}
			variants := []struct {
				name string
				rd   io.Reader
			}{
				{"one byte", iotest.OneByteReader(bytes.NewReader(data))},
				{"pieces from bytes", &pieceReader{data: data, sizes: fromBytes}},
				{"pieces from hash", &pieceReader{data: data, sizes: fromHash}},
			}
			for _, v := range variants {
				got, err := drainReader(t, v.rd, limits)
				if !slices.EqualFunc(got, want, slices.Equal) || errText(err) != errText(wantErr) {
					t.Fatalf("limits %+v, %s: got %q, %v; whole input gave %q, %v",
						limits, v.name, got, err, want, wantErr)
				}
			}
			// What was parsed, re-encoded as multibulk, parses the same.
			again, err := drainReader(t, bytes.NewReader(encodeCommands(want)), DefaultLimits())
			if err != nil || !slices.EqualFunc(again, want, slices.Equal) {
				t.Fatalf("re-encoded %q parsed as %q, %v", want, again, err)
			}
		}
	})
}
