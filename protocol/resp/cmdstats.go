package resp

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Per-command statistics (INFO commandstats, errorstats, latencystats,
// LATENCY HISTOGRAM, the Prometheus collector). Every command and
// subcommand has an index in commandIndex; each statistics shard holds one
// cmdCounters per index, so counting a command is a few atomic adds with no
// lookup and no allocation. Shards follow the exec locks: one per event
// loop, whose clients run on one goroutine, and one for goroutine clients,
// so loops do not share cache lines.
//
// A command's duration is measured with one monotonic clock read per
// command: each command ends where the next one's time starts. A batch of
// pipelined commands starts at the time its bytes were read, which the
// transport reads anyway for the idle timeout (noteRead), or with one more
// read after a mid-batch flush or a wake-up. A command's time thus includes
// parsing it, which is small and is work done for it, as Redis's includes
// its argument handling. Time a command spends parked (a blocked pop, a
// forward answered later on an event loop) is not counted, as in Redis.

// commandIndex lists every command table entry, subcommands and peer
// commands included, at its command.id. Built once by indexCommands.
var commandIndex []*command

// indexCommands numbers the command tables' entries.
func indexCommands() {
	var all []*command
	var add func(cmds map[string]*command)
	add = func(cmds map[string]*command) {
		names := make([]string, 0, len(cmds))
		for name := range cmds {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			cmd := cmds[name]
			cmd.id = len(all)
			all = append(all, cmd)
			if cmd.subs != nil {
				defer add(cmd.subs) // subcommands after the top level
			}
		}
	}
	add(table)
	add(peerTable)
	commandIndex = all
}

// cmdCounters are one command's counters in one shard. A command that ran
// costs two atomic adds (its duration, its histogram bucket, whose total
// is the number of calls); an error or a refusal one more.
type cmdCounters struct {
	failed   atomic.Uint64 // ran and replied with an error
	rejected atomic.Uint64 // refused before running: arity, NOAUTH, OOM...
	nanos    atomic.Uint64 // total duration of the calls
	hist     latencyHistogram
}

// cmdStats are the server's per-command statistics.
type cmdStats struct {
	epoch  time.Time       // the monotonic clock's origin
	shards [][]cmdCounters // [shard][command.id]
	errors errorStats
}

func newCmdStats(shards int) *cmdStats {
	s := &cmdStats{epoch: time.Now(), shards: make([][]cmdCounters, shards)}
	for i := range s.shards {
		s.shards[i] = make([]cmdCounters, len(commandIndex))
	}
	s.errors.counts = make(map[string]*atomic.Uint64)
	return s
}

// now returns the monotonic time in nanoseconds: one clock read.
func (s *cmdStats) now() int64 { return int64(time.Since(s.epoch)) }

// statsShard returns the counters for c's commands: its loop's shard, or
// the last one for goroutine clients.
func (c *Client) statsShard() []cmdCounters {
	sh := c.srv.stats.shards
	if c.lp != nil && c.lp.index < len(sh)-1 {
		return sh[c.lp.index]
	}
	return sh[len(sh)-1]
}

// noteRead records that input arrived: the time CLIENT LIST's idle and the
// idle timeout count from, and the start of the batch that runs it. A
// parked client's batch runs later, so it reads the clock then.
func (c *Client) noteRead() {
	now := time.Now()
	c.lastSeen.Store(now.UnixMilli())
	if !c.blocked.Load() {
		c.readAt = int64(now.Sub(c.srv.stats.epoch)) // monotonic: no second clock read
	}
}

// startBatch starts the clock of a batch of commands: at the time its
// input was read, when runBuffered follows noteRead, else now.
func (c *Client) startBatch() {
	if c.readAt != 0 {
		c.clock, c.readAt = c.readAt, 0
		return
	}
	c.clock = c.srv.stats.now()
}

// call runs one command through execute and counts it. Nested calls (EXEC
// running its queue) count each queued command on its own, and EXEC's
// own time includes theirs; EXEC counts as failed only for its own error
// replies, as in Redis.
func (c *Client) call(args [][]byte) {
	outer := c.cmd
	c.cmd, c.refused = nil, false
	c.errSeen = c.errs
	start := c.clock
	if c.srv.tracer != nil {
		c.executeTraced(args)
	} else {
		c.execute(args)
	}
	end := c.srv.stats.now()
	c.clock = end
	d := time.Duration(end - start)
	if cmd := c.cmd; cmd != nil && !c.queued(cmd) {
		ctr := &c.statsShard()[cmd.id]
		switch {
		case c.refused:
			ctr.rejected.Add(1)
		default:
			ctr.nanos.Add(uint64(d))
			ctr.hist.add(d)
			if c.errs != c.errSeen {
				ctr.failed.Add(1)
			}
			c.srv.observeCommand(c, cmd, args, d)
		}
	}
	c.errSeen = c.errs
	c.cmd = outer
}

// queued reports whether cmd, which did not run, was queued by MULTI: it
// counts when EXEC runs it.
func (c *Client) queued(cmd *command) bool {
	return c.tx.active && !c.refused && !runsInMulti(cmd)
}

// noteError counts an error reply of c: for its command's failed_calls and
// for errorstats under the reply's code (its first word). Replies built on
// a scratch client for a command answered later count in errorstats only.
func (c *Client) noteError(msg string) {
	c.errs++
	if c.srv == nil {
		return // a reply assembled for another client (mergeSplit)
	}
	code := msg
	if i := strings.IndexByte(msg, ' '); i >= 0 {
		code = msg[:i]
	}
	c.srv.stats.errors.add(code)
}

// maxErrorCodes bounds the distinct error codes errorstats tracks, as
// Redis does: clients cannot grow the table without limit.
const maxErrorCodes = 128

// errorStats counts error replies by code.
type errorStats struct {
	total  atomic.Uint64 // every error reply, past maxErrorCodes codes too
	mu     sync.RWMutex  // guards counts (the map; the counters are atomic)
	counts map[string]*atomic.Uint64
}

func (e *errorStats) add(code string) {
	e.total.Add(1)
	e.mu.RLock()
	n := e.counts[code]
	e.mu.RUnlock()
	if n == nil {
		e.mu.Lock()
		if n = e.counts[code]; n == nil {
			if len(e.counts) >= maxErrorCodes {
				e.mu.Unlock()
				return
			}
			n = new(atomic.Uint64)
			e.counts[strings.Clone(code)] = n
		}
		e.mu.Unlock()
	}
	n.Add(1)
}

// ErrorCount is the number of error replies with one code.
type ErrorCount struct {
	Code  string // ERR, WRONGTYPE, NOAUTH...
	Count uint64
}

// snapshot returns the counts sorted by code.
func (e *errorStats) snapshot() []ErrorCount {
	e.mu.RLock()
	out := make([]ErrorCount, 0, len(e.counts))
	for code, n := range e.counts {
		out = append(out, ErrorCount{code, n.Load()})
	}
	e.mu.RUnlock()
	slices.SortFunc(out, func(a, b ErrorCount) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// CommandStat is one command's statistics since start or CONFIG RESETSTAT.
type CommandStat struct {
	Name     string // lower case; "parent|sub" for a subcommand
	Calls    uint64 // runs, those that replied with an error included
	Failed   uint64 // runs that replied with an error
	Rejected uint64 // refused before running (arity, NOAUTH, OOM...)
	Duration time.Duration
	hist     histogramSnapshot
}

// LatencyBuckets calls fn for each power-of-two bound (1µs, 2µs, 4µs, ...
// about 134s) with the number of calls that took less.
func (cs *CommandStat) LatencyBuckets(fn func(bound time.Duration, count uint64)) {
	cs.hist.powerOfTwo(func(us, n uint64) { fn(time.Duration(us)*time.Microsecond, n) })
}

// CommandStats returns the statistics of every command called or rejected
// at least once, by name. Safe to call while commands run.
func (s *Server) CommandStats() []CommandStat {
	var out []CommandStat
	for id, cmd := range commandIndex {
		cs := CommandStat{Name: cmd.name}
		for _, sh := range s.stats.shards {
			ctr := &sh[id]
			cs.Failed += ctr.failed.Load()
			cs.Rejected += ctr.rejected.Load()
			cs.Duration += time.Duration(ctr.nanos.Load())
			ctr.hist.addTo(&cs.hist)
		}
		cs.Calls = cs.hist.total()
		if cs.Calls+cs.Rejected > 0 {
			out = append(out, cs)
		}
	}
	return out
}

// ErrorStats returns the error replies sent, by code.
func (s *Server) ErrorStats() []ErrorCount { return s.stats.errors.snapshot() }

// ForwardStats returns the commands forwarded to another node, and how
// many of those failed (the peer unreachable or slow).
func (s *Server) ForwardStats() (forwarded, failed int64) {
	return s.forwarded.Load(), s.forwardErrors.Load()
}

// reset zeroes every counter (CONFIG RESETSTAT).
func (s *cmdStats) reset() {
	for _, sh := range s.shards {
		for i := range sh {
			ctr := &sh[i]
			ctr.failed.Store(0)
			ctr.rejected.Store(0)
			ctr.nanos.Store(0)
			ctr.hist.reset()
		}
	}
	s.errors.total.Store(0)
	s.errors.mu.Lock()
	clear(s.errors.counts)
	s.errors.mu.Unlock()
}
