package resp

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LATENCY: the latency monitor keeps, per event, the latency spikes of at
// least latency-monitor-threshold milliseconds (0: off), one sample per
// second (the worst), the last 160 of them, as Redis does. Events:
// "command" and "fast-command" (a command flagged fast). LATENCY HISTOGRAM
// reads the per-command histograms of cmdstats.go.

// latencyHistoryLen is the samples kept per event.
const latencyHistoryLen = 160

// latencyMonitor is the server's latency monitor.
type latencyMonitor struct {
	threshold atomic.Int64 // milliseconds; 0: off

	mu     sync.Mutex // guards events
	events map[string]*latencySeries
}

// latencySample is the worst latency seen in one second.
type latencySample struct {
	at int64 // Unix seconds
	ms int64
}

// latencySeries is one event's history.
type latencySeries struct {
	samples []latencySample // oldest first, at most latencyHistoryLen
	max     int64           // worst ever, in milliseconds
}

// spike reports whether a latency d is recorded.
func (m *latencyMonitor) spike(d time.Duration) bool {
	t := m.threshold.Load()
	return t > 0 && d >= time.Duration(t)*time.Millisecond
}

// add records a spike of d for event.
func (m *latencyMonitor) add(event string, d time.Duration) {
	ms := int64(d / time.Millisecond)
	now := time.Now().Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.events == nil {
		m.events = make(map[string]*latencySeries)
	}
	s := m.events[event]
	if s == nil {
		s = &latencySeries{}
		m.events[event] = s
	}
	s.max = max(s.max, ms)
	if n := len(s.samples); n > 0 && s.samples[n-1].at == now {
		s.samples[n-1].ms = max(s.samples[n-1].ms, ms)
		return
	}
	if len(s.samples) == latencyHistoryLen {
		copy(s.samples, s.samples[1:])
		s.samples = s.samples[:latencyHistoryLen-1]
	}
	s.samples = append(s.samples, latencySample{at: now, ms: ms})
}

// commandEvent is the latency event of a slow cmd.
func commandEvent(cmd *command) string {
	if cmd.flags&flagFast != 0 {
		return "fast-command"
	}
	return "command"
}

// observeCommand logs a command that ran for d in the slow log and the
// latency monitor when it passes their thresholds; it costs two atomic
// loads otherwise.
func (s *Server) observeCommand(c *Client, cmd *command, args [][]byte, d time.Duration) {
	if s.slowlog.slowEnough(d) && !skipsSlowlog(cmd) {
		s.slowlog.add(c, args, d)
	}
	if s.latency.spike(d) {
		s.latency.add(commandEvent(cmd), d)
	}
}

func latencyCommands() []*command {
	const g = "server"
	f := flagAdmin | flagNoScript | flagLoading | flagStale
	return []*command{
		{name: "latency", arity: -2, group: g, since: "2.8.13", summary: "A container for latency diagnostics commands.", subs: sub(
			&command{name: "latency|latest", arity: 2, flags: f, group: g, since: "2.8.13", summary: "Returns the latest latency samples for all events.", handler: cmdLatencyLatest},
			&command{name: "latency|history", arity: 3, flags: f, group: g, since: "2.8.13", summary: "Returns timestamp-latency samples for an event.", handler: cmdLatencyHistory},
			&command{name: "latency|reset", arity: -2, flags: f, group: g, since: "2.8.13", summary: "Resets the latency data for one or more events.", handler: cmdLatencyReset},
			&command{name: "latency|doctor", arity: 2, flags: f, group: g, since: "2.8.13", summary: "Returns a human-readable latency analysis report.", handler: cmdLatencyDoctor},
			&command{name: "latency|histogram", arity: -2, flags: f, group: g, since: "7.0.0", summary: "Returns the cumulative distribution of latencies of a subset or all commands.", handler: cmdLatencyHistogram},
			&command{name: "latency|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "2.8.13", summary: "Returns helpful text about the different subcommands.", handler: func(c *Client, _ [][]byte) {
				c.helpReply("LATENCY",
					"DOCTOR",
					"    Return a human readable latency analysis report.",
					"HISTORY <event>",
					"    Return time-latency samples for the <event> class.",
					"LATEST",
					"    Return the latest latency samples for all events.",
					"RESET [<event> ...]",
					"    Reset latency data of one or more <event> classes.",
					"    (default: reset all data for all event classes)",
					"HISTOGRAM [COMMAND ...]",
					"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
					"    If no commands are specified then all histograms are replied.")
			}},
		)},
	}
}

