package resp

import (
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// memory is the process memory INFO and MEMORY STATS report.
type memory struct {
	rss         uint64
	heapInUse   uint64
	heapObjects uint64
	heapGoal    uint64
	heapPeak    uint64
}

var memorySamples = []string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/gc/heap/goal:bytes",
	"/memory/classes/total:bytes",
}

// readMemory samples the Go runtime and the kernel's RSS figure.
func readMemory() memory {
	s := make([]metrics.Sample, len(memorySamples))
	for i, n := range memorySamples {
		s[i].Name = n
	}
	metrics.Read(s)
	val := func(i int) uint64 {
		if s[i].Value.Kind() == metrics.KindUint64 {
			return s[i].Value.Uint64()
		}
		return 0
	}
	m := memory{
		heapObjects: val(0),
		heapInUse:   val(0) + val(1),
		heapGoal:    val(2),
		heapPeak:    val(3),
		rss:         readRSS(),
	}
	return m
}

// readRSS returns the resident set size from /proc (Linux), or the memory
// the Go runtime holds from the OS elsewhere.
func readRSS() uint64 {
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		f := strings.Fields(string(b))
		if len(f) > 1 {
			if pages, err := strconv.ParseUint(f[1], 10, 64); err == nil {
				return pages * uint64(os.Getpagesize())
			}
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Sys
}

// humanBytes formats n as Redis's *_human fields do.
func humanBytes(n int64) string {
	f := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1<<20:
		return strconv.FormatFloat(f/(1<<10), 'f', 2, 64) + "K"
	case n < 1<<30:
		return strconv.FormatFloat(f/(1<<20), 'f', 2, 64) + "M"
	}
	return strconv.FormatFloat(f/(1<<30), 'f', 2, 64) + "G"
}

// infoSections lists INFO's sections in order; "default" prints them all.
var infoSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu",
	"commandstats", "errorstats", "latencystats", "cluster", "origins", "keyspace"}

// notDefault are the sections only "all", "everything" or their name print.
var notDefault = map[string]bool{"commandstats": true, "latencystats": true}

func cmdInfo(c *Client, args [][]byte) {
	want := map[string]bool{}
	for _, a := range args[1:] {
		want[strings.ToLower(string(a))] = true
	}
	everything := want["all"] || want["everything"]
	def := len(want) == 0 || want["default"]
	var b strings.Builder
	for _, sec := range infoSections {
		if !everything && !want[sec] && (!def || notDefault[sec]) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		c.srv.writeInfo(&b, sec)
	}
	c.verbatim(b.String())
}

