package ring

import "testing"

func TestSlotTag(t *testing.T) {
	for slot := range SlotCount {
		tag := SlotTag(slot)
		if got := SlotString("cached:tag:{" + tag + "}any{thing}"); got != slot {
			t.Fatalf("SlotTag(%d) = %q hashes to slot %d", slot, tag, got)
		}
		if len(tag) > 4 {
			t.Fatalf("SlotTag(%d) = %q: longer than expected", slot, tag)
		}
	}
}
