package grpc

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strconv"

	cachepb "github.com/cached/cached/cache/v1"
	"github.com/cached/cached/node"
	"github.com/cached/cached/node/store"
	"github.com/cached/cached/ring"
)

// The cache.v1.Cache methods. Each checks its context first, so a call
// whose deadline has passed does nothing; forwarded calls carry the
// deadline to the peer link.

var (
	cmdGet     = []byte("GET")
	cmdSet     = []byte("SET")
	cmdCached  = []byte("CACHED")
	argTags    = []byte("TAGS")
	cmdDel     = []byte("DEL")
	cmdPExpire = []byte("PEXPIRE")
	cmdPersist = []byte("PERSIST")
	argPX      = []byte("PX")
	argNX      = []byte("NX")
	argXX      = []byte("XX")
)

// Get returns a key's value; a missing key is found = false.
func (s *Server) Get(ctx context.Context, req *cachepb.GetRequest) (*cachepb.GetResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, toStatus(err)
	}
	slot := ring.Slot(req.Key)
	if s.local(slot) {
		val, ok, err := s.node.Get(req.Key)
		if err != nil {
			return nil, toStatus(err)
		}
		return &cachepb.GetResponse{Found: ok, Value: val}, nil
	}
	reply, err := s.forward(ctx, slot, [][]byte{cmdGet, req.Key})
	if err != nil {
		return nil, err
	}
	val, ok, err := parseBulk(reply)
	if err != nil {
		return nil, err
	}
	return &cachepb.GetResponse{Found: ok, Value: val}, nil
}

// deadline turns a TTL in ms into an absolute deadline for the store (0:
// none), refusing negative and overflowing TTLs.
func (s *Server) deadline(ttlMs int64) (int64, error) {
	if ttlMs < 0 {
		return 0, invalid("ttl_ms: must not be negative")
	}
	if ttlMs == 0 {
		return 0, nil
	}
	now := s.node.Now()
	if ttlMs > math.MaxInt64-now {
		return 0, invalid("ttl_ms: too large")
	}
	return now + ttlMs, nil
}

// setArgs is the RESP SET for a set: CACHED SET ... TAGS when it tags.
func setArgs(key, val []byte, ttlMs int64, cond cachepb.Condition, tags [][]byte) [][]byte {
	args := [][]byte{cmdSet, key, val}
	if len(tags) > 0 {
		args = [][]byte{cmdCached, cmdSet, key, val}
	}
	if ttlMs > 0 {
		args = append(args, argPX, strconv.AppendInt(nil, ttlMs, 10))
	}
	switch cond {
	case cachepb.Condition_CONDITION_NOT_EXISTS:
		args = append(args, argNX)
	case cachepb.Condition_CONDITION_EXISTS:
		args = append(args, argXX)
	}
	if len(tags) > 0 {
		args = append(append(args, argTags), tags...)
	}
	return args
}

// checkTags refuses tags that cannot be stored for key.
func checkTags(key []byte, tags [][]byte) error {
	if len(tags) == 0 {
		return nil
	}
	if bytes.HasPrefix(key, []byte(node.TagKeyPrefix)) {
		return invalid("tags: keys under " + node.TagKeyPrefix + " are reserved")
	}
	for _, t := range tags {
		if len(t) == 0 {
			return invalid("tags: a tag must not be empty")
		}
	}
	return nil
}

// setLocal writes key on this node's store, tags it when written, and
// tells tracking clients.
func (s *Server) setLocal(key, val []byte, ttlMs int64, cond cachepb.Condition, tags [][]byte) (bool, error) {
	at, err := s.deadline(ttlMs)
	if err != nil {
		return false, err
	}
	if err := s.node.Reserve(); err != nil {
		return false, err
	}
	opt := store.SetOptions{ExpireAt: at}
	switch cond {
	case cachepb.Condition_CONDITION_NOT_EXISTS:
		opt.Cond = store.SetNX
	case cachepb.Condition_CONDITION_EXISTS:
		opt.Cond = store.SetXX
	}
	_, _, written, err := s.node.Set(key, val, opt)
	if err != nil || !written {
		return written, err
	}
	s.node.KeysChanged([][]byte{key})
	if len(tags) > 0 {
		_, err = s.node.AddTags(key, tags)
	}
	return written, err
}

