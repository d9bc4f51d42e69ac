package acl

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCatalog is a small command table.
func testCatalog() *Catalog {
	return NewCatalog([]Command{
		{"get", []string{"read", "string", "fast"}},
		{"set", []string{"write", "string", "slow"}},
		{"flushall", []string{"write", "keyspace", "slow", "dangerous"}},
		{"config", []string{"slow"}},
		{"config|get", []string{"admin", "slow", "dangerous"}},
		{"config|set", []string{"admin", "slow", "dangerous"}},
		{"publish", []string{"pubsub", "fast"}},
	})
}

func TestRules(t *testing.T) {
	cat := testCatalog()
	id := func(name string) int {
		i, ok := cat.ID(name)
		if !ok {
			t.Fatalf("no command %s", name)
		}
		return i
	}
	tests := []struct {
		name    string
		rules   []string
		allowed []string
		denied  []string
		desc    string
		err     error
	}{
		{"new user", nil, nil, []string{"get", "set"}, "off resetchannels -@all", nil},
		{"category", []string{"+@read"}, []string{"get"}, []string{"set"}, "off resetchannels -@all +@read", nil},
		{"all but dangerous", []string{"allcommands", "-@dangerous"}, []string{"get", "set", "config"}, []string{"flushall", "config|get"}, "off resetchannels +@all -@dangerous", nil},
		{"parent allows its subcommands", []string{"+config"}, []string{"config|get", "config|set"}, []string{"get"}, "off resetchannels -@all +config", nil},
		{"one subcommand", []string{"+config|get"}, []string{"config|get"}, []string{"config|set"}, "off resetchannels -@all +config|get", nil},
		{"order matters", []string{"+@all", "-set", "+set", "-get"}, []string{"set"}, []string{"get"}, "off resetchannels +@all -set +set -get", nil},
		{"nocommands resets", []string{"+get", "nocommands"}, nil, []string{"get"}, "off resetchannels -@all", nil},
		{"case-insensitive", []string{"ON", "+GET"}, []string{"get"}, nil, "on resetchannels -@all +get", nil},
		{"reset", []string{"on", ">p", "~*", "&*", "+@all", "reset"}, nil, []string{"get"}, "off resetchannels -@all", nil},
		{"unknown command", []string{"+nosuch"}, nil, nil, "", ErrUnknownCommand},
		{"unknown subcommand", []string{"+config|nosuch"}, nil, nil, "", ErrUnknownCommand},
		{"unknown category", []string{"-@nosuch"}, nil, nil, "", ErrUnknownCommand},
		{"bad rule", []string{"on", "whatever"}, nil, nil, "", ErrSyntax},
		{"bad key flags", []string{"%X~a"}, nil, nil, "", ErrSyntax},
		{"selectors", []string{"(+get ~a)"}, nil, nil, "", ErrSelectors},
		{"key after allkeys", []string{"allkeys", "~a"}, nil, nil, "", ErrKeyAfterAll},
		{"channel after allchannels", []string{"allchannels", "&a"}, nil, nil, "", ErrChanAfterAll},
		{"keys", []string{"~a:*", "%R~b:*", "%W~c:*", "%RW~d:*"}, nil, nil, "off ~a:* %R~b:* %W~c:* ~d:* resetchannels -@all", nil},
		{"star is allkeys", []string{"~*", "&*"}, nil, nil, "off ~* &* -@all", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users := NewUsers(cat)
			err := users.SetUser("u", tt.rules)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				if users.Get("u") != nil {
					t.Fatal("a failed SETUSER created the user")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := users.Get("u").Perms()
			for _, c := range tt.allowed {
				if !p.CommandAllowed(id(c)) {
					t.Errorf("%s denied", c)
				}
			}
			for _, c := range tt.denied {
				if p.CommandAllowed(id(c)) {
					t.Errorf("%s allowed", c)
				}
			}
			if got := p.description(); got != tt.desc {
				t.Errorf("description %q, want %q", got, tt.desc)
			}
			// The description rebuilds the same user.
			again := NewUsers(cat)
			if err := again.SetUser("u", strings.Fields(p.description())); err != nil {
				t.Fatal(err)
			}
			if q := again.Get("u").Perms(); q.description() != p.description() || !equalBits(p.commands, q.commands, cat.Len()) {
				t.Errorf("rebuilt from %q: %q", p.description(), q.description())
			}
		})
	}
}

func equalBits(a, b []uint64, n int) bool {
	for i := range n {
		if (a[i/64]>>(i%64))&1 != (b[i/64]>>(i%64))&1 {
			return false
		}
	}
	return true
}

