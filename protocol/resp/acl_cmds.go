package resp

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/cached/cached/protocol/acl"
)

// ACL commands. Users are per node, as in Redis: ACL SETUSER changes only
// the node it runs on; an aclfile loaded on every node keeps them alike.

func aclCommands() []*command {
	const g = "server"
	f := flagNoScript | flagLoading | flagStale
	return []*command{
		{name: "acl", arity: -2, group: g, since: "6.0.0", summary: "A container for Access List Control commands.", subs: sub(
			&command{name: "acl|cat", arity: -2, flags: f, group: g, since: "6.0.0", summary: "Lists the ACL categories, or the commands inside a category.", handler: cmdACLCat},
			&command{name: "acl|deluser", arity: -3, flags: flagAdmin | f, group: g, since: "6.0.0", summary: "Deletes ACL users, and terminates their connections.", handler: cmdACLDelUser},
			&command{name: "acl|dryrun", arity: -4, flags: flagAdmin | f, group: g, since: "7.0.0", summary: "Simulates the execution of a command by a user, without executing the command.", handler: cmdACLDryRun},
			&command{name: "acl|genpass", arity: -2, flags: f, group: g, since: "6.0.0", summary: "Generates a pseudorandom, secure password that can be used to identify ACL users.", handler: cmdACLGenPass},
			&command{name: "acl|getuser", arity: 3, flags: flagAdmin | f, group: g, since: "6.0.0", summary: "Lists the ACL rules of a user.", handler: cmdACLGetUser},
			&command{name: "acl|list", arity: 2, flags: flagAdmin | f, group: g, since: "6.0.0", summary: "Dumps the effective rules in ACL file format.", handler: cmdACLList},
			&command{name: "acl|load", arity: 2, flags: flagAdmin | f, group: g, since: "6.0.0", summary: "Reloads the rules from the configured ACL file.", handler: cmdACLLoad},
			&command{name: "acl|log", arity: -2, flags: flagAdmin | f, group: g, since: "6.0.0", summary: "Lists recent security events generated due to commands rejected by ACL rules.", handler: cmdACLLog},
			&command{name: "acl|save", arity: 2, flags: flagAdmin | f, group: g, since: "6.0.0", summary: "Saves the effective ACL rules in the configured ACL file.", handler: cmdACLSave},
			&command{name: "acl|setuser", arity: -3, flags: flagAdmin | f, group: g, since: "6.0.0", summary: "Creates and modifies an ACL user and its rules.", handler: cmdACLSetUser},
			&command{name: "acl|users", arity: 2, flags: flagAdmin | f, group: g, since: "6.0.0", summary: "Lists all ACL users.", handler: cmdACLUsers},
			&command{name: "acl|whoami", arity: 2, flags: f, group: g, since: "6.0.0", summary: "Returns the authenticated username of the current connection.", handler: cmdACLWhoAmI},
			&command{name: "acl|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "6.0.0", summary: "Returns helpful text about the different subcommands.", handler: cmdACLHelp},
		)},
	}
}

func cmdACLCat(c *Client, args [][]byte) {
	if len(args) == 2 {
		c.stringArray(acl.Categories)
		return
	}
	if len(args) > 3 {
		c.wrongArity("acl|cat")
		return
	}
	names, ok := aclCatalog.CategoryCommands(strings.ToLower(string(args[2])))
	if !ok {
		c.errorReply("ERR Unknown category '" + truncate(args[2]) + "'")
		return
	}
	c.stringArray(names)
}

func cmdACLSetUser(c *Client, args [][]byte) {
	name := string(args[2])
	if strings.ContainsAny(name, " \t\r\n\x00") {
		c.errorReply("ERR Usernames can't contain spaces or null characters")
		return
	}
	rules := make([]string, 0, len(args)-3)
	for _, a := range args[3:] {
		rules = append(rules, string(a))
	}
	if err := c.srv.users.SetUser(name, rules); err != nil {
		c.errorReply("ERR " + err.Error())
		return
	}
	c.dropStaleUsers()
	c.ok()
}

func cmdACLDelUser(c *Client, args [][]byte) {
	names := make([]string, 0, len(args)-2)
	for _, a := range args[2:] {
		names = append(names, string(a))
	}
	n, err := c.srv.users.DelUser(names...)
	if err != nil {
		c.errorReply("ERR " + err.Error())
		return
	}
	c.dropStaleUsers()
	c.integer(int64(n))
}

func cmdACLGetUser(c *Client, args [][]byte) {
	u := c.srv.users.Get(string(args[2]))
	if u == nil {
		c.null()
		return
	}
	d := u.Describe()
	c.mapHeader(6)
	c.bulkString("flags")
	c.stringArray(d.Flags)
	c.bulkString("passwords")
	c.stringArray(d.Passwords)
	c.bulkString("commands")
	c.bulkString(d.Commands)
	c.bulkString("keys")
	c.bulkString(d.Keys)
	c.bulkString("channels")
	c.bulkString(d.Channels)
	c.bulkString("selectors")
	c.array(0)
}

func cmdACLList(c *Client, _ [][]byte) {
	lines := c.srv.users.List()
	c.array(len(lines))
	for _, l := range lines {
		c.bulkString(l)
	}
}

func cmdACLUsers(c *Client, _ [][]byte) {
	names := c.srv.users.Names()
	c.array(len(names))
	for _, n := range names {
		c.bulkString(n)
	}
}

func cmdACLWhoAmI(c *Client, _ [][]byte) { c.bulkString(c.user.Name()) }

func cmdACLLoad(c *Client, _ [][]byte) {
	if c.srv.aclFile == "" {
		c.errorReply("ERR " + acl.ErrFileNotSet.Error())
		return
	}
	if err := c.srv.users.Load(c.srv.aclFile); err != nil {
		c.errorReply("ERR " + err.Error())
		return
	}
	c.dropStaleUsers()
	c.ok()
}

func cmdACLSave(c *Client, _ [][]byte) {
	if c.srv.aclFile == "" {
		c.errorReply("ERR " + acl.ErrFileNotSet.Error())
		return
	}
	if err := c.srv.users.Save(c.srv.aclFile); err != nil {
		c.srv.logger.Warn("ACL SAVE failed", "file", c.srv.aclFile, "err", err)
		c.errorReply("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
		return
	}
	c.ok()
}

// maxGenPassBits bounds ACL GENPASS, as Redis does.
const maxGenPassBits = 4096

func cmdACLGenPass(c *Client, args [][]byte) {
	bits := 256
	if len(args) > 3 {
		c.wrongArity("acl|genpass")
		return
	}
	if len(args) == 3 {
		n, err := strconv.Atoi(string(args[2]))
		if err != nil || n <= 0 || n > maxGenPassBits {
			c.errorReply("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
			return
		}
		bits = n
	}
	chars := (bits + 3) / 4
	b := make([]byte, (chars+1)/2)
	rand.Read(b) // never fails (crypto/rand)
	c.bulkString(hex.EncodeToString(b)[:chars])
}

func cmdACLLog(c *Client, args [][]byte) {
	count := 10
	if len(args) > 3 {
		c.wrongArity("acl|log")
		return
	}
	if len(args) == 3 {
		if is(args[2], "reset") {
			c.srv.aclLog.Reset()
			c.ok()
			return
		}
		n, err := strconv.ParseInt(string(args[2]), 10, 64)
		if err != nil {
			c.errorReply(msgNotInteger)
			return
		}
		if n < 0 {
			c.errorReply("ERR value is out of range, must be positive")
			return
		}
		count = int(min(n, 1<<20))
	}
	now := time.Now()
	entries := c.srv.aclLog.Entries(count)
	c.array(len(entries))
	for _, e := range entries {
		c.mapHeader(10)
		c.bulkString("count")
		c.integer(e.Count)
		c.bulkString("reason")
		c.bulkString(e.Reason)
		c.bulkString("context")
		c.bulkString(e.Context)
		c.bulkString("object")
		c.bulkString(e.Object)
		c.bulkString("username")
		c.bulkString(e.Username)
		c.bulkString("age-seconds")
		c.double(float64(now.Sub(e.Created).Milliseconds()) / 1000)
		c.bulkString("client-info")
		c.bulkString(e.ClientInfo)
		c.bulkString("entry-id")
		c.integer(e.ID)
		c.bulkString("timestamp-created")
		c.integer(e.Created.UnixMilli())
		c.bulkString("timestamp-last-updated")
		c.integer(e.Updated.UnixMilli())
	}
}

// cmdACLDryRun reports whether a user could run a command, without
// running it: OK, or why not.
func cmdACLDryRun(c *Client, args [][]byte) {
	u := c.srv.users.Get(string(args[2]))
	if u == nil {
		c.errorReply("ERR User '" + truncate(args[2]) + "' not found")
		return
	}
	cmdArgs := args[3:]
	cmd := c.lookup(table, cmdArgs[0])
	if cmd != nil && cmd.subs != nil && len(cmdArgs) > 1 {
		cmd = c.lookup(cmd.subs, cmdArgs[1])
	}
	if cmd == nil {
		c.errorReply("ERR Command '" + truncate(cmdArgs[0]) + "' not found")
		return
	}
	if !cmd.arityOK(len(cmdArgs)) {
		c.errorReply(arityMessage(cmd.name))
		return
	}
	reason, object := denial(u.Perms(), cmd, cmdArgs)
	switch reason {
	case "":
		c.ok()
	case deniedCommand:
		c.bulkString("User " + u.Name() + " has no permissions to run the '" + cmd.name + "' command")
	default:
		c.bulkString("User " + u.Name() + " has no permissions to access the '" + object + "' " + reason)
	}
}

func cmdACLHelp(c *Client, _ [][]byte) {
	c.helpReply("ACL",
		"CAT [<category>]", "DELUSER <username> [<username> ...]",
		"DRYRUN <username> <command> [<arg> ...]", "GETUSER <username>", "LIST",
		"USERS", "SETUSER <username> <attribs> ...", "LOAD", "SAVE",
		"WHOAMI", "LOG [<count> | RESET]", "GENPASS [<bits>]")
}