// awaitReplicas waits, with replica-ack or appendfsync always, until this
// node's writes so far are on their replicas and in the log.
func (s *Server) awaitReplicas(ctx context.Context) error {
	ch := make(chan error, 1)
	if s.node.AwaitWrites(func(err error) { ch <- err }) {
		return nil
	}
	select {
	case err := <-ch:
		if errors.Is(err, node.ErrNoReplicas) {
			return toStatus(errNoReplicas)
		}
		return toStatus(err)
	case <-ctx.Done():
		return toStatus(ctx.Err())
	}
}

// Set stores a value; set is false when the condition prevented it.
func (s *Server) Set(ctx context.Context, req *cachepb.SetRequest) (*cachepb.SetResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, toStatus(err)
	}
	if err := s.checkWrite(); err != nil {
		return nil, err
	}
	if _, err := s.deadline(req.TtlMs); err != nil {
		return nil, err
	}
	if req.Condition < 0 || req.Condition > cachepb.Condition_CONDITION_EXISTS {
		return nil, invalid("condition: unknown value " + strconv.Itoa(int(req.Condition)))
	}
	if err := checkTags(req.Key, req.Tags); err != nil {
		return nil, err
	}
	slot := ring.Slot(req.Key)
	if s.local(slot) {
		written, err := s.setLocal(req.Key, req.Value, req.TtlMs, req.Condition, req.Tags)
		if err != nil {
			return nil, toStatus(err)
		}
		if written {
			if err := s.awaitReplicas(ctx); err != nil {
				return nil, err
			}
		}
		return &cachepb.SetResponse{Set: written}, nil
	}
	reply, err := s.forward(ctx, slot, setArgs(req.Key, req.Value, req.TtlMs, req.Condition, req.Tags))
	if err != nil {
		return nil, err
	}
	return &cachepb.SetResponse{Set: reply[0] == '+'}, nil
}

// checkBatch refuses batches over MaxBatchKeys.
func (s *Server) checkBatch(n int) error {
	if n > s.cfg.MaxBatchKeys {
		return invalid("too many keys in one call: " + strconv.Itoa(n) + " > " + strconv.Itoa(s.cfg.MaxBatchKeys))
	}
	return nil
}

// Delete removes keys and counts those that existed.
func (s *Server) Delete(ctx context.Context, req *cachepb.DeleteRequest) (*cachepb.DeleteResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, toStatus(err)
	}
	if err := s.checkBatch(len(req.Keys)); err != nil {
		return nil, err
	}
	if err := s.checkWrite(); err != nil {
		return nil, err
	}
	n, err := s.deleteKeys(ctx, req.Keys)
	if err != nil {
		return nil, err
	}
	return &cachepb.DeleteResponse{Deleted: n}, nil
}

