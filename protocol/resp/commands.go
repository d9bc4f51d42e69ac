package resp

import (
	"slices"
	"strconv"
	"strings"
)

// cmdFlag is a command property, as COMMAND reports it.
type cmdFlag uint32

const (
	flagWrite    cmdFlag = 1 << iota // may modify the key space
	flagReadonly                     // reads only
	flagDenyOOM                      // refused when memory is full and nothing can be evicted
	flagAdmin                        // administrative
	flagFast                         // O(1) or O(log N)
	flagNoAuth                       // allowed before AUTH
	flagLoading                      // allowed while loading
	flagStale                        // allowed with stale data
	flagNoScript                     // not allowed in scripts
)

var flagNames = []struct {
	flag cmdFlag
	name string
}{
	{flagWrite, "write"}, {flagReadonly, "readonly"}, {flagDenyOOM, "denyoom"},
	{flagAdmin, "admin"}, {flagFast, "fast"}, {flagNoAuth, "no_auth"},
	{flagLoading, "loading"}, {flagStale, "stale"}, {flagNoScript, "noscript"},
}

// command is one entry of the command table. The same entry drives
// dispatch (arity, flags, key positions) and what COMMAND reports, so the two
// cannot disagree.
type command struct {
	name     string // lower case; "parent|sub" for subcommands
	arity    int    // Redis convention: N exact, -N at least N (the name counts)
	flags    cmdFlag
	firstKey int // position of the first key, 0 when none
	lastKey  int // position of the last key; -1 is the last argument
	step     int // distance between keys
	group    string
	summary  string
	since    string
	handler  func(c *Client, args [][]byte)
	id       int // index in commandIndex and the statistics shards
	subs     map[string]*command
	// movableKeys, when set, finds the keys of a command whose key
	// positions depend on its arguments (a numkeys argument): cluster
	// routing uses it; COMMAND reports firstKey..lastKey.
	movableKeys func(args [][]byte) []int
	aclID       int // index in aclCatalog (see acl.go); -1 for peer-only commands
}

// flagList returns the names of cmd's flags.
func (cmd *command) flagList() []string {
	var out []string
	for _, f := range flagNames {
		if cmd.flags&f.flag != 0 {
			out = append(out, f.name)
		}
	}
	return out
}

// keys returns the positions of cmd's keys in args.
func (cmd *command) keys(args [][]byte) []int {
	if cmd.firstKey == 0 || cmd.firstKey >= len(args) {
		return nil
	}
	last := cmd.lastKey
	if last < 0 {
		last = len(args) + last
	}
	var out []int
	for i := cmd.firstKey; i <= last && i < len(args); i += max(cmd.step, 1) {
		out = append(out, i)
	}
	return out
}

// table is the command table: lower-case name → command. It is built by
// init (COMMAND's handlers read it, so it cannot be an initialiser) and never
// modified after.
var table map[string]*command

func init() {
	table = buildTable()
	indexCommands()
	aclCatalog = buildCatalog()
}

// numKeys returns a movableKeys function for a command whose keys are
// counted by the argument at position at and follow it, after fixed keys
// at the positions in fixed (ZUNIONSTORE dest numkeys key...).
func numKeys(at int, fixed ...int) func(args [][]byte) []int {
	return func(args [][]byte) []int {
		out := append([]int(nil), fixed...)
		if at >= len(args) {
			return out
		}
		n, err := strconv.Atoi(string(args[at]))
		if err != nil || n < 1 || at+n >= len(args) {
			return out
		}
		for i := at + 1; i <= at+n; i++ {
			out = append(out, i)
		}
		return out
	}
}

func buildTable() map[string]*command {
	t := make(map[string]*command)
	for _, group := range [][]*command{
		connectionCommands(), serverCommands(), keyCommands(), stringCommands(),
		hashCommands(), listCommands(), setCommands(), zsetCommands(),
		transactionCommands(), pubsubCommands(), blockingCommands(), clusterCommands(),
		aclCommands(), cachedCommands(), slowlogCommands(), latencyCommands(),
	} {
		for _, cmd := range group {
			t[cmd.name] = cmd
		}
	}
	t["zunionstore"].movableKeys = numKeys(2, 1)
	t["zinterstore"].movableKeys = numKeys(2, 1)
	t["sintercard"].movableKeys = numKeys(1)
	return t
}

// sub builds a subcommand table from cmds, whose names are "parent|sub".
func sub(cmds ...*command) map[string]*command {
	m := make(map[string]*command, len(cmds))
	for _, c := range cmds {
		m[c.name[strings.IndexByte(c.name, '|')+1:]] = c
	}
	return m
}

// sortedCommands returns the table's commands by name.
func sortedCommands() []*command {
	out := make([]*command, 0, len(table))
	for _, c := range table {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *command) int { return strings.Compare(a.name, b.name) })
	return out
}

