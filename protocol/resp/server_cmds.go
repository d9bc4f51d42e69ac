package resp

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cached/cached/node"
	"github.com/cached/cached/node/peer"
)

// redisVersion is the Redis version whose behaviour cached follows; clients
// read it from HELLO and INFO to pick features.
const redisVersion = "7.2.4"

func serverCommands() []*command {
	const g = "server"
	return []*command{
		{name: "info", arity: -1, flags: flagLoading | flagStale, group: g, since: "1.0.0", summary: "Returns information and statistics about the server.", handler: cmdInfo},
		{name: "dbsize", arity: 1, flags: flagReadonly | flagFast, group: g, since: "1.0.0", summary: "Returns the number of keys in the database.", handler: cmdDBSize},
		{name: "flushall", arity: -1, flags: flagWrite, group: g, since: "1.0.0", summary: "Removes all keys from all databases.", handler: cmdFlush},
		{name: "flushdb", arity: -1, flags: flagWrite, group: g, since: "1.0.0", summary: "Remove all keys from the current database.", handler: cmdFlush},
		{name: "save", arity: 1, flags: flagAdmin | flagNoScript, group: g, since: "1.0.0", summary: "Synchronously saves the database(s) to disk.", handler: cmdSave},
		{name: "bgsave", arity: -1, flags: flagAdmin | flagNoScript, group: g, since: "1.0.0", summary: "Asynchronously saves the database(s) to disk.", handler: cmdBgSave},
		{name: "bgrewriteaof", arity: 1, flags: flagAdmin | flagNoScript, group: g, since: "1.0.0", summary: "Asynchronously rewrites the append-only file to disk.", handler: cmdBgRewriteAOF},
		{name: "lastsave", arity: 1, flags: flagLoading | flagStale | flagFast, group: g, since: "1.0.0", summary: "Returns the Unix timestamp of the last successful save to disk.", handler: cmdLastSave},
		{name: "time", arity: 1, flags: flagLoading | flagStale | flagFast, group: g, since: "2.6.0", summary: "Returns the server time.", handler: cmdTime},
		{name: "command", arity: -1, flags: flagLoading | flagStale, group: g, since: "2.8.13", summary: "Returns detailed information about all commands.", handler: cmdCommand, subs: sub(
			&command{name: "command|count", arity: 2, flags: flagLoading | flagStale, group: g, since: "2.8.13", summary: "Returns a count of commands.", handler: cmdCommandCount},
			&command{name: "command|info", arity: -2, flags: flagLoading | flagStale, group: g, since: "2.8.13", summary: "Returns information about one, multiple or all commands.", handler: cmdCommandInfo},
			&command{name: "command|docs", arity: -2, flags: flagLoading | flagStale, group: g, since: "7.0.0", summary: "Returns documentary information about one, multiple or all commands.", handler: cmdCommandDocs},
			&command{name: "command|list", arity: -2, flags: flagLoading | flagStale, group: g, since: "7.0.0", summary: "Returns a list of command names.", handler: cmdCommandList},
			&command{name: "command|getkeys", arity: -3, flags: flagLoading | flagStale, group: g, since: "2.8.13", summary: "Extracts the key names from an arbitrary command.", handler: cmdCommandGetKeys},
			&command{name: "command|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "5.0.0", summary: "Returns helpful text about the different subcommands.", handler: func(c *Client, _ [][]byte) {
				c.helpReply("COMMAND", "(no subcommand)", "COUNT", "INFO [<command-name> ...]", "DOCS [<command-name> ...]", "LIST", "GETKEYS <full-command>")
			}},
		)},
		{name: "config", arity: -2, group: g, since: "2.0.0", summary: "A container for server configuration commands.", subs: sub(
			&command{name: "config|get", arity: -3, flags: flagAdmin | flagNoScript | flagLoading | flagStale, group: g, since: "2.0.0", summary: "Returns the effective values of configuration parameters.", handler: cmdConfigGet},
			&command{name: "config|set", arity: -4, flags: flagAdmin | flagNoScript | flagLoading | flagStale, group: g, since: "2.0.0", summary: "Sets configuration parameters in-flight.", handler: cmdConfigSet},
			&command{name: "config|resetstat", arity: 2, flags: flagAdmin | flagNoScript | flagLoading | flagStale, group: g, since: "2.0.0", summary: "Resets the server's statistics.", handler: cmdConfigResetStat},
			&command{name: "config|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "5.0.0", summary: "Returns helpful text about the different subcommands.", handler: func(c *Client, _ [][]byte) {
				c.helpReply("CONFIG", "GET <pattern> [<pattern> ...]", "SET <directive> <value> [<directive> <value> ...]", "RESETSTAT")
			}},
		)},
		{name: "memory", arity: -2, group: g, since: "4.0.0", summary: "A container for memory diagnostics commands.", subs: sub(
			&command{name: "memory|usage", arity: -3, flags: flagReadonly, firstKey: 2, lastKey: 2, step: 1, group: g, since: "4.0.0", summary: "Estimates the memory usage of a key.", handler: cmdMemoryUsage},
			&command{name: "memory|stats", arity: 2, group: g, since: "4.0.0", summary: "Returns details about memory usage.", handler: cmdMemoryStats},
			&command{name: "memory|doctor", arity: 2, group: g, since: "4.0.0", summary: "Outputs a memory problems report.", handler: cmdMemoryDoctor},
			&command{name: "memory|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "4.0.0", summary: "Returns helpful text about the different subcommands.", handler: func(c *Client, _ [][]byte) {
				c.helpReply("MEMORY", "DOCTOR", "STATS", "USAGE <key> [SAMPLES <count>]")
			}},
		)},
	}
}

