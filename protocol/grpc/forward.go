package grpc

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/cached/cached/node"
	"github.com/cached/cached/node/peer"
	"github.com/cached/cached/ring"
)

// Forwarding. A key whose primary is another member is served by sending
// that member the RESP command with the same effect (GET, SET ... PX, DEL,
// PEXPIRE) on the node's pooled peer links. The peer listener runs a
// command only when it is the slot's primary and answers MOVED otherwise;
// such a reply, or a peer that could not be reached (the command was not
// sent), is retried against the primary of the then current view a few
// times, as protocol/resp does: long enough for gossip to settle a leave.
// A slot that is arriving on this node (hand-off in progress) is sent to
// this node's own peer listener, which first fetches the keys it lacks.

const (
	maxAttempts  = 8
	retryBackoff = 50 * time.Millisecond
	// callTimeout bounds a forwarded call when the caller set no deadline.
	callTimeout = 10 * time.Second
)

// local reports whether a command on slot runs on this node's store.
func (s *Server) local(slot int) bool {
	v := s.node.View()
	if v == nil {
		return true
	}
	if !v.IsPrimary(slot) {
		return false
	}
	_, importing := s.node.ImportSource(slot)
	return !importing
}

// checkWrite refuses writes before a cluster has seen min-members.
func (s *Server) checkWrite() error {
	if !s.node.Ready() {
		return toStatus(errNotReady)
	}
	return nil
}

// retryable reports whether a forwarded call should be sent again.
func retryable(reply []byte, err error) bool {
	if err != nil {
		return errors.Is(err, peer.ErrDial) || errors.Is(err, peer.ErrOverloaded)
	}
	return bytes.HasPrefix(reply, []byte("-MOVED ")) || bytes.HasPrefix(reply, []byte("-TRYAGAIN "))
}

// withTimeout gives ctx the default deadline when it has none.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, callTimeout)
}

// sendTo sends args to the member at addr; asking precedes them with
// CACHED.ASKING (this node is leaving: the receiver may not know yet that
// it owns the slot).
func (s *Server) sendTo(ctx context.Context, addr string, asking bool, args [][]byte) ([]byte, error) {
	s.stats.forwarded.Add(1)
	pool := s.node.Peers()
	if !asking {
		return pool.Call(ctx, addr, 2, 0, args)
	}
	replies, err := pool.Batch(ctx, addr, 2, 0, [][][]byte{{[]byte(node.CmdAsking)}, args})
	if err != nil {
		return nil, err
	}
	return replies[1], nil
}

// forward runs args on slot's primary and returns its reply; an error
// reply and a failure are returned as a gRPC status.
func (s *Server) forward(ctx context.Context, slot int, args [][]byte) ([]byte, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	for attempt := 1; ; attempt++ {
		v := s.node.View()
		if v == nil {
			return nil, toStatus(errNotReady)
		}
		reply, err := s.sendTo(ctx, v.Primary(slot).Peer, v.Leaving, args)
		if attempt < maxAttempts && retryable(reply, err) {
			if werr := sleep(ctx, time.Duration(attempt)*retryBackoff); werr != nil {
				return nil, toStatus(werr)
			}
			continue
		}
		if err != nil {
			return nil, toStatus(err)
		}
		if msg, isErr := peer.ReplyError(reply); isErr {
			return nil, replyStatus(msg)
		}
		return reply, nil
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// keyCmd is one command of a batch: its key's slot and its RESP form.
type keyCmd struct {
	slot int
	args [][]byte
}

// runBatch runs cmds, those of this node's slots through runLocal(i) and
// the others on their primaries, one pipelined batch per member, in
// parallel. It returns the remote commands' replies by index (nil for the
// local ones); an error reply makes the whole call fail with its status.
func (s *Server) runBatch(ctx context.Context, cmds []keyCmd, runLocal func(i int) error) ([][]byte, error) {
	replies := make([][]byte, len(cmds))
	groups := map[string][]int{} // peer address → indexes
	v := s.node.View()
	for i, c := range cmds {
		if s.local(c.slot) {
			if err := runLocal(i); err != nil {
				return nil, toStatus(err)
			}
			continue
		}
		addr := ""
		if v != nil {
			addr = v.Primary(c.slot).Peer
		}
		groups[addr] = append(groups[addr], i)
	}
	if len(groups) == 0 {
		return replies, nil
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(cmds))
	for addr, idx := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runGroup(ctx, addr, v != nil && v.Leaving, cmds, idx, replies, errs)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return replies, nil
}

// runGroup sends the commands idx to the member at addr in one batch, and
// each one whose reply says to retry on its own through forward.
func (s *Server) runGroup(ctx context.Context, addr string, asking bool, cmds []keyCmd, idx []int, replies [][]byte, errs []error) {
	batch := make([][][]byte, 0, len(idx)*2)
	for _, i := range idx {
		if asking {
			batch = append(batch, [][]byte{[]byte(node.CmdAsking)})
		}
		batch = append(batch, cmds[i].args)
	}
	var got [][]byte
	var err error
	if addr != "" {
		s.stats.forwarded.Add(int64(len(idx)))
		got, err = s.node.Peers().Batch(ctx, addr, 2, 0, batch)
	}
	for j, i := range idx {
		var reply []byte
		if err == nil && addr != "" {
			reply = got[j*(1+boolInt(asking))+boolInt(asking)]
		}
		if addr == "" || retryable(reply, err) {
			reply, errs[i] = s.forward(ctx, cmds[i].slot, cmds[i].args)
			replies[i] = reply
			continue
		}
		if err != nil {
			errs[i] = toStatus(err)
			continue
		}
		if msg, isErr := peer.ReplyError(reply); isErr {
			errs[i] = replyStatus(msg)
			continue
		}
		replies[i] = reply
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// keyCmdOf builds a keyCmd for a command on key.
func keyCmdOf(key []byte, args ...[]byte) keyCmd {
	return keyCmd{slot: ring.Slot(key), args: args}
}

// parseBulk decodes a bulk string reply: ok is false for a null.
func parseBulk(reply []byte) (val []byte, ok bool, err error) {
	n, err := peer.ReplyLen(reply)
	if err != nil || n != len(reply) || n < 3 {
		return nil, false, toStatus(peer.ErrMalformed)
	}
	switch reply[0] {
	case '_':
		return nil, false, nil
	case '$':
	default:
		return nil, false, toStatus(peer.ErrReplyType)
	}
	i := bytes.IndexByte(reply, '\r')
	size, cerr := strconv.Atoi(string(reply[1:i]))
	if cerr != nil {
		return nil, false, toStatus(peer.ErrMalformed)
	}
	if size < 0 {
		return nil, false, nil
	}
	return bytes.Clone(reply[i+2 : i+2+size]), true, nil
}

// parseCount decodes an integer reply.
func parseCount(reply []byte) (int64, error) {
	n, err := peer.ParseInt(reply)
	if err != nil {
		return 0, toStatus(err)
	}
	return n, nil
}
