package grpc

import (
	"context"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Stats are the server's counters since start, for INFO-like reports and
// metrics.
type Stats struct {
	// Calls counts finished calls by full method name
	// ("/cache.v1.Cache/Get") and status code.
	Calls map[CallKey]int64
	// Forwarded counts commands sent to other nodes for keys they own.
	Forwarded int64
}

// CallKey names a counter of Stats.Calls.
type CallKey struct {
	Method string
	Code   codes.Code
}

// stats holds the live counters.
type stats struct {
	mu        sync.Mutex // guards calls' map (the counters are atomic)
	calls     map[CallKey]*atomic.Int64
	forwarded atomic.Int64
}

// count adds one call of method that ended with code.
func (st *stats) count(method string, code codes.Code) {
	k := CallKey{method, code}
	st.mu.Lock()
	c := st.calls[k]
	if c == nil {
		if st.calls == nil {
			st.calls = map[CallKey]*atomic.Int64{}
		}
		c = new(atomic.Int64)
		st.calls[k] = c
	}
	st.mu.Unlock()
	c.Add(1)
}

// interceptor counts every unary call by method and status code.
func (st *stats) interceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	st.count(info.FullMethod, status.Code(err))
	return resp, err
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	out := Stats{Calls: map[CallKey]int64{}, Forwarded: s.stats.forwarded.Load()}
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	for k, c := range s.stats.calls {
		out.Calls[k] = c.Load()
	}
	return out
}
