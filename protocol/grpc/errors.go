package grpc

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cached/cached/node"
	"github.com/cached/cached/node/peer"
	"github.com/cached/cached/node/store"
)

// errNotReady: a write reached a cluster node that has not yet seen
// min-members members.
var errNotReady = errors.New("cluster not ready: waiting for min-members")

// errNoReplicas: with replica-ack, a replica did not take a write.
var errNoReplicas = node.ErrNoReplicas

// toStatus maps an error of the node, the store, the peer links or the
// context to a gRPC status: the one place gRPC codes are chosen.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var code codes.Code
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, peer.ErrTimeout):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, store.ErrWrongType):
		code = codes.FailedPrecondition
	case errors.Is(err, store.ErrOOM):
		code = codes.ResourceExhausted
	case errors.Is(err, store.ErrTooLarge), errors.Is(err, store.ErrNotInteger),
		errors.Is(err, node.ErrEmptyPrefix), errors.Is(err, node.ErrEmptyTag), errors.Is(err, node.ErrReservedKey):
		code = codes.InvalidArgument
	case errors.Is(err, node.ErrWatchOverflow):
		code = codes.ResourceExhausted
	case errors.Is(err, errNotReady), errors.Is(err, node.ErrNoReplicas), errors.Is(err, errNoReplicas),
		errors.Is(err, peer.ErrDial), errors.Is(err, peer.ErrOverloaded),
		errors.Is(err, peer.ErrConnClosed), errors.Is(err, peer.ErrClosed),
		errors.Is(err, peer.ErrHandshake):
		code = codes.Unavailable
	default:
		code = codes.Internal
	}
	return status.Error(code, err.Error())
}

// replyStatus maps a RESP error reply of a peer to a gRPC status.
func replyStatus(msg string) error {
	prefix, _, _ := strings.Cut(msg, " ")
	code := codes.Internal
	switch prefix {
	case "WRONGTYPE":
		code = codes.FailedPrecondition
	case "OOM":
		code = codes.ResourceExhausted
	case "MOVED", "ASK", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS", "LOADING", "BUSY":
		code = codes.Unavailable
	}
	return status.Error(code, msg)
}

// invalid is an INVALID_ARGUMENT status.
func invalid(msg string) error { return status.Error(codes.InvalidArgument, msg) }