// deleteKeys deletes keys wherever they live and counts those that existed.
func (s *Server) deleteKeys(ctx context.Context, keys [][]byte) (int64, error) {
	cmds := make([]keyCmd, len(keys))
	for i, k := range keys {
		cmds[i] = keyCmdOf(k, cmdDel, k)
	}
	var local int64
	wrote := false
	replies, err := s.runBatch(ctx, cmds, func(i int) error {
		if s.node.Del(keys[i]) {
			local++
			wrote = true
			s.node.KeysChanged(keys[i : i+1])
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	total := local
	for _, r := range replies {
		if r == nil {
			continue
		}
		n, err := parseCount(r)
		if err != nil {
			return 0, err
		}
		total += n
	}
	if wrote {
		if err := s.awaitReplicas(ctx); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// BatchGet reads keys wherever they live, one batch per owner.
func (s *Server) BatchGet(ctx context.Context, req *cachepb.BatchGetRequest) (*cachepb.BatchGetResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, toStatus(err)
	}
	if err := s.checkBatch(len(req.Keys)); err != nil {
		return nil, err
	}
	results := make([]*cachepb.GetResponse, len(req.Keys))
	cmds := make([]keyCmd, len(req.Keys))
	for i, k := range req.Keys {
		cmds[i] = keyCmdOf(k, cmdGet, k)
	}
	replies, err := s.runBatch(ctx, cmds, func(i int) error {
		val, ok, err := s.node.Get(req.Keys[i])
		results[i] = &cachepb.GetResponse{Found: ok, Value: val}
		return err
	})
	if err != nil {
		return nil, err
	}
	for i, r := range replies {
		if r == nil {
			continue
		}
		val, ok, err := parseBulk(r)
		if err != nil {
			return nil, err
		}
		results[i] = &cachepb.GetResponse{Found: ok, Value: val}
	}
	return &cachepb.BatchGetResponse{Results: results}, nil
}

// BatchSet writes entries wherever they live, one batch per owner.
func (s *Server) BatchSet(ctx context.Context, req *cachepb.BatchSetRequest) (*cachepb.BatchSetResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, toStatus(err)
	}
	if err := s.checkBatch(len(req.Entries)); err != nil {
		return nil, err
	}
	if err := s.checkWrite(); err != nil {
		return nil, err
	}
	cmds := make([]keyCmd, len(req.Entries))
	for i, e := range req.Entries {
		if e == nil {
			return nil, invalid("entries: must not be null")
		}
		if _, err := s.deadline(e.TtlMs); err != nil {
			return nil, err
		}
		if err := checkTags(e.Key, e.Tags); err != nil {
			return nil, err
		}
		cmds[i] = keyCmdOf(e.Key, setArgs(e.Key, e.Value, e.TtlMs, 0, e.Tags)...)
	}
	wrote := false
	_, err := s.runBatch(ctx, cmds, func(i int) error {
		e := req.Entries[i]
		_, err := s.setLocal(e.Key, e.Value, e.TtlMs, 0, e.Tags)
		wrote = wrote || err == nil
		return err
	})
	if err != nil {
		return nil, err
	}
	if wrote {
		if err := s.awaitReplicas(ctx); err != nil {
			return nil, err
		}
	}
	return &cachepb.BatchSetResponse{}, nil
}

// Expire sets a key's TTL, or removes it for ttl_ms = 0.
func (s *Server) Expire(ctx context.Context, req *cachepb.ExpireRequest) (*cachepb.ExpireResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, toStatus(err)
	}
	if err := s.checkWrite(); err != nil {
		return nil, err
	}
	at, err := s.deadline(req.TtlMs)
	if err != nil {
		return nil, err
	}
	slot := ring.Slot(req.Key)
	if s.local(slot) {
		var updated bool
		if at == 0 {
			updated = s.node.Persist(req.Key)
		} else {
			updated = s.node.Expire(req.Key, at, 0)
		}
		if updated {
			s.node.KeysChanged([][]byte{req.Key})
			if err := s.awaitReplicas(ctx); err != nil {
				return nil, err
			}
		}
		return &cachepb.ExpireResponse{Updated: updated}, nil
	}
	args := [][]byte{cmdPersist, req.Key}
	if at != 0 {
		args = [][]byte{cmdPExpire, req.Key, strconv.AppendInt(nil, req.TtlMs, 10)}
	}
	reply, err := s.forward(ctx, slot, args)
	if err != nil {
		return nil, err
	}
	n, err := parseCount(reply)
	if err != nil {
		return nil, err
	}
	return &cachepb.ExpireResponse{Updated: n == 1}, nil
}
