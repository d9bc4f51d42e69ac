package grpc

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cachepb "github.com/cached/cached/cache/v1"
	"github.com/cached/cached/node/peer"
	"github.com/cached/cached/node/store"
)

// Invalidation. Keys are deleted as Delete does. A prefix is turned into a
// SCAN MATCH pattern run on every member (this node's store directly, the
// others' over their peer listeners, where SCAN, having no key, runs
// locally); the keys found, replica copies included, are then deleted by
// their primaries as Delete does, and the primaries' deletes replicate.
//
// What the invalidation work will add later: tags (Invalidate by tag),
// invalidation events to CLIENT TRACKING clients and to gRPC Watch streams
// (the Watch RPC is left out of the proto until then), and a cluster-side
// prefix delete that does not ship the keys back to the caller.

// scanCount is the COUNT of each SCAN step.
const scanCount = 1000

// Invalidate deletes keys and every key starting with prefix, cluster-wide.
func (s *Server) Invalidate(ctx context.Context, req *cachepb.InvalidateRequest) (*cachepb.InvalidateResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, toStatus(err)
	}
	if len(req.Keys) == 0 && len(req.Prefix) == 0 {
		return nil, invalid("invalidate: give keys, a prefix or both")
	}
	if err := s.checkBatch(len(req.Keys)); err != nil {
		return nil, err
	}
	if err := s.checkWrite(); err != nil {
		return nil, err
	}
	keys := req.Keys
	if len(req.Prefix) > 0 {
		found, err := s.scanPrefix(ctx, req.Prefix)
		if err != nil {
			return nil, err
		}
		seen := make(map[string]bool, len(keys)+len(found))
		all := make([][]byte, 0, len(keys)+len(found))
		for _, k := range keys {
			if !seen[string(k)] {
				seen[string(k)] = true
				all = append(all, k)
			}
		}
		for _, k := range found {
			if !seen[k] {
				seen[k] = true
				all = append(all, []byte(k))
			}
		}
		keys = all
	}
	n, err := s.deleteKeys(ctx, keys)
	if err != nil {
		return nil, err
	}
	return &cachepb.InvalidateResponse{Deleted: n}, nil
}

// prefixPattern returns the glob pattern matching keys that start with
// prefix: its special characters escaped, then '*'.
func prefixPattern(prefix []byte) string {
	out := make([]byte, 0, len(prefix)+8)
	for _, b := range prefix {
		switch b {
		case '*', '?', '[', ']', '\\':
			out = append(out, '\\')
		}
		out = append(out, b)
	}
	return string(append(out, '*'))
}

// scanPrefix returns the keys starting with prefix on every member.
func (s *Server) scanPrefix(ctx context.Context, prefix []byte) ([]string, error) {
	pattern := prefixPattern(prefix)
	var keys []string
	for cursor := uint64(0); ; {
		if err := ctx.Err(); err != nil {
			return nil, toStatus(err)
		}
		next, found := s.node.Scan(cursor, store.ScanOptions{Match: pattern, Count: scanCount})
		keys = append(keys, found...)
		if cursor = next; cursor == 0 {
			break
		}
	}
	v := s.node.View()
	if v == nil {
		return keys, nil
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	for _, m := range v.Members() {
		if m.Name == v.Self.Name {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			found, err := s.scanPeer(ctx, m.Peer, pattern)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = status.Errorf(codes.Unavailable, "invalidate: scanning %s: %v", m.Name, err)
				}
				return
			}
			keys = append(keys, found...)
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return keys, nil
}

// scanPeer runs a full SCAN MATCH pattern on the member at addr.
func (s *Server) scanPeer(ctx context.Context, addr, pattern string) ([]string, error) {
	var keys []string
	cursor := []byte("0")
	for {
		reply, err := s.node.Peers().Call(ctx, addr, 2, 0, [][]byte{[]byte("SCAN"), cursor,
			[]byte("MATCH"), []byte(pattern), []byte("COUNT"), []byte(strconv.Itoa(scanCount))})
		if err != nil {
			return nil, err
		}
		if msg, isErr := peer.ReplyError(reply); isErr {
			return nil, fmt.Errorf("SCAN: %s", msg)
		}
		parts, err := peer.ParseArray(reply)
		if err != nil || len(parts) != 2 {
			return nil, fmt.Errorf("SCAN: malformed reply: %w", err)
		}
		next, ok, err := parseBulk(parts[0])
		if err != nil || !ok {
			return nil, fmt.Errorf("SCAN: malformed cursor")
		}
		elems, err := peer.ParseArray(parts[1])
		if err != nil {
			return nil, fmt.Errorf("SCAN: malformed keys: %w", err)
		}
		for _, e := range elems {
			k, ok, err := parseBulk(e)
			if err != nil || !ok {
				return nil, fmt.Errorf("SCAN: malformed key")
			}
			keys = append(keys, string(k))
		}
		if string(next) == "0" {
			return keys, nil
		}
		cursor = next
	}
}