// cmdDBSize counts the keys of the whole cluster: the keys this node is
// primary for plus every other member's.
func cmdDBSize(c *Client, _ [][]byte) {
	if c.srv.node.View() == nil {
		c.integer(int64(c.srv.node.Len()))
		return
	}
	c.async(func() []byte {
		ctx, cancel := context.WithTimeout(context.Background(), forwardDeadline)
		defer cancel()
		total := int64(c.srv.node.PrimaryKeyCount())
		replies, errs := c.srv.node.CallAll(ctx, [][]byte{[]byte(node.CmdKeyCount)})
		r := c.scratchClient()
		for i, reply := range replies {
			n, err := peer.ParseInt(reply)
			if errs[i] != nil || err != nil {
				r.errorReply(msgTryAgain)
				return r.out
			}
			total += n
		}
		r.integer(total)
		return r.out
	})
}

// cmdFlush serves FLUSHALL and FLUSHDB [ASYNC|SYNC]. Both free memory in the
// background (the GC reclaims the dropped maps), so they behave the same.
func cmdFlush(c *Client, args [][]byte) {
	if len(args) > 2 || (len(args) == 2 && !is(args[1], "async") && !is(args[1], "sync")) {
		c.errorReply(msgSyntax)
		return
	}
	c.srv.node.Flush()
	c.srv.node.Broadcast([][]byte{[]byte(node.CmdFlush)})
	c.ok()
}

// Persistence: a snapshot plus a new log is both Redis's RDB save and its
// AOF rewrite, so SAVE, BGSAVE and BGREWRITEAOF all write one.

func cmdSave(c *Client, _ [][]byte) {
	if err := c.srv.node.Save(); err != nil {
		c.persistErr(err)
		return
	}
	c.ok()
}

func cmdBgSave(c *Client, args [][]byte) {
	if len(args) > 2 || (len(args) == 2 && !is(args[1], "schedule")) {
		c.errorReply(msgSyntax)
		return
	}
	if err := c.srv.node.BackgroundSave(); err != nil {
		c.persistErr(err)
		return
	}
	c.simple("Background saving started")
}

func cmdBgRewriteAOF(c *Client, _ [][]byte) {
	if err := c.srv.node.BackgroundSave(); err != nil {
		c.persistErr(err)
		return
	}
	c.simple("Background append only file rewriting started")
}

func cmdLastSave(c *Client, _ [][]byte) {
	c.integer(c.srv.node.LastSave().Unix())
}

