package ring

import (
	"math/rand/v2"
	"testing"
)

func TestCRC16(t *testing.T) {
	// The check value of CRC16/XMODEM, also in the Redis Cluster specification.
	if got := CRC16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("CRC16(123456789) = %#x, want 0x31c3", got)
	}
	// The sliced tables against the polynomial bit by bit, at every length
	// around the 8-byte steps.
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 100 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if got, want := CRC16(b), crc16Bitwise(b); got != want {
			t.Fatalf("CRC16 of %d bytes %x = %#x, bit by bit %#x", n, b, got, want)
		}
	}
}

// crc16Bitwise is CRC16/XMODEM computed one bit at a time.
func crc16Bitwise(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
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
