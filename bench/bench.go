// Package bench holds helpers shared by the benchmark programs that compare
// cached with redis-server (see README.md and compare.sh).
package bench

import (
	"fmt"
	"hash/fnv"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// NewClient returns a go-redis client for addr that speaks plain RESP2 and
// sends nothing on connect (no HELLO, no CLIENT SETINFO, no maintenance
// notification handshake), so cached and redis-server see exactly the same
// command stream. poolSize 0 means the go-redis default.
func NewClient(addr string, poolSize int) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:                     addr,
		Protocol:                 2,
		DisableIdentity:          true,
		PoolSize:                 poolSize,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
}

// Key returns the benchmark key for index i: "key:%010d".
func Key(i int) string {
	return fmt.Sprintf("key:%010d", i)
}

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"

// Value returns a deterministic, printable, poorly compressible value of
// exactly size bytes derived from key, so a reader can verify what it gets
// back without keeping a copy of the data.
func Value(key string, size int) []byte {
	h := fnv.New64a()
	h.Write([]byte(key))
	x := h.Sum64()
	v := make([]byte, size)
	for i := range v {
		// xorshift64: cheap, deterministic, good enough to defeat compression.
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		v[i] = alphabet[x&63]
	}
	return v
}
