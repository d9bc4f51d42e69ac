package resp

import (
	"net"
	"time"

	"github.com/cached/cached/protocol/acl"
)

// The command table's ACL side: every command and subcommand has an id in
// aclCatalog, so a user's command permissions are a bitmap, and ACL
// categories derived from its group, flags and name. Access is checked in
// execute only for users that are not unrestricted (see Client.permitted).

// aclCatalog numbers the command table for ACL bitmaps; built by init after
// the table and never modified after.
var aclCatalog *acl.Catalog

// ACLCatalog returns the commands and categories ACL rules may name, for
// building the acl.Users a Server (and the other front ends) share.
func ACLCatalog() *acl.Catalog { return aclCatalog }

// buildCatalog numbers the table's commands and subcommands, by name, and
// records each one's id; the peer-only commands get none.
func buildCatalog() *acl.Catalog {
	var cmds []*command
	for _, c := range sortedCommands() {
		cmds = append(cmds, c)
		cmds = append(cmds, sortedSubs(c)...)
	}
	list := make([]acl.Command, len(cmds))
	for i, c := range cmds {
		c.aclID = i
		cats := c.aclCategories()
		for j := range cats {
			cats[j] = cats[j][1:]
		}
		list[i] = acl.Command{Name: c.name, Categories: cats}
	}
	for _, c := range peerTable {
		c.aclID = -1
	}
	return acl.NewCatalog(list)
}

// dangerous are the commands outside @admin that Redis puts in @dangerous.
var dangerous = map[string]bool{
	"flushall": true, "flushdb": true, "keys": true, "info": true, "sort": true,
	"swapdb": true, "role": true, "client|kill": true, "client|list": true,
}

// blockingCmds are the commands Redis puts in @blocking.
var blockingCmds = map[string]bool{
	"blpop": true, "brpop": true, "blmove": true, "brpoplpush": true, "blmpop": true,
	"bzpopmin": true, "bzpopmax": true, "bzmpop": true, "wait": true, "waitaof": true,
}

// aclCategories derives a command's ACL categories ("@read", ...) from its
// group, flags and name.
func (cmd *command) aclCategories() []string {
	var out []string
	switch cmd.group {
	case "generic":
		out = append(out, "@keyspace")
	case "string", "connection", "hash", "list", "set", "sortedset", "pubsub":
		out = append(out, "@"+cmd.group)
	case "transactions":
		out = append(out, "@transaction")
	}
	if cmd.name == "flushall" || cmd.name == "flushdb" || cmd.name == "dbsize" {
		out = append(out, "@keyspace")
	}
	if cmd.flags&flagWrite != 0 {
		out = append(out, "@write")
	}
	if cmd.flags&flagReadonly != 0 {
		out = append(out, "@read")
	}
	if cmd.flags&flagFast != 0 {
		out = append(out, "@fast")
	} else {
		out = append(out, "@slow")
	}
	if blockingCmds[cmd.name] {
		out = append(out, "@blocking")
	}
	if cmd.flags&flagAdmin != 0 {
		out = append(out, "@admin", "@dangerous")
	} else if dangerous[cmd.name] {
		out = append(out, "@dangerous")
	}
	return out
}

// Reasons a command is denied, as ACL LOG names them.
const (
	deniedCommand = "command"
	deniedKey     = "key"
	deniedChannel = "channel"
)

// permitted checks a restricted user's access to cmd with args, as Redis
// does before running a command: the command, then its keys, then its
// channels. On a denial it logs it, refuses with NOPERM and reports false.
// Commands allowed before AUTH (AUTH, HELLO, QUIT, RESET) are always
// permitted.
func (c *Client) permitted(p *acl.Perms, cmd *command, args [][]byte) bool {
	reason, object := denial(p, cmd, args)
	if reason == "" {
		return true
	}
	c.logDenied(reason, object)
	c.refuse(noPermMessage(c.user.Name(), reason, cmd.name))
	return false
}

