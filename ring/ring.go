package ring

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/buraksezer/consistent"
	"github.com/cespare/xxhash/v2"
)

// DefaultVirtualNodes is the number of points each member gets on the hash
// circle by default.
//
// The load bound caps the busiest member whatever this is; more points make
// the placement under the cap closer to even, so the least loaded member
// holds more and fewer slots cascade past full members on a join or leave.
// Over 20 random member sets of 5, 10 and 50, the coefficient of variation
// of primary slots per member was 0.19 at 16 points, 0.14-0.16 at 32,
// 0.11-0.13 at 64, 0.07-0.10 at 128 and 0.06-0.08 at 256, and the worst
// slot movement on a join or leave fell from 1.9x the ideal 1/N at 16 to
// 1.25x at 128. The cost is build time: consistent re-sorts all points once
// per member added (three quarters of New's time at 64 members), so New
// grows with members² x points. At 128 points it takes ~4 ms for 3 or 10
// members, ~19 ms for 50, ~28 ms for 64, ~140 ms for 128 and ~0.5 s for
// 256 (BenchmarkNew); clusters of hundreds of members should lower it.
const DefaultVirtualNodes = 128

// Config controls how New spreads slots over members.
type Config struct {
	// Replicas is the total number of copies of each slot, primary
	// included: 1 means no replicas. New caps it at the member count.
	Replicas int
	// Load is consistent's bounded-load factor: no member is primary for
	// more than ceil(floor(SlotCount/members) * Load) slots. It must be
	// finite and greater than 1.
	Load float64
	// VirtualNodes is the number of points each member has on the hash
	// circle (consistent's ReplicationFactor). It must be at least 2.
	VirtualNodes int
}

// DefaultConfig returns one copy per slot (no replicas), Load 1.25 and
// DefaultVirtualNodes.
func DefaultConfig() Config {
	return Config{Replicas: 1, Load: 1.25, VirtualNodes: DefaultVirtualNodes}
}

// Validate returns an error wrapping ErrInvalidConfig that names the first
// field out of range, or nil.
func (c Config) Validate() error {
	switch {
	case c.Replicas < 1:
		return fmt.Errorf("%w: Replicas must be at least 1, got %d", ErrInvalidConfig, c.Replicas)
	case !(c.Load > 1) || math.IsInf(c.Load, 1):
		return fmt.Errorf("%w: Load must be finite and greater than 1, got %v", ErrInvalidConfig, c.Load)
	case c.VirtualNodes < 2:
		// consistent skips one point when it walks the circle for room,
		// so a member with a single point could be missed.
		return fmt.Errorf("%w: VirtualNodes must be at least 2, got %d", ErrInvalidConfig, c.VirtualNodes)
	}
	return nil
}

// Ring is an immutable slot → owners table for one member set. It is safe
// for concurrent use; a membership change builds a new Ring.
type Ring struct {
	members  []string // sorted, distinct
	replicas int      // owners per slot: min(Config.Replicas, len(members))
	// owners holds the owners of slot s, primary first, at
	// owners[s*replicas : (s+1)*replicas]. The strings share members'
	// storage.
	owners []string
}

