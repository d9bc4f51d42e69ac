package acl

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/cached/cached/node/glob"
)

// Perms is one version of a user's definition. It is immutable once
// published: changing a user publishes a new Perms, which connections
// authenticated as the user see from their next command.
type Perms struct {
	unrestricted bool // every command, key and channel: the checks are skipped

	enabled   bool
	nopass    bool
	passwords []string // hex SHA-256 of each password, in the order added

	commands []uint64 // bitmap by Catalog id
	cmdRules []string // the command rules that produced commands, for ACL LIST

	allKeys     bool
	keys        []KeyPattern
	allChannels bool
	channels    []string
}

// KeyPattern is a key glob pattern and the access it grants.
type KeyPattern struct {
	Pattern     string
	Read, Write bool
}

// Unrestricted reports whether the user may run every command on every key
// and channel, so that a front end can skip all other checks.
func (p *Perms) Unrestricted() bool { return p.unrestricted }

// Enabled reports whether the user may authenticate ("on").
func (p *Perms) Enabled() bool { return p.enabled }

// NoPass reports whether any password authenticates the user.
func (p *Perms) NoPass() bool { return p.nopass }

// HasPassword reports whether the user has at least one password.
func (p *Perms) HasPassword() bool { return len(p.passwords) > 0 }

// CommandAllowed reports whether the command with Catalog id id may run.
func (p *Perms) CommandAllowed(id int) bool {
	return id >= 0 && id/64 < len(p.commands) && p.commands[id/64]&(1<<(id%64)) != 0
}

// CategoryAllowed reports whether p allows every command of category cat.
func (p *Perms) CategoryAllowed(cat *Catalog, category string) bool {
	ids, ok := cat.category[category]
	if !ok {
		return false
	}
	for _, id := range ids {
		if !p.CommandAllowed(id) {
			return false
		}
	}
	return true
}

// AllKeys reports whether every key is accessible for reading and writing.
func (p *Perms) AllKeys() bool { return p.allKeys }

// KeyAllowed reports whether key may be read (read set) and written (write
// set): some pattern granting each access must match it.
func (p *Perms) KeyAllowed(key string, read, write bool) bool {
	if p.allKeys {
		return true
	}
	canRead, canWrite := !read, !write
	for _, k := range p.keys {
		if (k.Read && !canRead || k.Write && !canWrite) && glob.Match(k.Pattern, key) {
			canRead = canRead || k.Read
			canWrite = canWrite || k.Write
			if canRead && canWrite {
				return true
			}
		}
	}
	return canRead && canWrite
}

// AllChannels reports whether every pub/sub channel is accessible.
func (p *Perms) AllChannels() bool { return p.allChannels }

// ChannelAllowed reports whether channel may be published to or
// subscribed to: one of the user's channel patterns matches it.
func (p *Perms) ChannelAllowed(channel string) bool {
	if p.allChannels {
		return true
	}
	for _, c := range p.channels {
		if glob.Match(c, channel) {
			return true
		}
	}
	return false
}

// PatternAllowed reports whether PSUBSCRIBE pattern is allowed: as in
// Redis, the pattern must be one of the user's channel patterns literally.
func (p *Perms) PatternAllowed(pattern string) bool {
	return p.allChannels || slices.Contains(p.channels, pattern)
}

// checkPassword reports whether pass authenticates the user.
func (p *Perms) checkPassword(pass string) bool {
	if p.nopass {
		return true
	}
	h := hashPassword(pass)
	ok := false
	for _, want := range p.passwords {
		// Comparing hashes: the time taken tells nothing of the password.
		ok = ok || want == h
	}
	return ok
}

// hashPassword returns the hex SHA-256 of pass, as Redis stores passwords.
func hashPassword(pass string) string {
	sum := sha256.Sum256([]byte(pass))
	return hex.EncodeToString(sum[:])
}

// clone returns a copy of p that rules may change.
func (p *Perms) clone() *Perms {
	q := *p
	q.passwords = slices.Clone(p.passwords)
	q.commands = slices.Clone(p.commands)
	q.cmdRules = slices.Clone(p.cmdRules)
	q.keys = slices.Clone(p.keys)
	q.channels = slices.Clone(p.channels)
	return &q
}

// newPerms returns a new user's definition: off, no passwords, no
// commands, keys or channels (Redis's acl-pubsub-default resetchannels).
func newPerms(cat *Catalog) *Perms {
	return &Perms{commands: make([]uint64, (cat.Len()+63)/64), cmdRules: []string{"-@all"}}
}

// finish computes the derived fields once the rules are applied.
func (p *Perms) finish(cat *Catalog) {
	all := true
	for id := range cat.Len() {
		all = all && p.CommandAllowed(id)
	}
	p.unrestricted = all && p.allKeys && p.allChannels
}

// description returns the user's rules in ACL LIST's form, flags first:
// applied to a new user, they give the same definition.
func (p *Perms) description() string {
	var parts []string
	if p.enabled {
		parts = append(parts, "on")
	} else {
		parts = append(parts, "off")
	}
	if p.nopass {
		parts = append(parts, "nopass")
	}
	for _, h := range p.passwords {
		parts = append(parts, "#"+h)
	}
	if k := p.keysDescription(); k != "" {
		parts = append(parts, k)
	}
	parts = append(parts, p.channelsDescription(), p.commandsDescription())
	return strings.Join(parts, " ")
}

// keysDescription returns the key patterns as rules ("" for none).
func (p *Perms) keysDescription() string {
	if p.allKeys {
		return "~*"
	}
	parts := make([]string, 0, len(p.keys))
	for _, k := range p.keys {
		switch {
		case k.Read && k.Write:
			parts = append(parts, "~"+k.Pattern)
		case k.Read:
			parts = append(parts, "%R~"+k.Pattern)
		default:
			parts = append(parts, "%W~"+k.Pattern)
		}
	}
	return strings.Join(parts, " ")
}

// channelsDescription returns the channel patterns as rules.
func (p *Perms) channelsDescription() string {
	if p.allChannels {
		return "&*"
	}
	parts := []string{"resetchannels"}
	for _, c := range p.channels {
		parts = append(parts, "&"+c)
	}
	return strings.Join(parts, " ")
}

// commandsDescription returns the command rules as applied since the last
// +@all or -@all.
func (p *Perms) commandsDescription() string { return strings.Join(p.cmdRules, " ") }
