package ring

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkNew measures a full build, which a node pays on every
// membership change.
func BenchmarkNew(b *testing.B) {
	for _, n := range []int{3, 10, 50, 64} {
		members := nodeNames(n)
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := New(members, DefaultConfig()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOwners measures the per-command lookup: key → slot → owners.
func BenchmarkOwners(b *testing.B) {
	for _, replicas := range []int{1, 3} {
		r := mustNew(b, nodeNames(10), withReplicas(replicas))
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) {
			b.ReportAllocs()
			slot := 0
			for b.Loop() {
				r.Owners(slot)
				slot = (slot + 1) & (SlotCount - 1)
			}
		})
	}
}

// BenchmarkOwnersParallel checks that lookups from many goroutines do not
// contend: the ring is immutable and holds no lock.
func BenchmarkOwnersParallel(b *testing.B) {
	r := mustNew(b, nodeNames(10), withReplicas(2))
	var owners atomic.Int64 // keeps the results used, so the calls stay
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		slot, n := 0, 0
		for pb.Next() {
			n += len(r.Owners(slot))
			slot = (slot + 1) & (SlotCount - 1)
		}
		owners.Add(int64(n))
	})
}

// BenchmarkIsOwner measures the check a node makes before serving a key.
func BenchmarkIsOwner(b *testing.B) {
	r := mustNew(b, nodeNames(10), withReplicas(3))
	key := []byte("user:1000:profile")
	b.ReportAllocs()
	for b.Loop() {
		r.IsOwner("node-7", Slot(key))
	}
}

// BenchmarkDiff measures listing the moves of a join.
func BenchmarkDiff(b *testing.B) {
	before := mustNew(b, nodeNames(10), withReplicas(2))
	after := mustNew(b, nodeNames(11), withReplicas(2))
	b.ReportAllocs()
	for b.Loop() {
		Diff(before, after)
	}
}