// New builds the ring for members: node names, in any order, each non-empty
// and distinct. The same member set and Config give the identical table on
// every node, whatever the order of members.
//
// Each slot is one consistent partition (partition ID == slot). Its primary
// is consistent's bounded-load owner; its replicas are the members that
// follow the primary on consistent's replica circle, as
// GetClosestNForPartition returns them, so all owners of a slot are distinct.
//
// New never panics: it rejects the inputs on which consistent panics (no
// members, more members than fit under the load bound) and returns errors
// wrapping ErrInvalidConfig, ErrNoMembers, ErrEmptyMember,
// ErrDuplicateMember or ErrTooManyMembers; should consistent panic anyway,
// New returns ErrBuild. New does not retain members.
func New(members []string, cfg Config) (*Ring, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	names, err := sortedNames(members)
	if err != nil {
		return nil, err
	}
	n := len(names)
	if float64(n)*maxPrimaries(n, cfg.Load) < SlotCount {
		return nil, fmt.Errorf("%w: %d members cannot share %d slots at Load %v", ErrTooManyMembers, n, SlotCount, cfg.Load)
	}
	primary, err := distribute(names, cfg)
	if err != nil {
		return nil, err
	}

	// consistent's GetClosestNForPartition hashes every member name, sorts
	// the hashes and walks on from the owner's — per call, so 16384 calls
	// cost n hashes and a sort each. The circle does not depend on the
	// slot, so sort it once here; TestReplicasMatchConsistent checks the
	// result against GetClosestNForPartition.
	circle := make([]int, n) // member indexes in circle order
	hashes := make([]uint64, n)
	for i, name := range names {
		circle[i] = i
		hashes[i] = xxhash.Sum64String(memberKey(name))
	}
	slices.SortFunc(circle, func(a, b int) int {
		// Equal hashes never happen in practice (consistent would then
		// drop one member from its circle); break ties by name so the
		// table stays deterministic and the owners distinct anyway.
		return cmp.Or(cmp.Compare(hashes[a], hashes[b]), cmp.Compare(names[a], names[b]))
	})
	pos := make([]int, n) // member index → position in circle
	for p, i := range circle {
		pos[i] = p
	}

	replicas := min(cfg.Replicas, n)
	owners := make([]string, SlotCount*replicas)
	for slot, m := range primary {
		row := owners[slot*replicas : (slot+1)*replicas]
		for k := range row {
			row[k] = names[circle[(pos[m]+k)%n]]
		}
	}
	return &Ring{members: names, replicas: replicas, owners: owners}, nil
}

// sortedNames returns a sorted copy of members after checking that there is
// at least one, and that each is non-empty and distinct.
func sortedNames(members []string) ([]string, error) {
	if len(members) == 0 {
		return nil, ErrNoMembers
	}
	names := slices.Clone(members)
	slices.Sort(names)
	if names[0] == "" {
		return nil, ErrEmptyMember
	}
	for i := 1; i < len(names); i++ {
		if names[i] == names[i-1] {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateMember, names[i])
		}
	}
	return names, nil
}

// maxPrimaries is consistent's cap on the primary slots of one member among
// n (its averageLoad), computed with the same expression.
func maxPrimaries(n int, load float64) float64 {
	return math.Ceil(float64(SlotCount/n) * load)
}

// distribute runs consistent's bounded-load placement once over names,
// which must be sorted, and returns each slot's primary as an index into
// names.
//
// consistent panics when it finds no member with room for a partition. It
// walks all points of the circle but one from the partition's position, so
// with at least two distinct points per member (Validate) it sees every
// member, and with n*maxPrimaries >= SlotCount (New) one has room. Points
// are distinct because memberKey makes their names distinct; only a 64-bit
// xxhash collision could break that, and the recover turns that into
// ErrBuild rather than a crash.
func distribute(names []string, cfg Config) (primary []int, err error) {
	defer func() {
		if p := recover(); p != nil {
			primary, err = nil, fmt.Errorf("%w: consistent: %v", ErrBuild, p)
		}
	}()
	c := newConsistent(names, cfg)
	primary = make([]int, SlotCount)
	for slot := range primary {
		m, ok := c.GetPartitionOwner(slot).(member)
		if !ok {
			return nil, fmt.Errorf("%w: slot %d has no owner", ErrBuild, slot)
		}
		primary[slot] = m.index
	}
	return primary, nil
}

// newConsistent builds consistent's table for names, which must be sorted,
// with one partition per slot. It panics where consistent.New does.
func newConsistent(names []string, cfg Config) *consistent.Consistent {
	ms := make([]consistent.Member, len(names))
	for i, name := range names {
		ms[i] = member{key: memberKey(name), index: i}
	}
	return consistent.New(ms, consistent.Config{
		Hasher:            hasher{},
		PartitionCount:    SlotCount,
		ReplicationFactor: cfg.VirtualNodes,
		Load:              cfg.Load,
	})
}

