package ring

import (
	"strconv"
	"sync"
)

// SlotTag returns a short string that hashes to slot, for building a key
// that lives in a given slot: "prefix{" + SlotTag(s) + "}suffix" is in
// slot s whatever prefix and suffix hold (with no '{' in prefix). It is
// the same on every node and in every version: the smallest non-negative
// integer, in base 36, whose CRC16 falls in slot.
func SlotTag(slot int) string {
	slotTagsOnce.Do(buildSlotTags)
	return slotTags[slot&(SlotCount-1)]
}

// slotTags is SlotTag's table, computed once (about 170,000 CRC16s of a few
// bytes) and read-only after.
var (
	slotTagsOnce sync.Once
	slotTags     []string
)

func buildSlotTags() {
	tags := make([]string, SlotCount)
	left := SlotCount
	var buf []byte
	for n := uint64(0); left > 0; n++ {
		buf = strconv.AppendUint(buf[:0], n, 36)
		s := int(CRC16(buf) & (SlotCount - 1))
		if tags[s] == "" {
			tags[s] = string(buf)
			left--
		}
	}
	slotTags = tags
}
