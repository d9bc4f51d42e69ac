package acl

import (
	"errors"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// DefaultUser is the name of the user connections start as.
const DefaultUser = "default"

// ErrDeleteDefault is returned when deleting the default user.
var ErrDeleteDefault = errors.New("The 'default' user cannot be removed")

// User is an identity connections authenticate as. A User stays the same
// object while its name is defined, so connections follow changes to its
// rules; deleting the name drops the object (its connections are to be
// closed by the front end, see Users.Current).
type User struct {
	name  string
	perms atomic.Pointer[Perms]
}

// Name returns the user's name.
func (u *User) Name() string { return u.name }

// Perms returns the user's current definition. It is safe to call from any
// goroutine and costs one atomic load.
func (u *User) Perms() *Perms { return u.perms.Load() }

// Users is a node's set of users. Its methods are safe for concurrent use.
// Changes are local to the node, as in Redis: keep nodes alike with the
// same aclfile (or requirepass) on every node.
type Users struct {
	catalog  *Catalog
	internal *User // unrestricted, never listed: other nodes' peer links

	mu    sync.Mutex // guards users; held while a change is applied
	users map[string]*User
}

// NewUsers returns the set holding only the default user, which is on,
// has no password, and may run every command on every key and channel
// (Redis's default).
func NewUsers(cat *Catalog) *Users {
	r := &Users{catalog: cat, users: map[string]*User{}}
	r.users[DefaultUser] = r.newUser(DefaultUser, defaultRules)
	r.internal = r.newUser("(internal)", defaultRules)
	return r
}

// defaultRules define a fresh default user.
var defaultRules = []string{"on", "nopass", "~*", "&*", "+@all"}

// newUser builds a user from rules known to be valid.
func (r *Users) newUser(name string, rules []string) *User {
	p, err := r.build(newPerms(r.catalog), rules)
	if err != nil {
		panic("acl: invalid built-in rules: " + err.Error())
	}
	u := &User{name: name}
	u.perms.Store(p)
	return u
}

// build applies rules to a clone of base, all or nothing.
func (r *Users) build(base *Perms, rules []string) (*Perms, error) {
	p := base.clone()
	for _, rule := range rules {
		if err := p.apply(r.catalog, rule); err != nil {
			return nil, &RuleError{Rule: rule, Err: err}
		}
	}
	p.finish(r.catalog)
	return p, nil
}

// Catalog returns the commands the users' rules name.
func (r *Users) Catalog() *Catalog { return r.catalog }

// Internal returns the unrestricted identity of other cluster nodes. It is
// not a listed user and nobody can authenticate as it.
func (r *Users) Internal() *User { return r.internal }

// Default returns the default user.
func (r *Users) Default() *User {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.users[DefaultUser]
}

// Get returns the user called name, or nil.
func (r *Users) Get(name string) *User {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.users[name]
}

// Current reports whether u is still a defined user (not deleted or
// replaced by ACL LOAD); the internal user always is.
func (r *Users) Current(u *User) bool {
	if u == r.internal {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.users[u.name] == u
}

// Authenticate returns the user called name if it is enabled and pass is
// one of its passwords (any password for a nopass user).
func (r *Users) Authenticate(name, pass string) (*User, bool) {
	u := r.Get(name)
	if u == nil {
		hashPassword(pass) // as long as for a user that exists
		return nil, false
	}
	p := u.Perms()
	if !p.checkPassword(pass) || !p.enabled {
		return nil, false
	}
	return u, true
}

// SetUser creates the user called name, or changes it, by applying rules
// in order: either all apply or none (the error is a *RuleError).
func (r *Users) SetUser(name string, rules []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := r.users[name]
	base := newPerms(r.catalog)
	if u != nil {
		base = u.Perms()
	}
	p, err := r.build(base, rules)
	if err != nil {
		return err
	}
	if u == nil {
		u = &User{name: name}
		r.users[name] = u
	}
	u.perms.Store(p)
	return nil
}

// SetDefaultPassword makes pass the default user's only password, as
// requirepass does; an empty pass makes it nopass.
func (r *Users) SetDefaultPassword(pass string) {
	rules := []string{"resetpass", ">" + pass}
	if pass == "" {
		rules = []string{"nopass"}
	}
	if err := r.SetUser(DefaultUser, rules); err != nil {
		panic("acl: " + err.Error()) // these rules cannot fail
	}
}

// DelUser deletes the named users and returns how many existed. The
// default user cannot be deleted; then nothing is.
func (r *Users) DelUser(names ...string) (int, error) {
	if slices.Contains(names, DefaultUser) {
		return 0, ErrDeleteDefault
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, name := range names {
		if _, ok := r.users[name]; ok {
			delete(r.users, name)
			n++
		}
	}
	return n, nil
}

// Names returns the users' names, sorted.
func (r *Users) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.users))
	for name := range r.users {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// List returns each user as an ACL LIST line, "user <name> <rules>",
// sorted by name; the lines are also the aclfile's format.
func (r *Users) List() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.users))
	for name := range r.users {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, name := range names {
		out = append(out, "user "+name+" "+r.users[name].Perms().description())
	}
	return out
}

// AnonymousAccess reports whether a client that never authenticates may
// run commands: the default user is on and needs no password.
func (r *Users) AnonymousAccess() bool {
	p := r.Default().Perms()
	return p.enabled && p.nopass
}

// replace swaps in a whole new set of user definitions (ACL LOAD). Users
// that stay keep their User object, so their connections follow the new
// rules; the others are dropped. A set without a default user keeps the
// current one.
func (r *Users) replace(defs map[string]*Perms) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := defs[DefaultUser]; !ok {
		defs[DefaultUser] = r.users[DefaultUser].Perms()
	}
	for name := range r.users {
		if _, ok := defs[name]; !ok {
			delete(r.users, name)
		}
	}
	for name, p := range defs {
		u := r.users[name]
		if u == nil {
			u = &User{name: name}
			r.users[name] = u
		}
		u.perms.Store(p)
	}
}

// Describe returns the parts of u's definition ACL GETUSER reports.
func (u *User) Describe() Description {
	p := u.Perms()
	d := Description{Passwords: slices.Clone(p.passwords), Commands: p.commandsDescription(),
		Keys: p.keysDescription(), Channels: p.channelsDescription()}
	if p.enabled {
		d.Flags = append(d.Flags, "on")
	} else {
		d.Flags = append(d.Flags, "off")
	}
	if p.nopass {
		d.Flags = append(d.Flags, "nopass")
	}
	if d.Channels == "resetchannels" {
		d.Channels = ""
	} else if !p.allChannels {
		d.Channels = d.Channels[len("resetchannels "):]
	}
	return d
}

// Description is a user's definition in ACL GETUSER's parts.
type Description struct {
	Flags     []string // on or off, and nopass
	Passwords []string // hex SHA-256 hashes
	Commands  string   // command rules, e.g. "-@all +get"
	Keys      string   // key patterns, e.g. "~user:* %R~pub:*"
	Channels  string   // channel patterns, e.g. "&news"
}
