package origin

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// The write-behind queue's file holds frames: a 4-byte little-endian body
// length, a 4-byte CRC-32C of the body, the body. A body is a put (kind 1:
// seq, delete flag, origin, key, id, value, each string with a uvarint
// length) or a done (kind 2: the seq of a put the origin accepted). Replay
// keeps, per key, the put with the highest seq unless a done names it; a
// torn or corrupt tail (a crash mid-append) is cut off.

const (
	queueFileName = "writebehind.queue"
	frameHeader   = 8
	framePut      = 1
	frameDone     = 2
	maxFrameBody  = 1 << 30
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends body framed to dst.
func appendFrame(dst, body []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(body)))
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(body, castagnoli))
	return append(dst, body...)
}

// appendPut appends the frame of a queued write.
func appendPut(dst []byte, seq uint64, op Op) []byte {
	body := []byte{framePut}
	body = binary.LittleEndian.AppendUint64(body, seq)
	del := byte(0)
	if op.Delete {
		del = 1
	}
	body = append(body, del)
	for _, s := range []string{op.Origin, op.Key, op.ID} {
		body = binary.AppendUvarint(body, uint64(len(s)))
		body = append(body, s...)
	}
	body = binary.AppendUvarint(body, uint64(len(op.Value)))
	body = append(body, op.Value...)
	return appendFrame(dst, body)
}

// appendDone appends the frame saying the put seq reached its origin.
func appendDone(dst []byte, seq uint64) []byte {
	body := binary.LittleEndian.AppendUint64([]byte{frameDone}, seq)
	return appendFrame(dst, body)
}

// errBadFrame marks a frame that does not decode.
var errBadFrame = errors.New("bad frame")

// decodeBody decodes a frame's body: a put (done false) or a done.
func decodeBody(b []byte) (seq uint64, op Op, done bool, err error) {
	if len(b) < 9 {
		return 0, op, false, errBadFrame
	}
	kind := b[0]
	seq = binary.LittleEndian.Uint64(b[1:9])
	b = b[9:]
	switch kind {
	case frameDone:
		return seq, op, true, nil
	case framePut:
	default:
		return 0, op, false, errBadFrame
	}
	if len(b) < 1 {
		return 0, op, false, errBadFrame
	}
	op.Delete = b[0] == 1
	b = b[1:]
	var fields [4][]byte
	for i := range fields {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return 0, op, false, errBadFrame
		}
		fields[i] = b[k : k+int(n)]
		b = b[k+int(n):]
	}
	op.Origin, op.Key, op.ID = string(fields[0]), string(fields[1]), string(fields[2])
	op.Value = append([]byte(nil), fields[3]...)
	return seq, op, false, nil
}

// replayQueue reads the queue file in dir (absent: empty) and returns the
// writes still to deliver, in seq order, the highest seq seen, and the
// length of the file's valid part.
func replayQueue(path string) (pending []queued, lastSeq uint64, valid int64, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, 0, nil
	}
	if err != nil {
		return nil, 0, 0, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	latest := map[string]queued{}
	done := map[uint64]bool{}
	var hdr [frameHeader]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			break // end, or a torn header
		}
		n := binary.LittleEndian.Uint32(hdr[:4])
		if n > maxFrameBody {
			break
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			break
		}
		if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) {
			break
		}
		seq, op, isDone, err := decodeBody(body)
		if err != nil {
			break
		}
		valid += frameHeader + int64(n)
		lastSeq = max(lastSeq, seq)
		if isDone {
			done[seq] = true
			continue
		}
		if q, ok := latest[op.Key]; !ok || q.seq < seq {
			latest[op.Key] = queued{op: op, seq: seq}
		}
	}
	for _, q := range latest {
		if !done[q.seq] {
			pending = append(pending, q)
		}
	}
	sortBySeq(pending)
	return pending, lastSeq, valid, nil
}

// openQueueFile opens the queue file for appending, cut to valid bytes.
func openQueueFile(path string, valid int64) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(valid); err != nil {
		f.Close()
		return nil, fmt.Errorf("cut torn tail: %w", err)
	}
	if _, err := f.Seek(valid, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// rewriteQueueFile writes the pending writes to a new file and renames it
// over path, synced: the file no longer holds delivered writes.
func rewriteQueueFile(path string, pending []queued) (*os.File, int64, error) {
	var buf []byte
	for _, q := range pending {
		buf = appendPut(buf, q.seq, q.op)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, 0, err
	}
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return nil, 0, errors.Join(err, f.Close())
	}
	return f, int64(len(buf)), nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
