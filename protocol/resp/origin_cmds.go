package resp

import (
	"strconv"
	"time"
)

// originField is one field of a rule in CACHED ORIGINS: a string or an
// int64.
type originField struct {
	k string
	v any
}

// cmdCachedOrigins replies with one map per rule, in rule order: its
// settings, its origin's breaker state and its counters.
func cmdCachedOrigins(c *Client, _ [][]byte) {
	e := c.srv.origins
	if e == nil {
		c.array(0)
		return
	}
	st := e.Stats()
	breakers := map[string]string{}
	for _, o := range st.Origins {
		breakers[o.Name] = o.Breaker.String()
	}
	c.array(len(st.Rules))
	for _, r := range st.Rules {
		fields := []originField{
			{"pattern", r.Pattern}, {"origin", r.Origin}, {"mode", r.Mode},
			{"ttl_ms", r.TTL.Milliseconds()}, {"jitter_percent", int64(r.Jitter * 100)},
			{"negative_ttl_ms", r.NegativeTTL.Milliseconds()}, {"timeout_ms", r.Timeout.Milliseconds()},
			{"breaker", breakers[r.Origin]},
			{"loads_ok", r.Loads["ok"]}, {"loads_absent", r.Loads["absent"]}, {"loads_error", r.Loads["error"]},
			{"loads_breaker_open", r.Loads["breaker_open"]}, {"loads_shared", r.Loads["shared"]},
			{"errors", r.Errors}, {"written", r.Written}, {"queued", r.Queued}, {"notified", r.Notified},
		}
		if r.Mode == "write-behind" {
			fields = append(fields, originField{"queue_depth", int64(st.Queue.Depth)},
				originField{"queue_oldest_age_ms", st.Queue.OldestAge.Milliseconds()})
		}
		c.mapHeader(len(fields))
		for _, f := range fields {
			c.bulkString(f.k)
			switch v := f.v.(type) {
			case string:
				c.bulkString(v)
			case int64:
				c.integer(v)
			}
		}
	}
}

// originsInfo writes INFO's Origins section.
func (s *Server) originsInfo(line func(k string, v any)) {
	e := s.origins
	if e == nil {
		line("origin_rules", 0)
		return
	}
	st := e.Stats()
	line("origin_rules", len(st.Rules))
	for i, o := range st.Origins {
		line("origin"+strconv.Itoa(i), "name="+o.Name+",breaker="+o.Breaker.String())
	}
	for i, r := range st.Rules {
		line("rule"+strconv.Itoa(i), "pattern="+r.Pattern+",origin="+r.Origin+",mode="+r.Mode+
			",loads_ok="+strconv.FormatInt(r.Loads["ok"], 10)+",loads_absent="+strconv.FormatInt(r.Loads["absent"], 10)+
			",loads_error="+strconv.FormatInt(r.Loads["error"], 10)+",loads_shared="+strconv.FormatInt(r.Loads["shared"], 10)+
			",errors="+strconv.FormatInt(r.Errors, 10))
	}
	line("origin_negative_keys", st.Negative)
	line("writebehind_queue_depth", st.Queue.Depth)
	line("writebehind_oldest_age_seconds", st.Queue.OldestAge.Round(time.Millisecond).Seconds())
	line("writebehind_delivered", st.Queue.Delivered)
	line("writebehind_retries", st.Queue.Retries)
	durable := 0
	if st.Queue.Durable {
		durable = 1
	}
	line("writebehind_durable", durable)
}