// persistErr answers a failed save.
func (c *Client) persistErr(err error) {
	switch {
	case errors.Is(err, node.ErrSaveInProgress):
		c.errorReply("ERR Background save already in progress")
	case errors.Is(err, node.ErrNoPersistence):
		c.errorReply("ERR persistence is off: start cached with --dir to save")
	default:
		c.errorReply("ERR " + err.Error())
	}
}

func cmdTime(c *Client, _ [][]byte) {
	now := time.Now()
	c.array(2)
	c.bulkString(strconv.FormatInt(now.Unix(), 10))
	c.bulkString(strconv.Itoa(now.Nanosecond() / 1000))
}

func cmdCommand(c *Client, args [][]byte) {
	cmds := sortedCommands()
	c.array(len(cmds))
	for _, cmd := range cmds {
		c.commandInfo(cmd)
	}
}

func cmdCommandCount(c *Client, _ [][]byte) { c.integer(int64(len(table))) }

func cmdCommandList(c *Client, args [][]byte) {
	if len(args) > 2 {
		c.errorReply(msgSyntax) // FILTERBY is not supported
		return
	}
	cmds := sortedCommands()
	c.array(len(cmds))
	for _, cmd := range cmds {
		c.bulkString(cmd.name)
	}
}

// findCommand resolves "name" or "parent|sub".
func findCommand(name string) *command {
	name = strings.ToLower(name)
	parent, child, ok := strings.Cut(name, "|")
	cmd := table[parent]
	if !ok || cmd == nil {
		return cmd
	}
	return cmd.subs[child]
}

func cmdCommandInfo(c *Client, args [][]byte) {
	if len(args) == 2 {
		cmdCommand(c, args)
		return
	}
	c.array(len(args) - 2)
	for _, a := range args[2:] {
		if cmd := findCommand(string(a)); cmd != nil {
			c.commandInfo(cmd)
		} else {
			c.nullArray()
		}
	}
}

func cmdCommandGetKeys(c *Client, args [][]byte) {
	cmd := findCommand(string(args[2]))
	if cmd != nil && cmd.subs != nil && len(args) > 3 {
		cmd = cmd.subs[strings.ToLower(string(args[3]))] // nil for an unknown subcommand, as in Redis
	}
	switch {
	case cmd == nil:
		c.errorReply("ERR Invalid command specified")
	case cmd.firstKey == 0 && cmd.movableKeys == nil:
		c.errorReply("ERR The command has no key arguments")
	case !cmd.arityOK(len(args) - 2):
		c.errorReply("ERR Invalid number of arguments specified for command")
	default:
		pos := commandKeys(cmd, args[2:])
		if len(pos) == 0 {
			c.errorReply("ERR The command has no key arguments")
			return
		}
		c.array(len(pos))
		for _, p := range pos {
			c.bulk(args[2+p])
		}
	}
}

// commandInfo writes cmd's COMMAND entry: name, arity, flags, first key,
// last key, step, ACL categories, tips, key specifications, subcommands.
func (c *Client) commandInfo(cmd *command) {
	c.array(10)
	c.bulkString(cmd.name)
	c.integer(int64(cmd.arity))
	flags := cmd.flagList()
	c.setHeader(len(flags))
	for _, f := range flags {
		c.simple(f)
	}
	c.integer(int64(cmd.firstKey))
	c.integer(int64(cmd.lastKey))
	c.integer(int64(cmd.step))
	cats := cmd.aclCategories()
	c.setHeader(len(cats))
	for _, a := range cats {
		c.simple(a)
	}
	c.setHeader(0) // tips
	c.keySpecs(cmd)
	subs := sortedSubs(cmd)
	c.array(len(subs))
	for _, sc := range subs {
		c.commandInfo(sc)
	}
}