// memberKey is the name consistent knows a member by. consistent names the
// member's points fmt.Sprintf("%s%d", key, i); with bare names, point 23 of
// "node-1" and point 3 of "node-12" would both be "node-123", one member
// would silently lose the point, and members node-1…node-64 would share
// 310 of their 4096 points. Only digits follow the NUL, so the last NUL in
// a point name splits it back into exactly one member, whatever the names
// contain.
func memberKey(name string) string { return name + "\x00" }

// member is a ring member as consistent sees it.
type member struct {
	key   string // memberKey(name)
	index int    // index of the name in the sorted member list
}

// String returns the key consistent hashes and indexes the member by.
func (m member) String() string { return m.key }

// hasher is xxhash as a consistent.Hasher.
type hasher struct{}

// Sum64 returns the xxhash (XXH64, seed 0) of b.
func (hasher) Sum64(b []byte) uint64 { return xxhash.Sum64(b) }

// Members returns the member names, sorted, in a slice the caller owns.
func (r *Ring) Members() []string { return slices.Clone(r.members) }

// Replicas returns the number of owners of every slot:
// min(Config.Replicas, number of members).
func (r *Ring) Replicas() int { return r.replicas }

// Owners returns the owners of slot, primary first, Replicas() of them, all
// distinct. The slice is shared with the Ring and must not be modified; its
// capacity is its length, so appending to it copies. Owners does not
// allocate. It returns nil for a slot outside [0, SlotCount).
func (r *Ring) Owners(slot int) []string {
	if uint(slot) >= SlotCount {
		return nil
	}
	i := slot * r.replicas
	return r.owners[i : i+r.replicas : i+r.replicas]
}

// Primary returns the primary owner of slot, or "" for a slot outside
// [0, SlotCount).
func (r *Ring) Primary(slot int) string {
	if uint(slot) >= SlotCount {
		return ""
	}
	return r.owners[slot*r.replicas]
}

// IsOwner reports whether name is the primary or a replica of slot.
func (r *Ring) IsOwner(name string, slot int) bool {
	return slices.Contains(r.Owners(slot), name)
}

// Slots returns, in ascending order, the slots name is primary for and
// those it holds a replica of. Both are nil for a name that is not a
// member. The slices are the caller's.
func (r *Ring) Slots(name string) (primary, replica []int) {
	if _, ok := slices.BinarySearch(r.members, name); !ok {
		return nil, nil
	}
	for slot := range SlotCount {
		switch k := slices.Index(r.Owners(slot), name); {
		case k == 0:
			primary = append(primary, slot)
		case k > 0:
			replica = append(replica, slot)
		}
	}
	return primary, replica
}

// Equal reports whether r and o have the same members and the same owners,
// in the same order, for every slot. Two nil rings are equal.
func (r *Ring) Equal(o *Ring) bool {
	if r == nil || o == nil {
		return r == o
	}
	return r.replicas == o.replicas &&
		slices.Equal(r.members, o.members) &&
		slices.Equal(r.owners, o.owners)
}

// Move is one slot whose owners differ between two rings.
type Move struct {
	// Slot is the slot that moves.
	Slot int
	// From lists the slot's owners in the old ring, primary first; nil if
	// there was none.
	From []string
	// To lists the slot's owners in the new ring, primary first; nil if
	// there is none.
	To []string
}

// Diff lists, in ascending slot order, the slots whose owner list differs
// between old and new, order included: a primary that becomes a replica is
// a move. Either ring may be nil, meaning no owners, so Diff(nil, r) lists
// every slot. From and To are shared with the rings and must not be
// modified.
func Diff(old, new *Ring) []Move {
	var moves []Move
	for slot := range SlotCount {
		from, to := ownersOf(old, slot), ownersOf(new, slot)
		if !slices.Equal(from, to) {
			moves = append(moves, Move{Slot: slot, From: from, To: to})
		}
	}
	return moves
}

// ownersOf is r.Owners(slot), or nil for a nil ring.
func ownersOf(r *Ring, slot int) []string {
	if r == nil {
		return nil
	}
	return r.Owners(slot)
}
