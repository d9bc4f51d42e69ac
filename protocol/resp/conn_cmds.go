package resp

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cached/cached/protocol/acl"
)

func connectionCommands() []*command {
	const g = "connection"
	return []*command{
		{name: "ping", arity: -1, flags: flagFast | flagStale, group: g, since: "1.0.0", summary: "Returns the server's liveliness response.", handler: cmdPing},
		{name: "echo", arity: 2, flags: flagFast | flagStale, group: g, since: "1.0.0", summary: "Returns the given string.", handler: cmdEcho},
		{name: "hello", arity: -1, flags: flagFast | flagNoAuth | flagNoScript | flagLoading | flagStale, group: g, since: "6.0.0", summary: "Handshakes with the server.", handler: cmdHello},
		{name: "auth", arity: -2, flags: flagFast | flagNoAuth | flagNoScript | flagLoading | flagStale, group: g, since: "1.0.0", summary: "Authenticates the connection.", handler: cmdAuth},
		{name: "select", arity: 2, flags: flagFast | flagLoading | flagStale, group: g, since: "1.0.0", summary: "Changes the selected database.", handler: cmdSelect},
		{name: "quit", arity: -1, flags: flagFast | flagNoAuth | flagNoScript | flagLoading | flagStale, group: g, since: "1.0.0", summary: "Closes the connection.", handler: cmdQuit},
		{name: "reset", arity: 1, flags: flagFast | flagNoAuth | flagNoScript | flagLoading | flagStale, group: g, since: "6.2.0", summary: "Resets the connection.", handler: cmdReset},
		{name: "client", arity: -2, flags: flagStale, group: g, since: "2.4.0", summary: "A container for client connection commands.", subs: sub(
			&command{name: "client|id", arity: 2, flags: flagFast | flagNoScript | flagLoading | flagStale, group: g, since: "5.0.0", summary: "Returns the unique client ID of the connection.", handler: cmdClientID},
			&command{name: "client|setname", arity: 3, flags: flagFast | flagNoScript | flagLoading | flagStale, group: g, since: "2.6.9", summary: "Sets the connection name.", handler: cmdClientSetName},
			&command{name: "client|getname", arity: 2, flags: flagFast | flagNoScript | flagLoading | flagStale, group: g, since: "2.6.9", summary: "Returns the name of the connection.", handler: cmdClientGetName},
			&command{name: "client|setinfo", arity: 4, flags: flagFast | flagNoScript | flagLoading | flagStale, group: g, since: "7.2.0", summary: "Sets information specific to the client or connection.", handler: cmdClientSetInfo},
			&command{name: "client|info", arity: 2, flags: flagNoScript | flagLoading | flagStale, group: g, since: "6.2.0", summary: "Returns information about the connection.", handler: cmdClientInfo},
			&command{name: "client|list", arity: -2, flags: flagAdmin | flagNoScript | flagLoading | flagStale, group: g, since: "2.4.0", summary: "Lists open connections.", handler: cmdClientList},
			&command{name: "client|kill", arity: -3, flags: flagAdmin | flagNoScript | flagLoading | flagStale, group: g, since: "2.4.0", summary: "Terminates open connections.", handler: cmdClientKill},
			&command{name: "client|no-evict", arity: 3, flags: flagAdmin | flagNoScript | flagLoading | flagStale, group: g, since: "7.0.0", summary: "Sets the client eviction mode of the connection.", handler: cmdClientNoEvict},
			&command{name: "client|tracking", arity: -3, flags: flagNoScript | flagLoading | flagStale, group: g, since: "6.0.0", summary: "Controls server-assisted client-side caching for the connection.", handler: cmdClientTracking},
			&command{name: "client|caching", arity: 3, flags: flagNoScript | flagLoading | flagStale, group: g, since: "6.0.0", summary: "Instructs the server whether to track the keys in the next request.", handler: cmdClientCaching},
			&command{name: "client|getredir", arity: 2, flags: flagNoScript | flagLoading | flagStale, group: g, since: "6.0.0", summary: "Returns the client ID to which the connection's tracking notifications are redirected.", handler: cmdClientGetRedir},
			&command{name: "client|trackinginfo", arity: 2, flags: flagNoScript | flagLoading | flagStale, group: g, since: "6.2.0", summary: "Returns information about server-assisted client-side caching for the connection.", handler: cmdClientTrackingInfo},
			&command{name: "client|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "5.0.0", summary: "Returns helpful text about the different subcommands.", handler: cmdClientHelp},
		)},
	}
}

func cmdPing(c *Client, args [][]byte) {
	if c.subscribedMode() && len(args) <= 2 { // RESP2 subscribed mode: a push-shaped pong
		c.array(2)
		c.bulkString("pong")
		if len(args) == 2 {
			c.bulk(args[1])
		} else {
			c.bulkString("")
		}
		return
	}
	switch len(args) {
	case 1:
		c.simple("PONG")
	case 2:
		c.bulk(args[1])
	default:
		c.wrongArity("ping")
	}
}

func cmdEcho(c *Client, args [][]byte) { c.bulk(args[1]) }

// authenticate makes the connection run as user if pass authenticates it,
// and reports whether it did; a failure goes to the ACL log.
func (c *Client) authenticate(user, pass []byte) bool {
	u, ok := c.srv.users.Authenticate(string(user), string(pass))
	if !ok {
		c.logAuthFailure(string(user))
		return false
	}
	c.setUser(u)
	c.authed = true
	return true
}

func cmdAuth(c *Client, args [][]byte) {
	user, pass := []byte(acl.DefaultUser), args[1]
	switch len(args) {
	case 2:
		if c.srv.users.Default().Perms().NoPass() {
			c.errorReply("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
			return
		}
	case 3:
		user, pass = args[1], args[2]
	default:
		c.errorReply(msgSyntax)
		return
	}
	if !c.authenticate(user, pass) {
		c.errorReply(msgWrongPass)
		return
	}
	c.ok()
}

func cmdHello(c *Client, args [][]byte) {
	proto := int(c.proto.Load())
	if len(args) >= 2 {
		v, err := strconv.Atoi(string(args[1]))
		if err != nil {
			c.errorReply("ERR Protocol version is not an integer or out of range")
			return
		}
		if v != 2 && v != 3 {
			c.errorReply(msgNoProto)
			return
		}
		proto = v
	}
	// Check every option before acting on any, as Redis 7.2 does: a bad
	// option or name must not leave the connection authenticated.
	var name, user, pass []byte
	setName, auth := false, false
	for i := 2; i < len(args); i++ {
		switch {
		case is(args[i], "auth") && i+2 < len(args):
			user, pass, auth = args[i+1], args[i+2], true
			i += 2
		case is(args[i], "setname") && i+1 < len(args):
			name, setName = args[i+1], true
			if !validClientName(name) {
				c.errorReply(msgClientName)
				return
			}
			i++
		default:
			c.errorReply("ERR Syntax error in HELLO option '" + truncate(args[i]) + "'")
			return
		}
	}
	if auth && !c.authenticate(user, pass) {
		c.errorReply(msgWrongPass)
		return
	}
	if !c.authed {
		c.errorReply("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if setName {
		c.mu.Lock()
		c.name = string(name)
		c.mu.Unlock()
	}
	c.proto.Store(int32(proto))
	c.mapHeader(7)
	c.bulkString("server")
	c.bulkString("redis")
	c.bulkString("version")
	c.bulkString(redisVersion)
	c.bulkString("proto")
	c.integer(int64(proto))
	c.bulkString("id")
	c.integer(c.id)
	c.bulkString("mode")
	c.bulkString("standalone")
	c.bulkString("role")
	c.bulkString("master")
	c.bulkString("modules")
	c.array(0)
}

func cmdSelect(c *Client, args [][]byte) {
	n, err := strconv.Atoi(string(args[1]))
	if err != nil {
		c.errorReply(msgNotInteger)
		return
	}
	if n != 0 {
		c.errorReply(msgDBRange)
		return
	}
	c.ok()
}

func cmdQuit(c *Client, _ [][]byte) {
	c.ok()
	c.closing = true
}

func cmdReset(c *Client, _ [][]byte) {
	c.tx = txState{}
	c.srv.pubsub.removeAll(c)
	c.srv.untrack(c)
	c.track = trackState{}
	c.proto.Store(2)
	c.setUser(c.srv.users.Default())
	c.authed = c.srv.users.AnonymousAccess() && !c.srv.protectedAnonymous(c.addr)
	c.mu.Lock()
	c.name = ""
	c.mu.Unlock()
	c.simple("RESET")
}

func cmdClientID(c *Client, _ [][]byte) { c.integer(c.id) }

const msgClientName = "ERR Client names cannot contain spaces, newlines or special characters."

// validClientName reports whether name has only printable ASCII and no spaces.
func validClientName(name []byte) bool {
	for _, b := range name {
		if b < '!' || b > '~' {
			return false
		}
	}
	return true
}

func cmdClientSetName(c *Client, args [][]byte) {
	if !validClientName(args[2]) {
		c.errorReply(msgClientName)
		return
	}
	c.mu.Lock()
	c.name = string(args[2])
	c.mu.Unlock()
	c.ok()
}

func cmdClientGetName(c *Client, _ [][]byte) {
	c.mu.Lock()
	name := c.name
	c.mu.Unlock()
	if name == "" {
		c.null()
		return
	}
	c.bulkString(name)
}

func cmdClientSetInfo(c *Client, args [][]byte) {
	// As Redis 7.2: the option is checked first, then the value.
	var dst *string
	switch {
	case is(args[2], "lib-name"):
		dst = &c.libName
	case is(args[2], "lib-ver"):
		dst = &c.libVer
	default:
		c.errorReply("ERR Unrecognized option '" + truncate(args[2]) + "'")
		return
	}
	if !validClientName(args[3]) {
		c.errorReply("ERR " + truncate(args[2]) + " cannot contain spaces, newlines or special characters.")
		return
	}
	c.mu.Lock()
	*dst = string(args[3])
	c.mu.Unlock()
	c.ok()
}

func cmdClientInfo(c *Client, _ [][]byte) { c.verbatim(c.info(time.Now()) + "\n") }

func cmdClientList(c *Client, args [][]byte) {
	var ids []int64
	for i := 2; i < len(args); i++ {
		switch {
		case is(args[i], "type") && i+1 < len(args):
			t := strings.ToLower(string(args[i+1]))
			if t != "normal" && t != "master" && t != "replica" && t != "pubsub" {
				c.errorReply("ERR Unknown client type '" + truncate(args[i+1]) + "'")
				return
			}
			if t != "normal" {
				c.verbatim("")
				return
			}
			i++
		case is(args[i], "id") && i+1 < len(args):
			for i++; i < len(args); i++ {
				id, err := strconv.ParseInt(string(args[i]), 10, 64)
				if err != nil || id <= 0 {
					c.errorReply("ERR Invalid client ID")
					return
				}
				ids = append(ids, id)
			}
		default:
			c.errorReply(msgSyntax)
			return
		}
	}
	now := time.Now()
	var b strings.Builder
	for _, cl := range c.srv.clientList() {
		if ids != nil && !slices.Contains(ids, cl.id) {
			continue
		}
		b.WriteString(cl.info(now))
		b.WriteByte('\n')
	}
	c.verbatim(b.String())
}

// cmdClientKill supports the old form (CLIENT KILL addr:port, replying OK
// or an error) and the filter form (ID, ADDR, LADDR, SKIPME, USER, MAXAGE,
// TYPE; replying the number killed).
func cmdClientKill(c *Client, args [][]byte) {
	if len(args) == 3 {
		for _, cl := range c.srv.clientList() {
			if cl.addr == string(args[2]) {
				c.killClient(cl)
				c.ok()
				return
			}
		}
		c.errorReply("ERR No such client")
		return
	}
	if len(args)%2 != 0 {
		c.errorReply(msgSyntax)
		return
	}
	var (
		id          int64
		addr, laddr string
		user        string
		maxAge      int64
		skipMe      = true
		typ         string
	)
	for i := 2; i < len(args); i += 2 {
		v := string(args[i+1])
		switch {
		case is(args[i], "id"):
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				c.errorReply("ERR client-id should be greater than 0")
				return
			}
			id = n
		case is(args[i], "addr"):
			addr = v
		case is(args[i], "laddr"):
			laddr = v
		case is(args[i], "user"):
			user = v
		case is(args[i], "maxage"):
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				c.errorReply(msgNotInteger)
				return
			}
			maxAge = n
		case is(args[i], "type"):
			typ = strings.ToLower(v)
			if typ != "normal" && typ != "master" && typ != "replica" && typ != "pubsub" && typ != "slave" {
				c.errorReply("ERR Unknown client type '" + v + "'")
				return
			}
		case is(args[i], "skipme"):
			switch {
			case is(args[i+1], "yes"):
				skipMe = true
			case is(args[i+1], "no"):
				skipMe = false
			default:
				c.errorReply(msgSyntax)
				return
			}
		default:
			c.errorReply(msgSyntax)
			return
		}
	}
	now := time.Now()
	killed := 0
	for _, cl := range c.srv.clientList() {
		if (id != 0 && cl.id != id) || (addr != "" && cl.addr != addr) ||
			(laddr != "" && cl.laddr != laddr) || (user != "" && user != cl.userName()) ||
			(typ != "" && typ != "normal") ||
			(maxAge != 0 && now.Sub(cl.created) < time.Duration(maxAge)*time.Second) ||
			(skipMe && cl == c) {
			continue
		}
		c.killClient(cl)
		killed++
	}
	c.integer(int64(killed))
}

// killClient closes cl; when cl is the caller, after this reply is flushed.
func (c *Client) killClient(cl *Client) {
	if cl == c {
		c.closing = true
		return
	}
	cl.kill()
}

// cmdClientNoEvict accepts CLIENT NO-EVICT ON|OFF. cached never evicts
// clients to free memory (it has no maxmemory-clients), so every client is
// already exempt and the mode changes nothing.
func cmdClientNoEvict(c *Client, args [][]byte) {
	if !is(args[2], "on") && !is(args[2], "off") {
		c.errorReply(msgSyntax)
		return
	}
	c.ok()
}

func cmdClientHelp(c *Client, _ [][]byte) {
	c.helpReply("CLIENT",
		"ID", "SETNAME <name>", "GETNAME", "SETINFO <LIB-NAME|LIB-VER> <value>", "INFO",
		"LIST [TYPE <normal|master|replica|pubsub>] [ID <id> [<id> ...]]",
		"KILL <ip:port> | <filter> <value> [...] (ID, ADDR, LADDR, USER, TYPE, MAXAGE, SKIPME)",
		"NO-EVICT <ON|OFF>")
}

// helpReply writes a HELP reply: a title line and the given lines.
func (c *Client) helpReply(name string, lines ...string) {
	c.array(len(lines) + 2)
	c.simple(name + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.simple(l)
	}
	c.simple("HELP")
}

// sortClients orders clients by id.
func sortClients(cs []*Client) {
	slices.SortFunc(cs, func(a, b *Client) int { return int(a.id - b.id) })
}
