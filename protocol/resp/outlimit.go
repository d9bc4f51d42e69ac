package resp

// outputLimit returns the hard output buffer limit of c's class, as
// client-output-buffer-limit names them: pubsub for a client with
// subscriptions, normal otherwise. 0 is no limit; other nodes have none.
func (c *Client) outputLimit() int64 {
	switch {
	case c.peer:
		return 0
	case c.numSubs.Load() > 0:
		return c.srv.pubsubLimit
	}
	return c.srv.outputLimit
}

// overOutputLimit reports whether c's unsent replies passed its class's
// hard limit, as a client that pipelines without reading makes them. The
// replies are then dropped and the caller closes the connection, as Redis
// closes such a client: it would not read an error reply either.
//
// On a goroutine transport a flush blocks until the client reads, so only
// the replies of a batch not yet flushed count; on an event loop the
// replies the socket did not take count too.
func (c *Client) overOutputLimit() bool {
	limit := c.outputLimit()
	if limit == 0 || int64(len(c.out)) <= limit {
		return false
	}
	c.srv.logger.Warn("client closed: output buffer limit", "client", c.addr, "limit", limit, "pending", len(c.out))
	c.srv.outputLimitCloses.Add(1)
	c.out = c.out[:0]
	c.holdWrites = false
	c.shrinkOutput()
	return true
}