// writeInfo appends one INFO section.
func (s *Server) writeInfo(b *strings.Builder, section string) {
	line := func(k string, v any) {
		b.WriteString(k)
		b.WriteByte(':')
		switch v := v.(type) {
		case string:
			b.WriteString(v)
		case int:
			b.WriteString(strconv.Itoa(v))
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case uint64:
			b.WriteString(strconv.FormatUint(v, 10))
		case float64:
			b.WriteString(strconv.FormatFloat(v, 'f', 2, 64))
		}
		b.WriteString("\r\n")
	}
	title := strings.ToUpper(section[:1]) + section[1:]
	if section == "cpu" {
		title = "CPU" // as Redis spells it
	}
	b.WriteString("# " + title + "\r\n")
	now := time.Now()
	switch section {
	case "server":
		up := int64(now.Sub(s.started) / time.Second)
		line("redis_version", redisVersion)
		line("cached_version", s.version)
		line("redis_mode", map[bool]string{false: "standalone", true: "cluster"}[s.clustered])
		line("os", runtime.GOOS)
		line("arch_bits", strconv.Itoa(strconv.IntSize))
		line("go_version", runtime.Version())
		line("process_id", os.Getpid())
		line("tcp_port", s.port())
		line("server_time_usec", now.UnixMicro())
		line("uptime_in_seconds", up)
		line("uptime_in_days", up/86400)
		line("hz", 10)
		line("executable", executable())
	case "clients":
		line("connected_clients", s.ClientCount())
		line("maxclients", s.maxClients.Load())
		line("blocked_clients", 0)
	case "memory":
		st := s.node.Stats()
		m := readMemory()
		limit := s.node.MaxMemory()
		line("used_memory", st.UsedMemory)
		line("used_memory_human", humanBytes(st.UsedMemory))
		line("used_memory_rss", m.rss)
		line("used_memory_rss_human", humanBytes(int64(m.rss)))
		line("used_memory_peak", m.heapPeak)
		line("used_memory_dataset", st.UsedMemory)
		line("go_heap_inuse", m.heapInUse)
		line("go_heap_goal", m.heapGoal)
		line("maxmemory", limit)
		line("maxmemory_human", humanBytes(limit))
		line("maxmemory_policy", s.node.Policy().String())
		if st.UsedMemory > 0 {
			line("mem_fragmentation_ratio", float64(m.rss)/float64(st.UsedMemory))
		}
	case "persistence":
		ps := s.node.PersistenceStats()
		flag := func(b bool) int {
			if b {
				return 1
			}
			return 0
		}
		status := func(err error) string {
			if err != nil {
				return "err"
			}
			return "ok"
		}
		line("loading", 0)
		line("rdb_changes_since_last_save", ps.ChangesSinceSave)
		line("rdb_bgsave_in_progress", flag(ps.Saving))
		line("rdb_last_save_time", s.node.LastSave().Unix())
		line("rdb_last_bgsave_status", status(ps.LastSaveErr))
		line("aof_enabled", flag(ps.Enabled))
		line("aof_rewrite_in_progress", flag(ps.Saving))
		line("aof_last_bgrewrite_status", status(ps.LastSaveErr))
		line("aof_last_write_status", status(ps.LastWriteErr))
		if ps.Enabled {
			line("aof_fsync", ps.Fsync.String())
			line("aof_current_size", ps.LogSize)
			line("aof_buffer_length", ps.Buffered)
		}
	case "stats":
		st := s.node.Stats()
		line("total_connections_received", s.connsReceived.Load())
		line("total_commands_processed", s.commandsProcessed())
		line("total_net_input_bytes", s.netIn.Load())
		line("total_net_output_bytes", s.netOut.Load())
		line("rejected_connections", s.connsRejected.Load())
		line("client_query_buffer_limit_disconnections", s.queryLimitCloses.Load())
		line("client_output_buffer_limit_disconnections", s.outputLimitCloses.Load())
		line("total_error_replies", s.stats.errors.total.Load())
		line("expired_keys", st.ExpiredKeys)
		line("evicted_keys", st.EvictedKeys)
		line("keyspace_hits", st.Hits)
		line("keyspace_misses", st.Misses)
		channels, patterns := s.pubsub.counts()
		line("pubsub_channels", channels)
		line("pubsub_patterns", patterns)
	case "replication":
		line("role", "master")
		line("connected_slaves", 0)
	case "cpu":
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			line("used_cpu_sys", float64(ru.Stime.Sec)+float64(ru.Stime.Usec)/1e6)
			line("used_cpu_user", float64(ru.Utime.Sec)+float64(ru.Utime.Usec)/1e6)
		}
	case "cluster":
		if !s.clustered {
			line("cluster_enabled", 0)
			break
		}
		cs := s.node.ClusterStats()
		line("cluster_enabled", 1)
		ready := 0
		if cs.Ready {
			ready = 1
		}
		line("cluster_ready", ready)
		line("cluster_members", cs.Members)
		line("cluster_epoch", cs.Epoch)
		line("cluster_slots_primary", cs.SlotsPrimary)
		line("cluster_slots_replica", cs.SlotsReplica)
		line("cluster_slots_importing", cs.SlotsImporting)
		line("cluster_slots_to_hand_off", cs.SlotsToHandOff)
		line("cluster_keys_handed_off", cs.KeysHandedOff)
		line("cluster_keys_forwarded", s.forwarded.Load())
		line("cluster_forward_errors", s.forwardErrors.Load())
		line("cluster_records_replicated", cs.RecordsReplicated)
		line("cluster_replication_errors", cs.ReplicationErrors)
		line("cluster_replication_lag", cs.ReplicationLag)
	case "origins":
		s.originsInfo(line)
	case "commandstats", "errorstats", "latencystats":
		s.writeCommandInfo(b, section)
	case "keyspace":
		st := s.node.Stats()
		if st.Keys > 0 {
			line("db0", "keys="+strconv.FormatInt(st.Keys, 10)+",expires="+strconv.FormatInt(st.VolatileKeys, 10)+",avg_ttl=0")
		}
	}
}

func executable() string {
	p, _ := os.Executable()
	return p
}

// commandsProcessed sums the commands of live and closed clients.
func (s *Server) commandsProcessed() int64 {
	n := s.cmdsDone.Load()
	for _, c := range s.clientList() {
		n += c.cmds.Load()
	}
	return n
}

// resetStats zeroes the server's INFO counters (CONFIG RESETSTAT).
func (s *Server) resetStats() {
	s.connsReceived.Store(0)
	s.connsRejected.Store(0)
	s.queryLimitCloses.Store(0)
	s.outputLimitCloses.Store(0)
	s.cmdsDone.Store(0)
	s.netIn.Store(0)
	s.netOut.Store(0)
	for _, c := range s.clientList() {
		c.cmds.Store(0)
	}
}

// port returns the port the server listens on.
func (s *Server) port() string {
	a := s.Addr().String()
	return a[strings.LastIndexByte(a, ':')+1:]
}
