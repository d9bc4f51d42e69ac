package resp

import (
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/cached/cached/node"
	"github.com/cached/cached/ring"
)

// The Redis Cluster protocol, for cluster-aware clients (go-redis
// ClusterClient, rueidis, redis-cli -c), and the internal commands nodes
// send each other on the peer listener.

const msgClusterDisabled = "ERR This instance has cluster support disabled"

func clusterCommands() []*command {
	const g = "cluster"
	f := flagLoading | flagStale
	return []*command{
		{name: "cluster", arity: -2, group: g, since: "3.0.0", summary: "A container for Redis Cluster commands.", subs: sub(
			&command{name: "cluster|info", arity: 2, flags: f, group: g, since: "3.0.0", summary: "Returns information about the state of a node.", handler: cmdClusterInfo},
			&command{name: "cluster|myid", arity: 2, flags: f, group: g, since: "3.0.0", summary: "Returns the ID of a node.", handler: cmdClusterMyID},
			&command{name: "cluster|keyslot", arity: 3, flags: f, group: g, since: "3.0.0", summary: "Returns the hash slot for a key.", handler: cmdClusterKeySlot},
			&command{name: "cluster|countkeysinslot", arity: 3, flags: f, group: g, since: "3.0.0", summary: "Returns the number of keys in a hash slot.", handler: cmdClusterCountKeys},
			&command{name: "cluster|getkeysinslot", arity: 4, flags: f, group: g, since: "3.0.0", summary: "Returns the key names in a hash slot.", handler: cmdClusterGetKeys},
			&command{name: "cluster|slots", arity: 2, flags: f, group: g, since: "3.0.0", summary: "Returns the mapping of cluster slots to nodes.", handler: cmdClusterSlots},
			&command{name: "cluster|shards", arity: 2, flags: f, group: g, since: "7.0.0", summary: "Returns the mapping of cluster slots to shards.", handler: cmdClusterShards},
			&command{name: "cluster|nodes", arity: 2, flags: f, group: g, since: "3.0.0", summary: "Returns the cluster configuration for a node.", handler: cmdClusterNodes},
		)},
		{name: "readonly", arity: 1, flags: flagFast | f, group: g, since: "3.0.0", summary: "Enables read-only queries for a connection to a Redis Cluster replica node.", handler: cmdReadOnly},
		{name: "readwrite", arity: 1, flags: flagFast | f, group: g, since: "3.0.0", summary: "Enables read-write queries for a connection to a Reids Cluster replica node.", handler: cmdReadWrite},
		{name: "asking", arity: 1, flags: flagFast, group: g, since: "3.0.0", summary: "Signals that a cluster client is following an -ASK redirect.", handler: func(c *Client, _ [][]byte) { c.ok() }},
	}
}

// clusterView returns the view for a CLUSTER command, or answers that
// clustering is off.
func (c *Client) clusterView() *node.View {
	v := c.srv.node.View()
	if v == nil {
		c.errorReply(msgClusterDisabled)
	}
	return v
}

func cmdClusterInfo(c *Client, _ [][]byte) {
	v := c.clusterView()
	if v == nil {
		return
	}
	st := c.srv.node.ClusterStats()
	state := "ok"
	if !st.Ready {
		state = "fail"
	}
	epoch := strconv.FormatUint(v.Epoch, 10)
	c.verbatim("cluster_state:" + state + "\r\n" +
		"cluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:0\r\n" +
		"cluster_known_nodes:" + strconv.Itoa(len(v.Members())) + "\r\n" +
		"cluster_size:" + strconv.Itoa(len(v.Members())) + "\r\n" +
		"cluster_current_epoch:" + epoch + "\r\ncluster_my_epoch:" + epoch + "\r\n" +
		"cluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\n" +
		"total_cluster_links_buffer_limit_exceeded:0\r\n")
}

func cmdClusterMyID(c *Client, _ [][]byte) {
	if v := c.clusterView(); v != nil {
		c.bulkString(v.Self.ID)
	}
}

func cmdClusterKeySlot(c *Client, args [][]byte) {
	if c.clusterView() != nil {
		c.integer(int64(ring.Slot(args[2])))
	}
}

// slotArg parses a slot number argument.
func (c *Client) slotArg(arg []byte) (int, bool) {
	n, err := strconv.Atoi(string(arg))
	if err != nil || n < 0 || n >= ring.SlotCount {
		c.errorReply("ERR Invalid slot")
		return 0, false
	}
	return n, true
}

