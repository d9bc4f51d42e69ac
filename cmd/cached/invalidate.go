package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// POST /invalidate on the admin port: for an origin to call when its data
// changes. The JSON body names what to delete, cluster-wide:
//
//	{"keys": ["user:1", "user:2"], "prefix": "session:", "tags": ["users"]}
//
// (any of the three, at least one), and the reply counts what was deleted:
//
//	{"deleted": 12, "keys": 2, "prefix": 7, "tags": 3}
//
// A malformed body is 400, another method 405, a member that could not be
// reached 503 (what the others deleted stays deleted).

// invalidator is the invalidation API the endpoint calls; *node.Node has it.
type invalidator interface {
	InvalidateKeys(ctx context.Context, keys [][]byte) (int64, error)
	InvalidatePrefix(ctx context.Context, prefix []byte) (int64, error)
	InvalidateTag(ctx context.Context, tag []byte) (int64, error)
}

// Limits of one POST /invalidate.
const (
	maxInvalidateBody = 16 << 20
	maxInvalidateKeys = 100_000
	invalidateTimeout = 10 * time.Second
)

// invalidateRequest is the body of POST /invalidate.
type invalidateRequest struct {
	Keys   []string `json:"keys"`
	Prefix string   `json:"prefix"`
	Tags   []string `json:"tags"`
}

// invalidateResult is its reply.
type invalidateResult struct {
	Deleted int64  `json:"deleted"`
	Keys    int64  `json:"keys"`
	Prefix  int64  `json:"prefix"`
	Tags    int64  `json:"tags"`
	Error   string `json:"error,omitempty"`
}

// invalidateHandler serves POST /invalidate over inv. It is a plain
// handler, to be wrapped (authentication) by whoever mounts it.
func invalidateHandler(inv invalidator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, invalidateResult{Error: "use POST"})
			return
		}
		req, err := decodeInvalidate(http.MaxBytesReader(w, r.Body, maxInvalidateBody))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, invalidateResult{Error: err.Error()})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), invalidateTimeout)
		defer cancel()
		var res invalidateResult
		err = runInvalidate(ctx, inv, req, &res)
		res.Deleted = res.Keys + res.Prefix + res.Tags
		if err != nil {
			res.Error = err.Error()
			writeJSON(w, http.StatusServiceUnavailable, res)
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
}

// decodeInvalidate reads and checks a request body.
func decodeInvalidate(body io.Reader) (invalidateRequest, error) {
	var req invalidateRequest
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("body: %w", err)
	}
	if dec.More() {
		return req, errors.New("body: one JSON object expected")
	}
	switch {
	case len(req.Keys) == 0 && req.Prefix == "" && len(req.Tags) == 0:
		return req, errors.New("give keys, a prefix or tags")
	case len(req.Keys)+len(req.Tags) > maxInvalidateKeys:
		return req, fmt.Errorf("at most %d keys and tags", maxInvalidateKeys)
	}
	for _, t := range req.Tags {
		if t == "" {
			return req, errors.New("tags: a tag must not be empty")
		}
	}
	return req, nil
}

// runInvalidate runs req, counting into res.
func runInvalidate(ctx context.Context, inv invalidator, req invalidateRequest, res *invalidateResult) error {
	var err error
	if len(req.Keys) > 0 {
		keys := make([][]byte, len(req.Keys))
		for i, k := range req.Keys {
			keys[i] = []byte(k)
		}
		if res.Keys, err = inv.InvalidateKeys(ctx, keys); err != nil {
			return err
		}
	}
	if req.Prefix != "" {
		if res.Prefix, err = inv.InvalidatePrefix(ctx, []byte(req.Prefix)); err != nil {
			return err
		}
	}
	for _, t := range req.Tags {
		n, err := inv.InvalidateTag(ctx, []byte(t))
		res.Tags += n
		if err != nil {
			return err
		}
	}
	return nil
}

// writeJSON writes v as the JSON reply with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client went away: nothing to do
}