// lookup finds the command named by arg, case-insensitively, without
// allocating for names that fit in the scratch buffer.
func (c *Client) lookup(m map[string]*command, arg []byte) *command {
	if len(arg) > len(c.scratch) {
		return m[strings.ToLower(string(arg))]
	}
	n := copy(c.scratch[:], arg)
	for i := range n {
		if b := c.scratch[i]; 'A' <= b && b <= 'Z' {
			c.scratch[i] = b + 'a' - 'A'
		}
	}
	return m[string(c.scratch[:n])]
}

// arityOK reports whether n arguments (the name included) suit cmd.
func (cmd *command) arityOK(n int) bool {
	if cmd.arity >= 0 {
		return n == cmd.arity
	}
	return n >= -cmd.arity
}

// peerTable holds the commands only the peer listener serves. It is built
// by init: CACHED.NOLOOP runs a command through execute, which reads it.
var peerTable map[string]*command

func init() { peerTable = peerCommands() }

// execute runs one command and writes its reply. The checks come in
// Redis's order: unknown command, arity, unknown subcommand, arity,
// authentication, ACL permissions, memory.
func (c *Client) execute(args [][]byte) {
	cmd := c.lookup(table, args[0])
	if cmd == nil && c.peer {
		cmd = c.lookup(peerTable, args[0])
	}
	if cmd == nil {
		c.refuse(c.unknownCommand(args))
		return
	}
	c.cmd = cmd
	if !cmd.arityOK(len(args)) {
		c.refuse(arityMessage(cmd.name))
		return
	}
	if cmd.subs != nil && (len(args) > 1 || cmd.handler == nil) {
		sc := c.lookup(cmd.subs, args[1])
		c.cmd = sc // nil for an unknown subcommand: errorstats count it, as in Redis
		if sc == nil {
			c.refuse("ERR unknown subcommand '" + truncate(args[1]) + "'. Try " + strings.ToUpper(cmd.name) + " HELP.")
			return
		}
		if !sc.arityOK(len(args)) {
			c.refuse(arityMessage(sc.name))
			return
		}
		cmd = sc
	}
	if !c.authed && cmd.flags&flagNoAuth == 0 {
		c.refuse(msgNoAuth)
		return
	}
	if p := c.user.Perms(); !p.Unrestricted() && !c.permitted(p, cmd, args) {
		return
	}
	if c.subscribedMode() && !allowedSubscribed(cmd) {
		c.refuse("ERR Can't execute '" + cmd.name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
		return
	}
	if c.overlapping && c.waitOverlap(cmd, args) {
		return
	}
	if c.srv.origins != nil && c.originPrecheck(cmd, args) {
		return
	}
	if c.srv.clustered && !c.tx.active && (cmd.firstKey != 0 || cmd.movableKeys != nil) && c.route(cmd, args) {
		c.lastCmd.Store(cmd)
		return
	}
	if cmd.flags&flagDenyOOM != 0 {
		if err := c.srv.node.Reserve(); err != nil {
			c.refuse(msgOOM)
			return
		}
	}
	if c.tx.active && !runsInMulti(cmd) {
		c.queue(args)
		return
	}
	if c.srv.origins != nil && c.viaOrigin(cmd, args) {
		c.lastCmd.Store(cmd)
		return
	}
	c.lastCmd.Store(cmd)
	if c.track.on {
		c.trackRead(cmd, args, "")
	}
	cmd.handler(c, args)
	if c.srv.tracking.active.Load() && cmd.flags&flagWrite != 0 {
		c.invalidateWritten(cmd, args)
	}
	if c.track.on {
		c.consumeCaching(cmd)
	}
	if c.srv.waitWrites && cmd.flags&flagWrite != 0 {
		c.holdWrites = true // see holdOutput
	}
}

// unknownCommand returns Redis 7's error for an unknown command: the name
// and the first arguments, quoted, within 128 bytes.
func (c *Client) unknownCommand(args [][]byte) string {
	var quoted strings.Builder
	for _, a := range args[1:] {
		room := 128 - quoted.Len()
		if room <= 0 {
			break
		}
		quoted.WriteString("'")
		quoted.Write(a[:min(len(a), room)])
		quoted.WriteString("' ")
	}
	return "ERR unknown command '" + truncate(args[0]) + "', with args beginning with: " + quoted.String()
}

// truncate returns at most 128 bytes of b, as Redis quotes arguments in errors.
func truncate(b []byte) string {
	if len(b) > 128 {
		b = b[:128]
	}
	return string(b)
}

// is reports whether arg equals the lower-case word w, ignoring ASCII case.
func is(arg []byte, w string) bool {
	if len(arg) != len(w) {
		return false
	}
	for i := range len(arg) {
		b := arg[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if b != w[i] {
			return false
		}
	}
	return true
}
