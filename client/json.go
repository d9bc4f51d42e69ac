package client

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// GetJSON reads key and decodes its JSON value into a T; ErrNotFound when
// the key is missing.
func GetJSON[T any](ctx context.Context, c *Client, key string) (T, error) {
	var v T
	b, err := c.Get(ctx, key)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("cached: decoding %q: %w", key, err)
	}
	return v, nil
}

// SetJSON stores v as JSON under key with time to live ttl (0: none).
func SetJSON[T any](ctx context.Context, c *Client, key string, v T, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cached: encoding %q: %w", key, err)
	}
	return c.Set(ctx, key, b, ttl)
}

// GetOrLoadJSON is GetOrLoad for a JSON-encoded T: a cached value is
// decoded; on a miss load runs once per key at a time in this process and
// its result is stored encoded.
func GetOrLoadJSON[T any](ctx context.Context, c *Client, key string, ttl time.Duration, load func(ctx context.Context) (T, error)) (T, error) {
	var v T
	b, err := c.GetOrLoad(ctx, key, ttl, func(ctx context.Context) ([]byte, error) {
		loaded, err := load(ctx)
		if err != nil {
			return nil, err
		}
		return json.Marshal(loaded)
	})
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("cached: decoding %q: %w", key, err)
	}
	return v, nil
}
