//go:build !linux

package resp

// Event loops are implemented on Linux only; elsewhere every client is
// served by its own goroutine.

type loop struct{}

func (s *Server) startLoops() (bool, error) { return false, nil }

func (lp *loop) flush(c *Client) bool { return true }

func (lp *loop) shutdown(c *Client) {}

func (lp *loop) wake() {}

func (lp *loop) schedule(c *Client) {}
