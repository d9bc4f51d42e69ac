package node

import (
	"slices"
	"strings"
	"testing"

	"github.com/cached/cached/node/store"
	"github.com/cached/cached/ring"
)

func members(names ...string) []Member {
	out := make([]Member, len(names))
	for i, n := range names {
		out[i] = Member{Name: n, ID: memberID(n), RESP: n + ":6379", Peer: n + ":16379", Boot: "1"}
	}
	return out
}

func testView(t *testing.T, self string, names []string, replicas int) *View {
	t.Helper()
	cfg := ring.DefaultConfig()
	cfg.Replicas = replicas
	all := members(names...)
	i := slices.IndexFunc(all, func(m Member) bool { return m.Name == self })
	v, err := newView(all[i], all, cfg, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestClusterConfigValidate(t *testing.T) {
	ok := DefaultClusterConfig()
	ok.NodeName = "a"
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tt := range []struct {
		name string
		edit func(*ClusterConfig)
		want string
	}{
		{"no name", func(c *ClusterConfig) { c.NodeName = "" }, "node-name"},
		{"replicas", func(c *ClusterConfig) { c.Replicas = 0 }, "replicas"},
		{"min members", func(c *ClusterConfig) { c.MinMembers = 0 }, "min-members"},
		{"profile", func(c *ClusterConfig) { c.Profile = "wan" }, "profile"},
		{"gossip addr", func(c *ClusterConfig) { c.GossipAddr = "nope" }, "gossip address"},
		{"gossip port", func(c *ClusterConfig) { c.GossipAddr = "127.0.0.1:99999" }, "gossip address"},
		{"join", func(c *ClusterConfig) { c.Join = []string{"seed"} }, "join"},
		{"rejoin", func(c *ClusterConfig) { c.Rejoin = 0 }, "rejoin"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one naming %q", err, tt.want)
			}
		})
	}
}

func TestMemberID(t *testing.T) {
	id := memberID("cached-0")
	if len(id) != 40 || id != memberID("cached-0") || id == memberID("cached-1") {
		t.Fatalf("memberID: %q", id)
	}
}

func TestView(t *testing.T) {
	v := testView(t, "b", []string{"c", "a", "b"}, 2)
	if got := v.Members(); len(got) != 3 || got[0].Name != "a" || got[2].Name != "c" {
		t.Fatalf("members %v, want sorted a, b, c", got)
	}
	primaries, owned := 0, 0
	for slot := range ring.SlotCount {
		owners := v.Owners(slot)
		if len(owners) != 2 || owners[0].Name == owners[1].Name || owners[0] != v.Primary(slot) {
			t.Fatalf("slot %d owners %v", slot, owners)
		}
		if v.IsPrimary(slot) {
			primaries++
		}
		if v.IsOwner(slot) {
			owned++
		}
		targets := v.targets(slot, nil)
		if len(targets) != len(owners)-1 && len(targets) != len(owners) {
			t.Fatalf("slot %d targets %v", slot, targets)
		}
		for _, m := range targets {
			if m.Name == "b" {
				t.Fatalf("slot %d: targets include this node", slot)
			}
		}
	}
	if primaries == 0 || owned <= primaries {
		t.Fatalf("b is primary for %d slots and owns %d", primaries, owned)
	}
	if m, ok := v.MemberByRESP("c:6379"); !ok || m.Name != "c" {
		t.Fatalf("MemberByRESP: %v %v", m, ok)
	}

	// Leaving: the node owns nothing and the ring is the others'.
	all := members("a", "b", "c")
	cfg := ring.DefaultConfig()
	cfg.Replicas = 2
	leaving, err := newView(all[1], all, cfg, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	for slot := range ring.SlotCount {
		if leaving.IsOwner(slot) || leaving.Primary(slot).Name == "b" {
			t.Fatalf("a leaving node owns slot %d", slot)
		}
	}
}

func TestViewTargetsWhileHandingOff(t *testing.T) {
	v := testView(t, "b", []string{"a", "b", "c"}, 1)
	next, err := ring.New([]string{"a", "c"}, ring.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	v.Next = next
	for slot := range ring.SlotCount {
		targets := v.targets(slot, nil)
		if v.IsPrimary(slot) {
			// One copy: the only target is the future owner.
			if len(targets) != 1 || targets[0].Name != next.Primary(slot) {
				t.Fatalf("slot %d: targets %v, want the future owner %s", slot, targets, next.Primary(slot))
			}
		}
	}
}

func TestImportTable(t *testing.T) {
	cfg := ring.DefaultConfig()
	cfg.Replicas = 2
	old := testView(t, "d", []string{"d"}, 2) // a node alone, before it met the others
	v := testView(t, "d", []string{"a", "b", "c", "d"}, 2)
	var it importTable
	it.update(old, v, cfg)
	others, _ := ring.New([]string{"a", "b", "c"}, cfg)
	for slot := range ring.SlotCount {
		from, ok := it.source(slot)
		if ok != v.IsPrimary(slot) {
			t.Fatalf("slot %d importing %v, primary %v", slot, ok, v.IsPrimary(slot))
		}
		if ok && from[0].Name != others.Primary(slot) {
			t.Fatalf("slot %d: import from %v, want the previous primary %s first", slot, from, others.Primary(slot))
		}
	}
	// A slot reported sent by its previous primary is no longer
	// importing; a report from another member does not count.
	for slot := range ring.SlotCount {
		if v.IsPrimary(slot) {
			from, _ := it.source(slot)
			it.done(slot, "someone-else")
			if _, ok := it.source(slot); !ok {
				t.Fatalf("slot %d done on a report from a non-primary", slot)
			}
			it.done(slot, from[0].Name)
			if _, ok := it.source(slot); ok {
				t.Fatalf("slot %d still importing after done", slot)
			}
			break
		}
	}
	// A node that was primary already imports nothing.
	var same importTable
	same.update(v, testView(t, "d", []string{"a", "b", "c", "d"}, 2), cfg)
	if same.active.Load() {
		t.Fatal("an unchanged ring imports slots")
	}
}

func TestRecordsPrefix(t *testing.T) {
	var recs []byte
	for _, k := range []string{"a", "b", "c"} {
		recs = store.AppendDeleteRecord(recs, []byte(k), 1)
	}
	one := len(store.AppendDeleteRecord(nil, []byte("a"), 1))
	if n := recordsPrefix(recs, one); n != one {
		t.Fatalf("prefix within one record's size = %d, want %d", n, one)
	}
	if n := recordsPrefix(recs, 1); n != one {
		t.Fatalf("a limit below one record still takes one: %d, want %d", n, one)
	}
	if n := recordsPrefix(recs, 1<<20); n != len(recs) {
		t.Fatalf("prefix = %d, want all %d", n, len(recs))
	}
	if n := countRecords(recs); n != 3 {
		t.Fatalf("countRecords = %d", n)
	}
}