// keySpecs writes cmd's key positions as one Redis 7 key specification.
func (c *Client) keySpecs(cmd *command) {
	if cmd.firstKey == 0 {
		c.array(0)
		return
	}
	flags := "RW"
	if cmd.flags&flagReadonly != 0 {
		flags = "RO"
	}
	c.array(1)
	c.mapHeader(3)
	c.bulkString("flags")
	c.setHeader(1)
	c.simple(flags)
	c.bulkString("begin_search")
	c.mapHeader(2)
	c.bulkString("type")
	c.bulkString("index")
	c.bulkString("spec")
	c.mapHeader(1)
	c.bulkString("index")
	c.integer(int64(cmd.firstKey))
	c.bulkString("find_keys")
	c.mapHeader(2)
	c.bulkString("type")
	c.bulkString("range")
	c.bulkString("spec")
	c.mapHeader(3)
	c.bulkString("lastkey")
	last := cmd.lastKey
	if last >= 0 {
		last -= cmd.firstKey
	}
	c.integer(int64(last))
	c.bulkString("keystep")
	c.integer(int64(cmd.step))
	c.bulkString("limit")
	c.integer(0)
}

func sortedSubs(cmd *command) []*command {
	out := make([]*command, 0, len(cmd.subs))
	for _, sc := range cmd.subs {
		out = append(out, sc)
	}
	slices.SortFunc(out, func(a, b *command) int { return strings.Compare(a.name, b.name) })
	return out
}

func cmdCommandDocs(c *Client, args [][]byte) {
	var cmds []*command
	if len(args) == 2 {
		cmds = sortedCommands()
	} else {
		for _, a := range args[2:] {
			if cmd := findCommand(string(a)); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	c.mapHeader(len(cmds))
	for _, cmd := range cmds {
		c.bulkString(cmd.name)
		c.commandDoc(cmd)
	}
}

// commandDoc writes the COMMAND DOCS map of cmd.
func (c *Client) commandDoc(cmd *command) {
	subs := sortedSubs(cmd)
	n := 3
	if len(subs) > 0 {
		n++
	}
	c.mapHeader(n)
	c.bulkString("summary")
	c.bulkString(cmd.summary)
	c.bulkString("since")
	c.bulkString(cmd.since)
	c.bulkString("group")
	c.bulkString(cmd.group)
	if len(subs) > 0 {
		c.bulkString("subcommands")
		c.mapHeader(len(subs))
		for _, sc := range subs {
			c.bulkString(sc.name)
			c.commandDoc(sc)
		}
	}
}

func cmdMemoryUsage(c *Client, args [][]byte) {
	for j := 3; j < len(args); j += 2 {
		if !is(args[j], "samples") || j+1 == len(args) {
			c.errorReply(msgSyntax)
			return
		}
		n, err := strconv.ParseInt(string(args[j+1]), 10, 64)
		if err != nil {
			c.errorReply(msgNotInteger)
			return
		}
		if n < 0 {
			c.errorReply(msgSyntax)
			return
		}
	}
	o, ok := c.srv.node.Inspect(args[2])
	if !ok {
		c.null()
		return
	}
	c.integer(o.Bytes)
}

func cmdMemoryStats(c *Client, _ [][]byte) {
	m := readMemory()
	st := c.srv.node.Stats()
	perKey := int64(0)
	if st.Keys > 0 {
		perKey = st.UsedMemory / st.Keys
	}
	fields := []struct {
		name string
		v    int64
	}{
		{"peak.allocated", int64(m.heapPeak)},
		{"total.allocated", int64(m.heapInUse)},
		{"startup.allocated", 0},
		{"dataset.bytes", st.UsedMemory},
		{"keys.count", st.Keys},
		{"keys.bytes-per-key", perKey},
		{"rss.bytes", int64(m.rss)},
		{"go.heap.objects.bytes", int64(m.heapObjects)},
		{"go.heap.goal.bytes", int64(m.heapGoal)},
	}
	c.mapHeader(len(fields))
	for _, f := range fields {
		c.bulkString(f.name)
		c.integer(f.v)
	}
}

func cmdMemoryDoctor(c *Client, _ [][]byte) {
	st := c.srv.node.Stats()
	m := readMemory()
	limit := c.srv.node.MaxMemory()
	var b strings.Builder
	switch {
	case limit > 0 && int64(m.rss) > 2*limit:
		b.WriteString("RSS is more than twice maxmemory: the Go heap has not been returned to the OS yet, or maxmemory is very small.\n")
	case st.Keys == 0:
		b.WriteString("The instance is empty: there is nothing to diagnose.\n")
	default:
		b.WriteString("No memory problem found.\n")
	}
	c.verbatim(b.String())
}
