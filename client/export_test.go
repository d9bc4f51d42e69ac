package client

import "context"

// SyncTracking exposes syncTracking to the client_test package: once it
// returns, every invalidation the nodes sent before the call is applied.
func (c *Client) SyncTracking(ctx context.Context) error { return c.syncTracking(ctx) }
