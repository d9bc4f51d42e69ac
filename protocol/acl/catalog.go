// Package acl holds the users of a cache node and what each may do, in
// Redis's ACL model: users with hashed passwords, command permissions by
// command, subcommand and category, key patterns with read/write flags, and
// pub/sub channel patterns. It parses and prints the ACL rule syntax (ACL
// SETUSER, the aclfile) and checks permissions; the front ends
// (protocol/resp, protocol/grpc, the admin server) decide when to ask.
package acl

import (
	"slices"
	"strings"
)

// Command describes one command to a Catalog.
type Command struct {
	// Name is the lower-case name; "parent|sub" for a subcommand.
	Name string
	// Categories are the command's ACL categories, without '@'.
	Categories []string
}

// Categories are Redis's ACL categories. Every one is accepted in rules
// and listed by ACL CAT, even those no cached command belongs to.
var Categories = []string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
	"bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
	"blocking", "dangerous", "connection", "transaction", "scripting",
}

// Catalog numbers the commands a server knows, so that a user's command
// permissions are a bitmap indexed by command id. It is immutable.
type Catalog struct {
	names    []string         // by id
	ids      map[string]int   // name → id
	family   map[string][]int // parent name → ids of the parent and its subcommands
	category map[string][]int // category → ids
}

// NewCatalog numbers cmds in the order given.
func NewCatalog(cmds []Command) *Catalog {
	c := &Catalog{ids: make(map[string]int, len(cmds)), family: map[string][]int{}, category: map[string][]int{}}
	for _, cat := range Categories {
		c.category[cat] = nil
	}
	for id, cmd := range cmds {
		c.names = append(c.names, cmd.Name)
		c.ids[cmd.Name] = id
		parent, _, _ := strings.Cut(cmd.Name, "|")
		c.family[parent] = append(c.family[parent], id)
		for _, cat := range cmd.Categories {
			c.category[cat] = append(c.category[cat], id)
		}
	}
	return c
}

// ID returns the id of the command named name ("parent|sub" for a
// subcommand), lower case.
func (c *Catalog) ID(name string) (int, bool) {
	id, ok := c.ids[name]
	return id, ok
}

// Len returns the number of commands.
func (c *Catalog) Len() int { return len(c.names) }

// CategoryCommands returns the names of the commands in category cat,
// sorted, and whether the category exists.
func (c *Catalog) CategoryCommands(cat string) ([]string, bool) {
	ids, ok := c.category[cat]
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, c.names[id])
	}
	slices.Sort(out)
	return out, true
}
