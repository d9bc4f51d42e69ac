package main

import (
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cached/cached/node"
	"github.com/cached/cached/node/origin"
	"github.com/cached/cached/node/store"
)

// nodeSource is what the metrics read from a node; *node.Node has it.
type nodeSource interface {
	Stats() store.Stats
	MaxMemory() int64
	Clustered() bool
	ClusterStats() node.ClusterStats
	PersistenceStats() node.PersistenceStats
	LastSave() time.Time
}

// clientCounter is what the metrics read from the RESP server.
type clientCounter interface {
	ClientCount() int
	commandSource
}

// nodeCollector turns the figures that INFO shows into cached_* metrics,
// read from the node and the RESP server on each scrape: nothing is counted
// per request here. Counters reset by CONFIG RESETSTAT go down, which
// Prometheus treats as a restart.
type nodeCollector struct {
	node    nodeSource
	clients clientCounter
	ready   func() bool

	info, up, readyDesc                                  *prometheus.Desc
	keys, volatileKeys, usedMemory, maxMemory, connected *prometheus.Desc
	hits, misses, expired, evicted                       *prometheus.Desc

	members, slots, slotsImporting, slotsToHandOff, keysHandedOff *prometheus.Desc
	replicated, replicationErrors, replicationLag, clusterReady   *prometheus.Desc
	leaving                                                       *prometheus.Desc

	logBytes, logBuffered, writeOK, saveOK, lastSave, sinceSave, saving *prometheus.Desc
}

func newNodeCollector(n nodeSource, clients clientCounter, ready func() bool) *nodeCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("cached_"+name, help, labels, nil)
	}
	return &nodeCollector{
		node: n, clients: clients, ready: ready,
		info:         d("build_info", "Always 1; the labels tell the version of cached and of Go.", "version", "goversion"),
		readyDesc:    d("ready", "1 while /readyz answers 200: serving and, in a cluster, joined with min-members seen and its slots loaded."),
		keys:         d("keys", "Keys held by this node, its replica copies and keys not yet expired included."),
		volatileKeys: d("keys_volatile", "Keys held by this node that have a deadline (EXPIRE)."),
		usedMemory:   d("memory_used_bytes", "Memory used by data (INFO used_memory)."),
		maxMemory:    d("memory_max_bytes", "The maxmemory setting; 0 means no limit."),
		connected:    d("connected_clients", "Connected Redis-protocol clients."),
		hits:         d("keyspace_hits_total", "Key lookups that found the key."),
		misses:       d("keyspace_misses_total", "Key lookups that did not find the key."),
		expired:      d("expired_keys_total", "Keys removed because their deadline passed."),
		evicted:      d("evicted_keys_total", "Keys evicted to stay under maxmemory."),

		clusterReady:      d("cluster_ready", "1 once min-members members have been seen (writes are served)."),
		leaving:           d("cluster_leaving", "1 once this node has handed its slots off and announced its leave."),
		members:           d("cluster_members", "Members in this node's view of the cluster, itself included."),
		slots:             d("cluster_slots", "Hash slots this node owns, by role.", "role"),
		slotsImporting:    d("cluster_slots_importing", "Slots this node became primary for and may not hold in full yet."),
		slotsToHandOff:    d("cluster_slots_to_hand_off", "Slots still to be streamed to their new owners."),
		keysHandedOff:     d("cluster_keys_handed_off_total", "Keys streamed to other owners by slot hand-off."),
		replicated:        d("cluster_records_replicated_total", "Records sent to replicas."),
		replicationErrors: d("cluster_replication_errors_total", "Failed sends to replicas."),
		replicationLag:    d("cluster_replication_lag_changes", "Changes recorded on this node but not yet acknowledged by its replicas."),

		logBytes:    d("persistence_log_bytes", "Size of the current append-only log file."),
		logBuffered: d("persistence_log_buffered_bytes", "Records waiting to be written to the log (grows while writes fail)."),
		writeOK:     d("persistence_last_write_ok", "1 when the last write or sync of the log succeeded, 0 while they fail (a full disk)."),
		saveOK:      d("persistence_last_save_ok", "1 when the last snapshot succeeded."),
		lastSave:    d("persistence_last_save_timestamp_seconds", "When the last snapshot was written (the start time before the first)."),
		sinceSave:   d("persistence_changes_since_save", "Changes made since the last snapshot."),
		saving:      d("persistence_saving", "1 while a snapshot is being written."),
	}
}

