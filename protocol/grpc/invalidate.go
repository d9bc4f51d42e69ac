package grpc

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cachepb "github.com/cached/cached/cache/v1"
)

// Invalidation. Keys are deleted by their primaries; a prefix or a tag is
// sent to every member, which deletes what it holds (node.InvalidatePrefix,
// node.InvalidateTag): no key list travels. The deletes replicate and reach
// CLIENT TRACKING clients and Watch streams like any other.

// Invalidate deletes keys, every key starting with prefix and every key
// with one of tags, cluster-wide.
func (s *Server) Invalidate(ctx context.Context, req *cachepb.InvalidateRequest) (*cachepb.InvalidateResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, toStatus(err)
	}
	if len(req.Keys) == 0 && len(req.Prefix) == 0 && len(req.Tags) == 0 {
		return nil, invalid("invalidate: give keys, a prefix or tags")
	}
	if err := s.checkBatch(len(req.Keys) + len(req.Tags)); err != nil {
		return nil, err
	}
	for _, t := range req.Tags {
		if len(t) == 0 {
			return nil, invalid("tags: a tag must not be empty")
		}
	}
	if err := s.checkWrite(); err != nil {
		return nil, err
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var total int64
	add := func(n int64, err error) error {
		total += n
		if err != nil && ctx.Err() == nil {
			return status.Errorf(codes.Unavailable, "invalidate: %v", err)
		}
		return toStatus(err)
	}
	if len(req.Keys) > 0 {
		if err := add(s.node.InvalidateKeys(ctx, req.Keys)); err != nil {
			return nil, err
		}
	}
	if len(req.Prefix) > 0 {
		if err := add(s.node.InvalidatePrefix(ctx, req.Prefix)); err != nil {
			return nil, err
		}
	}
	for _, t := range req.Tags {
		if err := add(s.node.InvalidateTag(ctx, t)); err != nil {
			return nil, err
		}
	}
	if err := s.awaitReplicas(ctx); err != nil {
		return nil, err
	}
	return &cachepb.InvalidateResponse{Deleted: total}, nil
}