// denial returns why p may not run cmd with args ("" if it may) and the
// command, key or channel denied.
func denial(p *acl.Perms, cmd *command, args [][]byte) (reason, object string) {
	if cmd.flags&flagNoAuth != 0 {
		return "", ""
	}
	if !p.CommandAllowed(cmd.aclID) {
		return deniedCommand, cmd.name
	}
	if !p.AllKeys() {
		var positions []int
		if cmd.movableKeys != nil {
			positions = cmd.movableKeys(args)
		} else {
			positions = cmd.keys(args)
		}
		write := cmd.flags&flagWrite != 0
		read := cmd.flags&flagReadonly != 0 || !write
		for _, i := range positions {
			if !p.KeyAllowed(string(args[i]), read, write) {
				return deniedKey, string(args[i])
			}
		}
	}
	if !p.AllChannels() {
		switch cmd.name {
		case "subscribe", "ssubscribe":
			for _, a := range args[1:] {
				if !p.ChannelAllowed(string(a)) {
					return deniedChannel, string(a)
				}
			}
		case "psubscribe":
			for _, a := range args[1:] {
				if !p.PatternAllowed(string(a)) {
					return deniedChannel, string(a)
				}
			}
		case "publish", "spublish":
			if !p.ChannelAllowed(string(args[1])) {
				return deniedChannel, string(args[1])
			}
		}
	}
	return "", ""
}

// noPermMessage returns Redis 7.2's NOPERM error for a denial.
func noPermMessage(user, reason, cmdName string) string {
	switch reason {
	case deniedKey:
		return "NOPERM No permissions to access a key"
	case deniedChannel:
		return "NOPERM No permissions to access a channel"
	}
	return "NOPERM User " + user + " has no permissions to run the '" + cmdName + "' command"
}

// logDenied records a denial in the ACL log.
func (c *Client) logDenied(reason, object string) {
	ctx := "toplevel"
	if c.tx.active || c.execing {
		ctx = "multi"
	}
	c.srv.aclLog.Add(acl.LogEntry{Reason: reason, Context: ctx, Object: object,
		Username: c.user.Name(), ClientInfo: c.info(time.Now())}, time.Now())
}

// logAuthFailure records a failed AUTH or HELLO AUTH for user.
func (c *Client) logAuthFailure(user string) {
	c.srv.aclLog.Add(acl.LogEntry{Reason: "auth", Context: "toplevel", Object: "AUTH",
		Username: user, ClientInfo: c.info(time.Now())}, time.Now())
}

// protectedAnonymous reports whether protected mode keeps a client from
// addr from running as the default user without a password: it is not on
// the loopback interface. Redis refuses such a client outright; cached
// answers its commands with NOAUTH, so that it may still AUTH as a user
// with a password. This holds whenever a password is removed at run time
// (CONFIG SET requirepass "", ACL SETUSER default nopass); at start-up
// cmd/cached refuses to listen publicly without a password at all.
func (s *Server) protectedAnonymous(addr string) bool {
	if !s.protected {
		return false
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// setUser makes u the connection's user; CLIENT LIST and ACL changes read
// it from other goroutines under c.mu.
func (c *Client) setUser(u *acl.User) {
	c.mu.Lock()
	c.user = u
	c.mu.Unlock()
}

// userName returns the connection's user name, from any goroutine.
func (c *Client) userName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user.Name()
}

// dropStaleUsers closes, as Redis does, the connections whose user was
// deleted (ACL DELUSER, ACL LOAD), and the subscribers whose user may no
// longer use a channel or pattern they are subscribed to. The caller's own
// connection closes after its reply.
func (c *Client) dropStaleUsers() {
	s := c.srv
	for _, cl := range s.clientList() {
		cl.mu.Lock()
		u := cl.user
		cl.mu.Unlock()
		if !s.users.Current(u) {
			c.killClient(cl)
		}
	}
	for _, cl := range s.pubsub.deniedSubscribers() {
		c.killClient(cl)
	}
}

// deniedSubscribers returns the subscribers whose user may no longer use a
// channel or pattern they are subscribed to.
func (ps *pubsub) deniedSubscribers() []*Client {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	seen := map[*Client]bool{}
	check := func(m map[string]map[*Client]struct{}, allowed func(*acl.Perms, string) bool) {
		for name, subs := range m {
			for cl := range subs {
				cl.mu.Lock()
				p := cl.user.Perms()
				cl.mu.Unlock()
				if !seen[cl] && !allowed(p, name) {
					seen[cl] = true
				}
			}
		}
	}
	check(ps.channels, (*acl.Perms).ChannelAllowed)
	check(ps.patterns, (*acl.Perms).PatternAllowed)
	out := make([]*Client, 0, len(seen))
	for cl := range seen {
		out = append(out, cl)
	}
	return out
}
