package resp

import (
	"strconv"
	"strings"
	"time"
)

// writeCommandInfo appends the body of INFO commandstats, errorstats or
// latencystats, in Redis's format.
func (s *Server) writeCommandInfo(b *strings.Builder, section string) {
	switch section {
	case "commandstats":
		for _, cs := range s.CommandStats() {
			usec := int64(cs.Duration / time.Microsecond)
			perCall := 0.0
			if cs.Calls > 0 {
				perCall = float64(cs.Duration) / float64(time.Microsecond) / float64(cs.Calls)
			}
			b.WriteString("cmdstat_" + cs.Name + ":calls=" + strconv.FormatUint(cs.Calls, 10) +
				",usec=" + strconv.FormatInt(usec, 10) +
				",usec_per_call=" + strconv.FormatFloat(perCall, 'f', 2, 64) +
				",rejected_calls=" + strconv.FormatUint(cs.Rejected, 10) +
				",failed_calls=" + strconv.FormatUint(cs.Failed, 10) + "\r\n")
		}
	case "errorstats":
		for _, e := range s.ErrorStats() {
			b.WriteString("errorstat_" + e.Code + ":count=" + strconv.FormatUint(e.Count, 10) + "\r\n")
		}
	case "latencystats":
		for _, cs := range s.CommandStats() {
			if cs.Calls == 0 {
				continue
			}
			p := func(q float64) string { return strconv.FormatFloat(cs.hist.percentile(q), 'f', 3, 64) }
			b.WriteString("latency_percentiles_usec_" + cs.Name + ":p50=" + p(50) + ",p99=" + p(99) + ",p99.9=" + p(99.9) + "\r\n")
		}
	}
}
