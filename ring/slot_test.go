package ring

import "testing"

func TestCRC16(t *testing.T) {
	// The check value of CRC16/XMODEM, also in the Redis Cluster specification.
	if got := CRC16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("CRC16(123456789) = %#x, want 0x31c3", got)
	}
}

func TestSlot(t *testing.T) {
	// Expected values read from redis-server 7.0 CLUSTER KEYSLOT.
	tests := []struct {
		key  string
		slot int
	}{
		{"", 0},
		{"foo", 12182},
		{"bar", 5061},
		{"{user1000}.following", 3443},
		{"{user1000}.followers", 3443},
		{"foo{}{bar}", 8363},
		{"foo{{bar}}zap", 4015},
		{"foo{bar}{zap}", 5061},
		{"{bar", 4015},
		{"bar}", 6624},
		{"{}", 15257},
		{"a{b}c", 3300},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := SlotString(tt.key); got != tt.slot {
				t.Errorf("Slot(%q) = %d, want %d", tt.key, got, tt.slot)
			}
		})
	}
}

func BenchmarkSlot(b *testing.B) {
	key := []byte("user:1000:profile")
	b.ReportAllocs()
	for b.Loop() {
		Slot(key)
	}
}
