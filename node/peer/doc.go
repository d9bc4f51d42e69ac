// Package peer is the client a cache node uses to talk to its peers: pooled,
// pipelined RESP connections for forwarded commands, replication batches and
// slot hand-off, and dedicated connections for blocking commands.
//
// A Pool keeps Config.ConnsPerPeer connections per (address, protocol). Each
// has two goroutines, both owned by the Pool and awaited by Close:
//
//   - the reader dials, runs the handshake, then frames replies with ReplyLen
//     from a 64 KiB bufio.Reader and hands each, in order, to the oldest
//     pending call;
//   - the writer flushes every command queued since its last write in one
//     write (write combining) and enforces Config.CallTimeout.
//
// Callers never touch the network: Go appends the encoded command to the
// connection's output buffer under a mutex, queues the completion and
// returns. A connection that breaks fails all its pending calls; the next
// call on its slot dials a fresh one.
package peer