func cmdClusterCountKeys(c *Client, args [][]byte) {
	if c.clusterView() == nil {
		return
	}
	if slot, ok := c.slotArg(args[2]); ok {
		c.integer(int64(c.srv.node.CountKeysInSlot(slot)))
	}
}

func cmdClusterGetKeys(c *Client, args [][]byte) {
	if c.clusterView() == nil {
		return
	}
	slot, ok := c.slotArg(args[2])
	if !ok {
		return
	}
	n, err := strconv.Atoi(string(args[3]))
	if err != nil || n < 0 {
		c.errorReply("ERR Invalid number of keys")
		return
	}
	keys := c.srv.node.KeysInSlot(slot, n)
	c.array(len(keys))
	for _, k := range keys {
		c.bulk(k)
	}
}

// slotRange is a run of consecutive slots with the same owners.
type slotRange struct {
	start, end int
	owners     []node.Member
}

// slotRanges returns the ring as runs of slots with the same owners.
func slotRanges(v *node.View) []slotRange {
	var out []slotRange
	var prev []string
	for slot := range ring.SlotCount {
		owners := v.Ring.Owners(slot)
		if len(out) > 0 && slices.Equal(prev, owners) {
			out[len(out)-1].end = slot
			continue
		}
		out = append(out, slotRange{start: slot, end: slot, owners: v.Owners(slot)})
		prev = owners
	}
	return out
}

// hostPort splits a member's RESP address for CLUSTER replies.
func hostPort(addr string) (string, int) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	port, _ := strconv.Atoi(p)
	return host, port
}

func cmdClusterSlots(c *Client, _ [][]byte) {
	v := c.clusterView()
	if v == nil {
		return
	}
	ranges := slotRanges(v)
	c.array(len(ranges))
	for _, r := range ranges {
		c.array(2 + len(r.owners))
		c.integer(int64(r.start))
		c.integer(int64(r.end))
		for _, m := range r.owners {
			host, port := hostPort(m.RESP)
			c.array(3)
			c.bulkString(host)
			c.integer(int64(port))
			c.bulkString(m.ID)
		}
	}
}

// cmdClusterShards reports one shard per primary: the slots it serves and
// the nodes holding copies of them. On this ring a primary's replicas are
// the same members for every slot it serves, so a shard is well defined.
func cmdClusterShards(c *Client, _ [][]byte) {
	v := c.clusterView()
	if v == nil {
		return
	}
	type shard struct {
		ranges []slotRange
		nodes  []node.Member
	}
	shards := map[string]*shard{}
	var order []string
	for _, r := range slotRanges(v) {
		p := r.owners[0].Name
		s := shards[p]
		if s == nil {
			s = &shard{nodes: r.owners}
			shards[p] = s
			order = append(order, p)
		}
		s.ranges = append(s.ranges, r)
	}
	c.array(len(order))
	for _, p := range order {
		s := shards[p]
		c.mapHeader(2)
		c.bulkString("slots")
		c.array(2 * len(s.ranges))
		for _, r := range s.ranges {
			c.integer(int64(r.start))
			c.integer(int64(r.end))
		}
		c.bulkString("nodes")
		c.array(len(s.nodes))
		for i, m := range s.nodes {
			host, port := hostPort(m.RESP)
			role := "replica"
			if i == 0 {
				role = "master"
			}
			c.mapHeader(7)
			c.bulkString("id")
			c.bulkString(m.ID)
			c.bulkString("port")
			c.integer(int64(port))
			c.bulkString("ip")
			c.bulkString(host)
			c.bulkString("endpoint")
			c.bulkString(host)
			c.bulkString("role")
			c.bulkString(role)
			c.bulkString("replication-offset")
			c.integer(0)
			c.bulkString("health")
			c.bulkString("online")
		}
	}
}

// cmdClusterNodes lists every member as a master with the slots it is
// primary for: every member is a primary for some slots and a replica for
// others, which Redis Cluster's one-role-per-node format cannot say.
func cmdClusterNodes(c *Client, _ [][]byte) {
	v := c.clusterView()
	if v == nil {
		return
	}
	var b strings.Builder
	ranges := slotRanges(v)
	for _, m := range v.Members() {
		_, port := hostPort(m.RESP)
		host, _ := hostPort(m.RESP)
		flags := "master"
		if m.Name == v.Self.Name {
			flags = "myself,master"
		}
		b.WriteString(m.ID + " " + host + ":" + strconv.Itoa(port) + "@" + strconv.Itoa(port) + "," + m.Name + " " + flags +
			" - 0 0 " + strconv.FormatUint(v.Epoch, 10) + " connected")
		for _, r := range ranges {
			if r.owners[0].Name != m.Name {
				continue
			}
			if r.start == r.end {
				b.WriteString(" " + strconv.Itoa(r.start))
			} else {
				b.WriteString(" " + strconv.Itoa(r.start) + "-" + strconv.Itoa(r.end))
			}
		}
		b.WriteString("\n")
	}
	c.verbatim(b.String())
}