func TestPasswords(t *testing.T) {
	users := NewUsers(testCatalog())
	if err := users.SetUser("u", []string{"on", ">one", ">two", "#" + hashPassword("three")}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		user, pass string
		ok         bool
	}{
		{"u", "one", true}, {"u", "two", true}, {"u", "three", true}, {"u", "four", false},
		{"nobody", "one", false}, {"default", "anything", true},
	} {
		if _, ok := users.Authenticate(tt.user, tt.pass); ok != tt.ok {
			t.Errorf("Authenticate(%q, %q) = %v", tt.user, tt.pass, ok)
		}
	}
	for _, p := range users.Get("u").Perms().passwords {
		if strings.Contains(p, "one") || len(p) != 64 {
			t.Errorf("stored password %q is not a SHA-256 hash", p)
		}
	}
	if err := users.SetUser("u", []string{"<one", "!" + hashPassword("two")}); err != nil {
		t.Fatal(err)
	}
	if _, ok := users.Authenticate("u", "one"); ok {
		t.Error("removed password still works")
	}
	if err := users.SetUser("u", []string{"off"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := users.Authenticate("u", "three"); ok {
		t.Error("a disabled user authenticated")
	}
	users.SetDefaultPassword("root")
	if _, ok := users.Authenticate("default", "x"); ok || users.AnonymousAccess() {
		t.Error("default user still open after SetDefaultPassword")
	}
	users.SetDefaultPassword("")
	if !users.AnonymousAccess() {
		t.Error("default user not open after SetDefaultPassword(\"\")")
	}
}

func TestKeysAndChannels(t *testing.T) {
	users := NewUsers(testCatalog())
	if err := users.SetUser("u", []string{"~rw:*", "%R~r:*", "%W~w:*", "&news.*", "&exact"}); err != nil {
		t.Fatal(err)
	}
	p := users.Get("u").Perms()
	for _, tt := range []struct {
		key         string
		read, write bool
		ok          bool
	}{
		{"rw:1", true, true, true}, {"r:1", true, false, true}, {"r:1", false, true, false},
		{"w:1", false, true, true}, {"w:1", true, false, false}, {"w:1", true, true, false},
		{"x", true, false, false},
	} {
		if got := p.KeyAllowed(tt.key, tt.read, tt.write); got != tt.ok {
			t.Errorf("KeyAllowed(%q, read %v, write %v) = %v", tt.key, tt.read, tt.write, got)
		}
	}
	for ch, ok := range map[string]bool{"news.eu": true, "exact": true, "sports": false} {
		if p.ChannelAllowed(ch) != ok {
			t.Errorf("ChannelAllowed(%q) != %v", ch, ok)
		}
	}
	for pat, ok := range map[string]bool{"news.*": true, "news.e*": false, "*": false} {
		if p.PatternAllowed(pat) != ok {
			t.Errorf("PatternAllowed(%q) != %v", pat, ok)
		}
	}
	if !users.Default().Perms().Unrestricted() || p.Unrestricted() {
		t.Error("Unrestricted wrong")
	}
}

func TestFile(t *testing.T) {
	cat := testCatalog()
	dir := t.TempDir()
	path := filepath.Join(dir, "users.acl")
	users := NewUsers(cat)
	users.SetDefaultPassword("root")
	if err := users.SetUser("app", []string{"on", ">pw", "~app:*", "&*", "+get"}); err != nil {
		t.Fatal(err)
	}
	if err := users.Save(path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("saved file: %v, %v", fi, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	loaded := NewUsers(cat)
	app := loaded.Get("default")
	if err := loaded.Load(path); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(loaded.List(), "\n"), strings.Join(users.List(), "\n"); got != want {
		t.Errorf("loaded:\n%s\nwant:\n%s", got, want)
	}
	if loaded.Get("default") != app {
		t.Error("ACL LOAD replaced the default user's object: its connections would not follow")
	}
	for name, content := range map[string]string{
		"bad rule":  "user app on +nosuch\n",
		"duplicate": "user app on\nuser app off\n",
		"no user":   "app on\n",
	} {
		os.WriteFile(path, []byte(content), 0o600)
		if err := loaded.Load(path); err == nil || !strings.Contains(err.Error(), "users.acl:") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if loaded.Get("app") == nil {
		t.Error("a failed load changed the users")
	}
	os.WriteFile(path, []byte("# only app\nuser other on nopass\n"), 0o600)
	if err := loaded.Load(path); err != nil {
		t.Fatal(err)
	}
	if loaded.Get("app") != nil || loaded.Get("other") == nil || loaded.AnonymousAccess() {
		t.Errorf("after loading a file without app or default: %v", loaded.List())
	}
}

func TestLog(t *testing.T) {
	l := NewLog(2)
	now := time.Unix(1000, 0)
	e := LogEntry{Reason: "command", Context: "toplevel", Object: "get", Username: "u"}
	l.Add(e, now)
	l.Add(e, now.Add(time.Second))
	if got := l.Entries(10); len(got) != 1 || got[0].Count != 2 {
		t.Fatalf("grouped entries = %+v", got)
	}
	l.Add(e, now.Add(2*time.Minute)) // too late to group
	e.Object = "set"
	l.Add(e, now.Add(2*time.Minute))
	got := l.Entries(10)
	if len(got) != 2 || got[0].Object != "set" || got[1].Count != 1 {
		t.Fatalf("entries = %+v", got)
	}
	if len(l.Entries(1)) != 1 {
		t.Error("Entries(1) not bounded")
	}
	l.Reset()
	if len(l.Entries(10)) != 0 {
		t.Error("Reset left entries")
	}
}
