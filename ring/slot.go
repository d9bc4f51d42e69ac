package ring

import "bytes"

// SlotCount is the number of hash slots, as in Redis Cluster.
const SlotCount = 16384

// crcTables are the CRC16/XMODEM (polynomial 0x1021) lookup tables for
// slicing by 8: crcTables[0][b] is the CRC of byte b, and crcTables[k][b]
// the CRC of b followed by k zero bytes. Eight bytes then cost eight
// independent lookups instead of a chain of eight dependent ones.
var crcTables = func() (t [8][256]uint16) {
	for i := range t[0] {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[0][i] = crc
	}
	for k := 1; k < len(t); k++ {
		for i := range t[k] {
			prev := t[k-1][i]
			t[k][i] = prev<<8 ^ t[0][prev>>8]
		}
	}
	return t
}()

// CRC16 returns the CRC16/XMODEM checksum of b, the hash Redis Cluster uses.
func CRC16(b []byte) uint16 {
	var crc uint16
	t := &crcTables
	for ; len(b) >= 8; b = b[8:] {
		x := crc ^ uint16(b[0])<<8 ^ uint16(b[1])
		crc = t[7][x>>8] ^ t[6][x&0xff] ^ t[5][b[2]] ^ t[4][b[3]] ^
			t[3][b[4]] ^ t[2][b[5]] ^ t[1][b[6]] ^ t[0][b[7]]
	}
	for _, c := range b {
		crc = crc<<8 ^ t[0][byte(crc>>8)^c]
	}
	return crc
}

// Slot returns the hash slot of key. When the key contains a non-empty
// "{hash tag}", only the tag is hashed, so related keys can share a slot.
func Slot(key []byte) int {
	if i := bytes.IndexByte(key, '{'); i >= 0 {
		if j := bytes.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(CRC16(key) & (SlotCount - 1))
}

// SlotString is Slot for a string key.
func SlotString(key string) int {
	return Slot([]byte(key))
}
