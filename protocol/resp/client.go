package resp

import (
	"context"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cached/cached/protocol/acl"
)

// Client is one connection's state. Its fields are owned by the connection's
// goroutine, except those documented otherwise, which CLIENT LIST, CLIENT
// KILL and INFO read from other goroutines.
type Client struct {
	srv    *Server
	reader *Reader
	out    []byte

	// The transport: a net.Conn served by its own goroutine, or a socket
	// on an event loop (lp non-nil).
	conn         net.Conn
	lp           *loop
	fd           int
	deadlineSet  bool       // conn has a read deadline for the idle timeout
	waitingWrite bool       // the loop waits for fd to become writable
	writePending bool       // in its loop's pending: written at the turn's end
	fdMu         sync.Mutex // guards fdClosed against CLIENT KILL
	fdClosed     bool

	id      int64
	addr    string
	laddr   string
	created time.Time

	authed  bool      // passed AUTH, or no password is required
	user    *acl.User // whom the connection runs as; written under mu (see setUser)
	closing bool      // close after flushing this batch

	scratch [64]byte // formatting space; never retained

	tx       txState
	execLock *sync.RWMutex // held for reading while commands run (see multi.go)

	// Pub/sub (see pubsub.go). subs is owned by the client's goroutine or
	// loop; the push fields take messages from publishers' goroutines.
	subs        subscriptions
	numSubs     atomic.Int32 // len(subs), for CLIENT LIST
	pushMu      sync.Mutex   // guards pushed and pushPending
	pushed      []byte       // messages waiting for the loop to flush them
	pushPending bool         // the client is in its loop's ready list
	pendingOut  atomic.Int64 // replies the loop could not write yet
	writeMu     sync.Mutex   // serialises writes to conn (goroutine transport)

	// Blocking commands (see blocking.go).
	blocked  atomic.Bool // parked: run no further commands until woken
	waiting  *waiter     // the parked command, guarded by the blocking registry's lock
	execing  bool        // running EXEC's commands: blocking commands do not park
	resignal [][]byte    // keys a served blocking command wrote to, to signal next

	// Cluster routing (see route.go).
	peer          bool     // connected to the peer listener: another node
	asking        bool     // a peer's next command runs here whatever its slot
	readonly      bool     // READONLY: reads may be served by a replica
	replay        [][]byte // a parked command to run again; guarded by pushMu
	replayFetched bool     // replay's keys were fetched; guarded by pushMu
	fetched       bool     // running a replay whose keys were fetched
	suspended     bool     // the last command parked (see suspend); loop-owned
	wokenAt       bool     // a parked command was woken: look for a replay
	holdWrites    bool     // c.out holds a write's reply: see holdOutput
	overlapping   bool     // forwards are in flight or their replies queued; loop-owned
	ovl           overlap  // see overlap.go; guarded by pushMu
	loopFrom      string   // CACHED.NOLOOP: the origin's peer address
	loopID        int64    // CACHED.NOLOOP: the writing client's ID there

	originPass atomic.Pointer[byte] // the replay whose origin part is done (see viaOrigin)

	track trackState // CLIENT TRACKING (see tracking.go); owned by the client's loop

	// Statistics of the running command (see cmdstats.go).
	cmd     *command    // the command execute resolved, nil for an unknown one
	refused bool        // the command was refused before running
	errs    uint64      // error replies written
	errSeen uint64      // errs when the running command started
	clock   int64       // the monotonic time the running command started
	readAt  int64       // the monotonic time input arrived, for startBatch; 0 when used
	span    commandSpan // the running command's trace span (see trace.go)

	remoteMu     sync.Mutex         // guards remoteCancel
	remoteCancel context.CancelFunc // stops a blocking command forwarded to another node

	mu       sync.Mutex // guards name, libName, libVer; user's writes
	name     string
	libName  string
	libVer   string
	lastCmd  atomic.Pointer[command]
	proto    atomic.Int32 // 2 or 3; CLIENT LIST reads it from other goroutines
	lastSeen atomic.Int64 // Unix ms of the last command
	cmds     atomic.Int64 // commands processed
	killed   atomic.Bool  // set by CLIENT KILL
}

// info formats the client as a CLIENT LIST / CLIENT INFO line.
func (c *Client) info(now time.Time) string {
	c.mu.Lock()
	name, lib, ver, user := c.name, c.libName, c.libVer, c.user.Name()
	c.mu.Unlock()
	cmd := "NULL"
	if last := c.lastCmd.Load(); last != nil {
		cmd = last.name
	}
	age := int64(now.Sub(c.created) / time.Second)
	idle := (now.UnixMilli() - c.lastSeen.Load()) / 1000
	b := make([]byte, 0, 256)
	b = append(b, "id="...)
	b = strconv.AppendInt(b, c.id, 10)
	b = append(b, " addr="...)
	b = append(b, c.addr...)
	b = append(b, " laddr="...)
	b = append(b, c.laddr...)
	b = append(b, " fd=0 name="...)
	b = append(b, name...)
	b = append(b, " age="...)
	b = strconv.AppendInt(b, age, 10)
	b = append(b, " idle="...)
	b = strconv.AppendInt(b, max(idle, 0), 10)
	b = append(b, " flags=N db=0 sub="...)
	b = strconv.AppendInt(b, int64(c.numSubs.Load()), 10)
	b = append(b, " psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd="...)
	b = append(b, cmd...)
	b = append(b, " user="...)
	b = append(b, user...)
	b = append(b, " redir=-1 resp="...)
	b = strconv.AppendInt(b, int64(c.proto.Load()), 10)
	b = append(b, " lib-name="...)
	b = append(b, lib...)
	b = append(b, " lib-ver="...)
	b = append(b, ver...)
	return string(b)
}

// kill closes the client's connection from another goroutine. The
// connection's own goroutine sees the read fail and cleans up.
func (c *Client) kill() {
	c.killed.Store(true)
	if c.lp != nil {
		c.lp.shutdown(c)
		return
	}
	c.conn.Close()
}
