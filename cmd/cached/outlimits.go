package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cached/cached/protocol/resp"
)

// applyOutputLimits parses client-output-buffer-limit as redis.conf writes
// it: one or more groups of "<class> <hard> <soft> <seconds>". The classes
// are normal and pubsub; a class not given keeps its default. Only the hard
// limit is enforced, so soft and seconds are checked and otherwise unused.
func applyOutputLimits(c *config, v string) error {
	f := strings.Fields(v)
	if len(f) == 0 || len(f)%4 != 0 {
		return errors.New(`want groups of "<class> <hard> <soft> <seconds>"`)
	}
	for i := 0; i < len(f); i += 4 {
		class := strings.ToLower(f[i])
		hard, err := resp.ParseMemory(f[i+1])
		if err != nil {
			return fmt.Errorf("%s: hard limit %q: not a memory amount", class, f[i+1])
		}
		if _, err := resp.ParseMemory(f[i+2]); err != nil {
			return fmt.Errorf("%s: soft limit %q: not a memory amount", class, f[i+2])
		}
		if secs, err := strconv.Atoi(f[i+3]); err != nil || secs < 0 {
			return fmt.Errorf("%s: seconds %q: not a number", class, f[i+3])
		}
		switch class {
		case "normal":
			c.resp.OutputLimit = hard
		case "pubsub":
			if hard == 0 {
				return errors.New("pubsub: the hard limit must be positive")
			}
			c.resp.PubsubOutputLimit = hard
		default:
			return fmt.Errorf("class %q: want normal or pubsub (replication uses peer links, not replica clients)", f[i])
		}
	}
	return nil
}
