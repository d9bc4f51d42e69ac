package ring

// SlotCount is the number of hash slots, as in Redis Cluster.
const SlotCount = 16384

// crcTable is the CRC16/XMODEM (polynomial 0x1021) lookup table.
var crcTable = func() (t [256]uint16) {
	for i := range t {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}()

// CRC16 returns the CRC16/XMODEM checksum of b, the hash Redis Cluster uses.
func CRC16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc<<8 ^ crcTable[byte(crc>>8)^c]
	}
	return crc
}

// Slot returns the hash slot of key. When the key contains a non-empty
// "{hash tag}", only the tag is hashed, so related keys can share a slot.
func Slot(key []byte) int {
	for i, c := range key {
		if c != '{' {
			continue
		}
		for j := i + 1; j < len(key); j++ {
			if key[j] == '}' {
				if j > i+1 {
					key = key[i+1 : j]
				}
				return int(CRC16(key) & (SlotCount - 1))
			}
		}
		break
	}
	return int(CRC16(key) & (SlotCount - 1))
}

// SlotString is Slot for a string key.
func SlotString(key string) int {
	return Slot([]byte(key))
}
