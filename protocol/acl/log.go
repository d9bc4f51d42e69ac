package acl

import (
	"sync"
	"time"
)

// LogEntry is one ACL LOG entry: a denied command, key or channel, or a
// failed authentication.
type LogEntry struct {
	Count      int64
	Reason     string // "command", "key", "channel" or "auth"
	Context    string // "toplevel" or "multi"
	Object     string // the command, key or channel; "AUTH" for auth
	Username   string
	ClientInfo string
	ID         int64
	Created    time.Time
	Updated    time.Time
}

// Log keeps the latest ACL LOG entries, newest first, as Redis does: an
// event like a recent entry (same reason, context, object and user, within
// a minute) counts on that entry. Its methods are safe for concurrent use.
type Log struct {
	max int

	mu      sync.Mutex // guards entries, nextID
	entries []LogEntry // newest first
	nextID  int64
}

// NewLog returns a log keeping at most max entries (acllog-max-len).
func NewLog(max int) *Log { return &Log{max: max} }

// groupWindow is how recent an entry must be for an event to count on it.
const groupWindow = time.Minute

// Add records e at now.
func (l *Log) Add(e LogEntry, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.entries {
		old := &l.entries[i]
		if old.Reason == e.Reason && old.Context == e.Context && old.Object == e.Object &&
			old.Username == e.Username && now.Sub(old.Updated) < groupWindow {
			old.Count++
			old.Updated = now
			old.ClientInfo = e.ClientInfo
			return
		}
	}
	e.Count, e.ID, e.Created, e.Updated = 1, l.nextID, now, now
	l.nextID++
	l.entries = append([]LogEntry{e}, l.entries...)
	if len(l.entries) > l.max {
		l.entries = l.entries[:l.max]
	}
}

// Entries returns up to n entries, newest first.
func (l *Log) Entries(n int) []LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]LogEntry(nil), l.entries[:min(n, len(l.entries))]...)
}

// Reset empties the log.
func (l *Log) Reset() {
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
}