// sortedEvents returns the monitor's event names in order, under m.mu.
func (m *latencyMonitor) sortedEventsLocked() []string {
	names := make([]string, 0, len(m.events))
	for name := range m.events {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func cmdLatencyLatest(c *Client, _ [][]byte) {
	m := &c.srv.latency
	m.mu.Lock()
	defer m.mu.Unlock()
	names := m.sortedEventsLocked()
	c.array(len(names))
	for _, name := range names {
		s := m.events[name]
		last := s.samples[len(s.samples)-1]
		c.array(4)
		c.bulkString(name)
		c.integer(last.at)
		c.integer(last.ms)
		c.integer(s.max)
	}
}

func cmdLatencyHistory(c *Client, args [][]byte) {
	m := &c.srv.latency
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.events[strings.ToLower(string(args[2]))]
	if s == nil {
		c.array(0)
		return
	}
	c.array(len(s.samples))
	for _, smp := range s.samples {
		c.array(2)
		c.integer(smp.at)
		c.integer(smp.ms)
	}
}

func cmdLatencyReset(c *Client, args [][]byte) {
	m := &c.srv.latency
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(args) == 2 {
		n := len(m.events)
		clear(m.events)
		c.integer(int64(n))
		return
	}
	n := 0
	for _, a := range args[2:] {
		name := strings.ToLower(string(a))
		if _, ok := m.events[name]; ok {
			delete(m.events, name)
			n++
		}
	}
	c.integer(int64(n))
}

func cmdLatencyDoctor(c *Client, _ [][]byte) {
	c.verbatim(c.srv.latencyDoctor())
}

// latencyDoctor writes a short report of the monitor's events.
func (s *Server) latencyDoctor() string {
	if s.latency.threshold.Load() == 0 {
		return "Latency monitoring is disabled in this cached instance. Use \"CONFIG SET latency-monitor-threshold <milliseconds>\" to enable it.\n"
	}
	m := &s.latency
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.events) == 0 {
		return "No latency spike was observed since the monitor was enabled or reset.\n"
	}
	var b strings.Builder
	b.WriteString("Latency spikes observed (threshold " + strconv.FormatInt(m.threshold.Load(), 10) + "ms):\n\n")
	for i, name := range m.sortedEventsLocked() {
		ev := m.events[name]
		var sum int64
		for _, smp := range ev.samples {
			sum += smp.ms
		}
		b.WriteString(strconv.Itoa(i+1) + ". " + name + ": " + strconv.Itoa(len(ev.samples)) + " latency spikes (average " +
			strconv.FormatInt(sum/int64(len(ev.samples)), 10) + "ms). Worst all time event " + strconv.FormatInt(ev.max, 10) + "ms.\n")
	}
	b.WriteString("\nAdvice: SLOWLOG GET lists the slow commands and their arguments; LATENCY HISTOGRAM shows each command's distribution. " +
		"Slow commands are usually O(N) ones on big values (KEYS, SMEMBERS, HGETALL, LRANGE over long lists): prefer SCAN and ranges.\n")
	return b.String()
}

func cmdLatencyHistogram(c *Client, args [][]byte) {
	stats := c.srv.CommandStats()
	byName := make(map[string]*CommandStat, len(stats))
	for i := range stats {
		byName[stats[i].Name] = &stats[i]
	}
	var pick []*CommandStat
	seen := map[string]bool{}
	want := func(name string) {
		if cs := byName[name]; cs != nil && cs.Calls > 0 && !seen[name] {
			seen[name] = true
			pick = append(pick, cs)
		}
	}
	if len(args) == 2 {
		for i := range stats {
			want(stats[i].Name)
		}
	}
	for _, a := range args[2:] {
		name := strings.ToLower(string(a))
		want(name)
		if cmd := table[name]; cmd != nil {
			subs := make([]string, 0, len(cmd.subs))
			for _, sc := range cmd.subs {
				subs = append(subs, sc.name)
			}
			slices.Sort(subs)
			for _, sub := range subs {
				want(sub) // a container stands for its subcommands
			}
		}
	}
	c.mapHeader(len(pick))
	for _, cs := range pick {
		c.bulkString(cs.Name)
		c.mapHeader(2)
		c.bulkString("calls")
		c.integer(int64(cs.Calls))
		c.bulkString("histogram_usec")
		var bounds, counts []int64
		var prev uint64
		cs.hist.powerOfTwo(func(us, n uint64) {
			if n > prev {
				bounds, counts = append(bounds, int64(us)), append(counts, int64(n))
			}
			prev = n
		})
		c.mapHeader(len(bounds))
		for i := range bounds {
			c.integer(bounds[i])
			c.integer(counts[i])
		}
	}
}
