package grpc

import (
	cachepb "github.com/cached/cached/cache/v1"
)

// watchBuffer is how many events a Watch stream may fall behind before it
// ends with RESOURCE_EXHAUSTED.
const watchBuffer = 1024

// Watch streams invalidation events for req's keys and prefixes until the
// client cancels, the server stops or the reader falls watchBuffer events
// behind. The first event is empty: the watch is registered cluster-wide.
func (s *Server) Watch(req *cachepb.WatchRequest, stream cachepb.Cache_WatchServer) error {
	ctx := stream.Context()
	if len(req.Keys) == 0 && len(req.Prefixes) == 0 {
		return invalid("watch: give keys, prefixes or both")
	}
	if err := s.checkBatch(len(req.Keys) + len(req.Prefixes)); err != nil {
		return err
	}
	keys := make([]string, len(req.Keys))
	for i, k := range req.Keys {
		keys[i] = string(k)
	}
	prefixes := make([]string, len(req.Prefixes))
	for i, p := range req.Prefixes {
		prefixes[i] = string(p)
	}
	w := s.node.WatchInvalidations(keys, prefixes, watchBuffer)
	defer w.Close()
	if err := w.Ready(ctx); err != nil {
		return toStatus(err)
	}
	if err := stream.Send(&cachepb.WatchEvent{}); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return toStatus(ctx.Err())
		case <-s.stop:
			return nil
		case <-w.Done():
			return toStatus(w.Err())
		case ev := <-w.Events():
			out := &cachepb.WatchEvent{All: ev.All, Keys: make([][]byte, len(ev.Keys))}
			for i, k := range ev.Keys {
				out.Keys[i] = []byte(k)
			}
			if err := stream.Send(out); err != nil {
				return err
			}
		}
	}
}