// Describe implements prometheus.Collector.
func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.info, c.readyDesc, c.keys, c.volatileKeys, c.usedMemory, c.maxMemory,
		c.connected, c.hits, c.misses, c.expired, c.evicted} {
		ch <- d
	}
	for _, d := range []*prometheus.Desc{c.logBytes, c.logBuffered, c.writeOK, c.saveOK, c.lastSave, c.sinceSave, c.saving} {
		ch <- d
	}
	if c.node.Clustered() {
		for _, d := range []*prometheus.Desc{c.clusterReady, c.leaving, c.members, c.slots, c.slotsImporting,
			c.slotsToHandOff, c.keysHandedOff, c.replicated, c.replicationErrors, c.replicationLag} {
			ch <- d
		}
	}
}

// Collect implements prometheus.Collector. It may be called concurrently.
func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.info, 1, version, runtime.Version())
	gauge(c.readyDesc, boolFloat(c.ready()))
	st := c.node.Stats()
	gauge(c.keys, float64(st.Keys))
	gauge(c.volatileKeys, float64(st.VolatileKeys))
	gauge(c.usedMemory, float64(st.UsedMemory))
	gauge(c.maxMemory, float64(c.node.MaxMemory()))
	gauge(c.connected, float64(c.clients.ClientCount()))
	counter(c.hits, float64(st.Hits))
	counter(c.misses, float64(st.Misses))
	counter(c.expired, float64(st.ExpiredKeys))
	counter(c.evicted, float64(st.EvictedKeys))
	if ps := c.node.PersistenceStats(); ps.Enabled {
		gauge(c.logBytes, float64(ps.LogSize))
		gauge(c.logBuffered, float64(ps.Buffered))
		gauge(c.writeOK, boolFloat(ps.LastWriteErr == nil))
		gauge(c.saveOK, boolFloat(ps.LastSaveErr == nil))
		gauge(c.lastSave, float64(c.node.LastSave().Unix()))
		gauge(c.sinceSave, float64(ps.ChangesSinceSave))
		gauge(c.saving, boolFloat(ps.Saving))
	}
	if !c.node.Clustered() {
		return
	}
	cs := c.node.ClusterStats()
	gauge(c.clusterReady, boolFloat(cs.Ready))
	gauge(c.leaving, boolFloat(cs.Leaving))
	gauge(c.members, float64(cs.Members))
	gauge(c.slots, float64(cs.SlotsPrimary), "primary")
	gauge(c.slots, float64(cs.SlotsReplica), "replica")
	gauge(c.slotsImporting, float64(cs.SlotsImporting))
	gauge(c.slotsToHandOff, float64(cs.SlotsToHandOff))
	counter(c.keysHandedOff, float64(cs.KeysHandedOff))
	counter(c.replicated, float64(cs.RecordsReplicated))
	counter(c.replicationErrors, float64(cs.ReplicationErrors))
	gauge(c.replicationLag, float64(cs.ReplicationLag))
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// newRegistry returns a registry with the Go runtime, process and node
// collectors: one per admin server, no global state.
func newRegistry(n nodeSource, clients clientCounter, ready func() bool) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newNodeCollector(n, clients, ready),
		newCommandCollector(clients),
	)
	if o, ok := clients.(interface{ Origins() *origin.Engine }); ok && o.Origins() != nil {
		reg.MustRegister(newOriginCollector(o.Origins()))
	}
	return reg
}
