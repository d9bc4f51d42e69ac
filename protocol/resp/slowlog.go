package resp

import (
	"bytes"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// SLOWLOG: commands that ran at least slowlog-log-slower-than microseconds
// (-1 never, 0 every command), the newest slowlog-max-len kept. Checking
// the threshold is one atomic load per command; arguments are copied only
// for a command that is logged.

// Redis's limits on what an entry keeps of a command.
const (
	slowlogMaxArgs     = 32
	slowlogMaxArgBytes = 128
)

// slowlog is the server's slow log.
type slowlog struct {
	slowerThan atomic.Int64 // microseconds; negative: off
	maxLen     atomic.Int64

	mu      sync.Mutex  // guards entries and nextID
	entries []slowEntry // oldest first
	nextID  int64
}

// slowEntry is one logged command.
type slowEntry struct {
	id       int64
	at       int64 // Unix seconds
	duration time.Duration
	args     [][]byte
	addr     string
	name     string
}

// slowlogArgs copies args as Redis logs them: at most 32, the last of
// those saying how many more there were, each at most 128 bytes and then
// how many more bytes there were.
func slowlogArgs(args [][]byte) [][]byte {
	n := min(len(args), slowlogMaxArgs)
	out := make([][]byte, n)
	for i := range n {
		if i == slowlogMaxArgs-1 && len(args) > slowlogMaxArgs {
			out[i] = []byte("... (" + strconv.Itoa(len(args)-slowlogMaxArgs+1) + " more arguments)")
			break
		}
		a := args[i]
		if len(a) > slowlogMaxArgBytes {
			out[i] = append(bytes.Clone(a[:slowlogMaxArgBytes]), "... ("+strconv.Itoa(len(a)-slowlogMaxArgBytes)+" more bytes)"...)
			continue
		}
		out[i] = bytes.Clone(a)
	}
	return out
}

// slowEnough reports whether a command that took d goes to the log.
func (l *slowlog) slowEnough(d time.Duration) bool {
	t := l.slowerThan.Load()
	return t >= 0 && d >= time.Duration(t)*time.Microsecond
}

// add logs a command of c.
func (l *slowlog) add(c *Client, args [][]byte, d time.Duration) {
	c.mu.Lock()
	name := c.name
	c.mu.Unlock()
	e := slowEntry{at: time.Now().Unix(), duration: d, args: slowlogArgs(args), addr: c.addr, name: name}
	l.mu.Lock()
	defer l.mu.Unlock()
	e.id = l.nextID
	l.nextID++
	l.entries = append(l.entries, e)
	l.trimLocked()
}

// trimLocked drops the oldest entries past slowlog-max-len.
func (l *slowlog) trimLocked() {
	if extra := len(l.entries) - int(l.maxLen.Load()); extra > 0 {
		l.entries = append(l.entries[:0:0], l.entries[extra:]...)
	}
}

// skipsSlowlog reports whether cmd is never logged: AUTH and HELLO carry
// passwords, and EXEC's commands are logged one by one.
func skipsSlowlog(cmd *command) bool {
	switch cmd.name {
	case "auth", "hello", "exec":
		return true
	}
	return false
}

func slowlogCommands() []*command {
	const g = "server"
	f := flagAdmin | flagLoading | flagStale
	return []*command{
		{name: "slowlog", arity: -2, group: g, since: "2.2.12", summary: "A container for slow log commands.", subs: sub(
			&command{name: "slowlog|get", arity: -2, flags: f, group: g, since: "2.2.12", summary: "Returns the slow log's entries.", handler: cmdSlowlogGet},
			&command{name: "slowlog|len", arity: 2, flags: f, group: g, since: "2.2.12", summary: "Returns the number of entries in the slow log.", handler: cmdSlowlogLen},
			&command{name: "slowlog|reset", arity: 2, flags: f, group: g, since: "2.2.12", summary: "Clears all entries from the slow log.", handler: cmdSlowlogReset},
			&command{name: "slowlog|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "6.2.0", summary: "Show helpful text about the different subcommands.", handler: func(c *Client, _ [][]byte) {
				c.helpReply("SLOWLOG",
					"GET [<count>]",
					"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
					"    Entries are made of:",
					"    id, timestamp, time in microseconds, arguments array, client IP and port,",
					"    client name",
					"LEN",
					"    Return the length of the slowlog.",
					"RESET",
					"    Reset the slowlog.")
			}},
		)},
	}
}

func cmdSlowlogGet(c *Client, args [][]byte) {
	if len(args) > 3 {
		c.wrongArity("slowlog|get")
		return
	}
	count := 10
	if len(args) == 3 {
		n, err := strconv.ParseInt(string(args[2]), 10, 64)
		if err != nil || n < -1 {
			c.errorReply("ERR count should be greater than or equal to -1")
			return
		}
		count = int(min(n, 1<<31))
	}
	l := &c.srv.slowlog
	l.mu.Lock()
	n := len(l.entries)
	if count >= 0 {
		n = min(n, count)
	}
	entries := make([]slowEntry, n)
	for i := range n {
		entries[i] = l.entries[len(l.entries)-1-i] // newest first
	}
	l.mu.Unlock()
	c.array(len(entries))
	for _, e := range entries {
		c.array(6)
		c.integer(e.id)
		c.integer(e.at)
		c.integer(int64(e.duration / time.Microsecond))
		c.array(len(e.args))
		for _, a := range e.args {
			c.bulk(a)
		}
		c.bulkString(e.addr)
		c.bulkString(e.name)
	}
}

func cmdSlowlogLen(c *Client, _ [][]byte) {
	l := &c.srv.slowlog
	l.mu.Lock()
	n := len(l.entries)
	l.mu.Unlock()
	c.integer(int64(n))
}

func cmdSlowlogReset(c *Client, _ [][]byte) {
	l := &c.srv.slowlog
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
	c.ok()
}
