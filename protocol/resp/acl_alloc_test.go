package resp

import (
	"testing"
)

// TestACLCheckAllocs checks what the permission check costs per command in
// allocations: nothing for the default user with every permission (the
// common case: one pointer load and a flag), nothing for a user restricted
// by command only (a bitmap test), and a bounded amount for a user with key
// patterns (the key positions).
func TestACLCheckAllocs(t *testing.T) {
	ts := startServer(t, nil)
	for _, rules := range [][]string{
		{"cmdonly", "on", "nopass", "~*", "&*", "+@all", "-@dangerous"},
		{"keys", "on", "nopass", "~k*", "&*", "+@all"},
	} {
		if err := ts.srv.users.SetUser(rules[0], rules[1:]); err != nil {
			t.Fatal(err)
		}
	}
	c := ts.srv.newClient("test", "test")
	c.execLock = &ts.srv.execLocks[len(ts.srv.execLocks)-1]
	c.execute([][]byte{[]byte("SET"), []byte("k"), []byte("v")})
	get := [][]byte{[]byte("GET"), []byte("k")}
	tests := []struct {
		user string
		max  float64
	}{
		{"default", 0},
		{"cmdonly", 0},
		{"keys", 2},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			c.user = ts.srv.users.Get(tt.user)
			c.out = c.out[:0]
			c.execute(get)
			if string(c.out) != "$1\r\nv\r\n" {
				t.Fatalf("GET as %s = %q", tt.user, c.out)
			}
			allocs := testing.AllocsPerRun(200, func() {
				c.out = c.out[:0]
				c.execute(get)
			})
			t.Logf("GET as %s: %.1f allocations", tt.user, allocs)
			if allocs > tt.max {
				t.Errorf("GET as %s: %.1f allocations per command, want at most %.0f", tt.user, allocs, tt.max)
			}
		})
	}
}
