package grpc_test

import (
	"context"
	"testing"
	"time"
)

// ctxT returns a context that ends with a generous test deadline.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