func cmdReadOnly(c *Client, _ [][]byte) {
	if c.clusterView() != nil {
		c.readonly = true
		c.ok()
	}
}

func cmdReadWrite(c *Client, _ [][]byte) {
	if c.clusterView() != nil {
		c.readonly = false
		c.ok()
	}
}

// peerCommands are served only on the peer listener (see node's Cmd*
// constants); COMMAND does not list them.
func peerCommands() map[string]*command {
	f := flagLoading | flagStale | flagNoAuth
	cmds := []*command{
		{name: strings.ToLower(node.CmdApply), arity: 2, flags: f, handler: cmdPeerApply},
		{name: strings.ToLower(node.CmdHandOff), arity: 2, flags: f, handler: cmdPeerHandOff},
		{name: strings.ToLower(node.CmdSlotDone), arity: -3, flags: f, handler: cmdPeerSlotDone},
		{name: strings.ToLower(node.CmdDump), arity: 2, flags: f, handler: cmdPeerDump},
		{name: strings.ToLower(node.CmdAsking), arity: 1, flags: f, handler: func(c *Client, _ [][]byte) { c.asking = true; c.ok() }},
		{name: strings.ToLower(node.CmdPublish), arity: 3, flags: f, handler: cmdPeerPublish},
		{name: strings.ToLower(node.CmdFlush), arity: 1, flags: f, handler: func(c *Client, _ [][]byte) {
			c.srv.node.Flush()
			c.srv.invalidate(nil, nil, localClients)
			c.ok()
		}},
		{name: strings.ToLower(node.CmdTrackRead), arity: -3, flags: f, handler: cmdPeerTrackRead},
		{name: strings.ToLower(node.CmdInvalidate), arity: -2, flags: f, handler: cmdPeerInvalidate},
		{name: strings.ToLower(node.CmdBcast), arity: -3, flags: f, handler: cmdPeerBcast},
		{name: strings.ToLower(node.CmdDelPrefix), arity: 2, flags: f, handler: cmdPeerDelPrefix},
		{name: strings.ToLower(node.CmdDelTag), arity: 2, flags: f, handler: cmdPeerDelTag},
		{name: strings.ToLower(node.CmdNoLoop), arity: -5, flags: f, handler: cmdPeerNoLoop},
		{name: strings.ToLower(node.CmdInvalidateFor), arity: -3, flags: f, handler: cmdPeerInvalidateFor},
		{name: strings.ToLower(node.CmdKeyCount), arity: 1, flags: f, handler: func(c *Client, _ [][]byte) { c.integer(int64(c.srv.node.PrimaryKeyCount())) }},
	}
	m := make(map[string]*command, len(cmds))
	for _, cmd := range cmds {
		m[cmd.name] = cmd
	}
	return m
}

func cmdPeerApply(c *Client, args [][]byte) {
	n, err := c.srv.node.ApplyAll(args[1])
	if err != nil {
		c.errorReply("ERR " + err.Error())
		return
	}
	c.srv.invalidateRecords(args[1])
	c.integer(int64(n))
}

func cmdPeerHandOff(c *Client, args [][]byte) {
	n, err := c.srv.node.ApplyHandOff(args[1])
	if err != nil {
		c.errorReply("ERR " + err.Error())
		return
	}
	c.srv.invalidateRecords(args[1])
	c.integer(int64(n))
}

// cmdPeerSlotDone: CACHED.SLOTDONE sender slot [slot ...].
func cmdPeerSlotDone(c *Client, args [][]byte) {
	for _, a := range args[2:] {
		slot, ok := c.slotArg(a)
		if !ok {
			return
		}
		c.srv.node.SlotReceived(slot, string(args[1]))
	}
	c.ok()
}

// cmdPeerDump answers a key's record (null when absent) and the number of
// keys this node holds in the key's slot.
func cmdPeerDump(c *Client, args [][]byte) {
	c.array(2)
	if rec, ok := c.srv.node.AppendRecord(nil, args[1]); ok {
		c.bulk(rec)
	} else {
		c.null()
	}
	c.integer(int64(c.srv.node.CountKeysInSlot(ring.Slot(args[1]))))
}

func cmdPeerPublish(c *Client, args [][]byte) {
	c.integer(int64(c.srv.publish(string(args[1]), args[2])))
}
