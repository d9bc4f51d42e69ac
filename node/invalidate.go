package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cached/cached/node/peer"
	"github.com/cached/cached/node/store"
	"github.com/cached/cached/ring"
)

// Cluster-wide invalidation: delete keys by name, by prefix or by tag on
// every member, so every copy goes (replicas through the normal change
// stream) and tracking clients hear of it. Nothing is shipped back to the
// caller but counts: each member deletes what it holds.
//
// Tags. A key's tags are kept in its own slot: the members of tag t in
// slot s are the set at TagKey(s, t) = "cached:tag:{" + ring.SlotTag(s) +
// "}" + t, which hashes to s. So tagging is a local write on the key's
// owner (no second hop, atomic with the SET), and tag sets replicate, move
// at hand-off and persist with the keys they list. A tag set's deadline
// is never earlier than its members' (a member without one makes it
// persistent). Invalidating a tag asks every member to take out the tag
// sets of its slots and delete their members.

// TagKeyPrefix starts every key cached reserves for tag sets; applications
// must not write keys under it.
const TagKeyPrefix = "cached:tag:"

// Peer commands of the invalidation API.
const (
	// CmdDelPrefix deletes the receiver's keys under the prefix given and
	// replies the number deleted in slots it is primary for.
	CmdDelPrefix = "CACHED.DELPREFIX"
	// CmdDelTag deletes the receiver's keys tagged with the tag given and
	// replies the number deleted in slots it is primary for.
	CmdDelTag = "CACHED.DELTAG"
	// CmdNoLoop wraps a write forwarded for a NOLOOP tracking client:
	// origin peer address, client ID, then the command. The receiver
	// tells the origin of the change with CmdInvalidateFor.
	CmdNoLoop = "CACHED.NOLOOP"
	// CmdInvalidateFor is CmdInvalidate for a change made by the client
	// whose ID comes first: a NOLOOP client is not told of its own write.
	CmdInvalidateFor = "CACHED.INVALIDATEFOR"
)

// Invalidation errors.
var (
	ErrEmptyPrefix = errors.New("invalidate: the prefix must not be empty (FLUSHALL deletes everything)")
	ErrEmptyTag    = errors.New("tag: a tag must not be empty")
	ErrReservedKey = errors.New("tag: keys under " + TagKeyPrefix + " are reserved for tag sets")
)

// scanCount is the COUNT of each step of a prefix scan.
const scanCount = 1000

// TagKey returns the key of the set of tag's keys in slot.
func TagKey(slot int, tag []byte) []byte {
	st := ring.SlotTag(slot)
	k := make([]byte, 0, len(TagKeyPrefix)+len(st)+2+len(tag))
	k = append(k, TagKeyPrefix...)
	k = append(k, '{')
	k = append(k, st...)
	k = append(k, '}')
	return append(k, tag...)
}

// invalidation holds the hooks front ends register (see SetChangeListener,
// OnRegistrationChange) and the Watch registrations.
type invalidation struct {
	listener atomic.Pointer[func(keys [][]byte)]
	regHook  atomic.Pointer[func()]
	watches  watches

	// Registration generations: regWanted counts the changes to what this
	// node must register, regSent the last one the front end sent to
	// every member (RegistrationSent); regMu guards regWaiters.
	regWanted  atomic.Uint64
	regSent    atomic.Uint64
	regMu      sync.Mutex
	regWaiters []chan struct{}
}

// SetChangeListener sets the function told of the keys this node deletes
// through the invalidation API (InvalidateKeys, InvalidatePrefix,
// InvalidateTag and their peer commands), so a front end can invalidate
// its tracking clients. It is called without locks held; it must not
// block for long.
func (n *Node) SetChangeListener(fn func(keys [][]byte)) { n.inval.listener.Store(&fn) }

// OnRegistrationChange sets the function called when what this node must
// hear of from the other members changes: the view changed (a member may
// have joined) or a Watch came or went. It must only signal: it runs
// under the view's lock. The front end then sends its registrations and
// reports it with RegistrationSent(RegistrationWanted()), read before it
// built them.
func (n *Node) OnRegistrationChange(fn func()) { n.inval.regHook.Store(&fn) }

// registrationChanged records a change of what to register, calls the
// OnRegistrationChange function, if any, and returns the change's
// generation.
func (n *Node) registrationChanged() uint64 {
	gen := n.inval.regWanted.Add(1)
	if fn := n.inval.regHook.Load(); fn != nil {
		(*fn)()
	}
	return gen
}

// RegistrationWanted returns the generation of the latest change of what
// this node must register.
func (n *Node) RegistrationWanted() uint64 { return n.inval.regWanted.Load() }

// RegistrationSent records that registrations as of generation gen have
// reached every member.
func (n *Node) RegistrationSent(gen uint64) {
	in := &n.inval
	for {
		old := in.regSent.Load()
		if gen <= old || in.regSent.CompareAndSwap(old, gen) {
			break
		}
	}
	in.regMu.Lock()
	for _, ch := range in.regWaiters {
		close(ch)
	}
	in.regWaiters = nil
	in.regMu.Unlock()
}

// awaitRegistration waits until registrations as of gen were sent.
func (n *Node) awaitRegistration(ctx context.Context, gen uint64) error {
	in := &n.inval
	for {
		in.regMu.Lock()
		if in.regSent.Load() >= gen {
			in.regMu.Unlock()
			return nil
		}
		ch := make(chan struct{})
		in.regWaiters = append(in.regWaiters, ch)
		in.regMu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// KeysChanged tells the change listener (see SetChangeListener) that keys
// changed on this node outside a front end's command path that does it
// itself: deletes of the invalidation API, writes of the gRPC front end.
func (n *Node) KeysChanged(keys [][]byte) {
	if fn := n.inval.listener.Load(); fn != nil && len(keys) > 0 {
		(*fn)(keys)
	}
}

// AddTags tags key, which must live on this node, with tags, and returns
// the number of tags the key did not have yet. An absent key gets none.
func (n *Node) AddTags(key []byte, tags [][]byte) (int, error) {
	if bytes.HasPrefix(key, []byte(TagKeyPrefix)) {
		return 0, ErrReservedKey
	}
	for _, t := range tags {
		if len(t) == 0 {
			return 0, ErrEmptyTag
		}
	}
	at, _, ok := n.Deadline(key)
	if !ok {
		return 0, nil
	}
	slot := ring.Slot(key)
	added := 0
	for _, t := range tags {
		a, err := n.AddMembers(TagKey(slot, t), [][]byte{key}, at)
		if err != nil {
			return added, err
		}
		added += a
	}
	return added, nil
}

// primaryOf returns a function reporting whether this node is the primary
// of a slot (always true on a single node).
func (n *Node) primaryOf() func(slot int) bool {
	v := n.View()
	if v == nil {
		return func(int) bool { return true }
	}
	return v.IsPrimary
}

// DeletePrefixLocal deletes every key this node holds under prefix, and
// returns how many of them were in slots it is primary for. Keys of slots
// it only replicates (or is handing off) go too, so a key in flight
// between two owners is deleted on both.
func (n *Node) DeletePrefixLocal(prefix []byte) (int64, error) {
	if len(prefix) == 0 {
		return 0, ErrEmptyPrefix
	}
	primary := n.primaryOf()
	pattern := prefixPattern(prefix)
	var deleted [][]byte
	var count int64
	for cursor := uint64(0); ; {
		next, keys := n.Scan(cursor, store.ScanOptions{Match: pattern, Count: scanCount})
		for _, k := range keys {
			if n.Del([]byte(k)) {
				deleted = append(deleted, []byte(k))
				if primary(ring.SlotString(k)) {
					count++
				}
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	n.KeysChanged(deleted)
	return count, nil
}

// DeleteTagLocal deletes every key tagged with tag that this node holds,
// with the tag's sets, and returns how many of the keys were in slots it
// is primary for.
func (n *Node) DeleteTagLocal(tag []byte) (int64, error) {
	if len(tag) == 0 {
		return 0, ErrEmptyTag
	}
	primary := n.primaryOf()
	var deleted [][]byte
	var count int64
	for _, slot := range n.SlotsWithKeys() {
		members, err := n.PopMembers(TagKey(slot, tag))
		if err != nil {
			continue // not a set: not one of ours
		}
		for _, m := range members {
			if n.Del([]byte(m)) {
				deleted = append(deleted, []byte(m))
				if primary(slot) {
					count++
				}
			}
		}
	}
	n.KeysChanged(deleted)
	return count, nil
}

// prefixPattern returns the glob pattern matching keys that start with
// prefix: its special characters escaped, then '*'.
func prefixPattern(prefix []byte) string {
	var b strings.Builder
	for _, c := range prefix {
		switch c {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('*')
	return b.String()
}

// InvalidatePrefix deletes every key under prefix on every member and
// returns the number of keys deleted. A member that could not be reached
// is in the error; the count covers the others.
func (n *Node) InvalidatePrefix(ctx context.Context, prefix []byte) (int64, error) {
	if len(prefix) == 0 {
		return 0, ErrEmptyPrefix
	}
	return n.onEveryMember(ctx, CmdDelPrefix, prefix, n.DeletePrefixLocal)
}

// InvalidateTag deletes every key tagged with tag on every member and
// returns the number of keys deleted, as InvalidatePrefix.
func (n *Node) InvalidateTag(ctx context.Context, tag []byte) (int64, error) {
	if len(tag) == 0 {
		return 0, ErrEmptyTag
	}
	return n.onEveryMember(ctx, CmdDelTag, tag, n.DeleteTagLocal)
}

// onEveryMember runs local(arg) here and cmd arg on every other member,
// and sums the counts.
func (n *Node) onEveryMember(ctx context.Context, cmd string, arg []byte, local func([]byte) (int64, error)) (int64, error) {
	total, err := local(arg)
	if err != nil || n.View() == nil {
		return total, err
	}
	replies, errs := n.CallAll(ctx, [][]byte{[]byte(cmd), arg})
	for i, reply := range replies {
		if errs[i] == nil {
			var c int64
			if c, errs[i] = peer.ParseInt(reply); errs[i] == nil {
				total += c
				continue
			}
		}
		err = errors.Join(err, fmt.Errorf("invalidate: %s: %w", cmd, errs[i]))
	}
	return total, err
}

// maxRouteTries bounds the attempts to reach a slot's primary while the
// cluster's view settles.
const maxRouteTries = 10

// InvalidateKeys deletes keys wherever they live, by their primaries (so
// replicas follow), and returns the number that existed.
func (n *Node) InvalidateKeys(ctx context.Context, keys [][]byte) (int64, error) {
	if n.View() == nil {
		var deleted [][]byte
		for _, k := range keys {
			if n.Del(k) {
				deleted = append(deleted, k)
			}
		}
		n.KeysChanged(deleted)
		return int64(len(deleted)), nil
	}
	bySlot := map[int][][]byte{}
	for _, k := range keys {
		s := ring.Slot(k)
		bySlot[s] = append(bySlot[s], k)
	}
	var (
		total atomic.Int64
		mu    sync.Mutex
		errs  error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 16)
	)
	for slot, ks := range bySlot {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := n.delInSlot(ctx, slot, ks)
			total.Add(c)
			if err != nil {
				mu.Lock()
				errs = errors.Join(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return total.Load(), errs
}

// delInSlot deletes keys, all of slot, on the slot's primary: here when
// this node is the primary and holds the slot whole, with a DEL over the
// peer link otherwise (which runs through the receiver's command path:
// import of missing keys, tracking, replication).
func (n *Node) delInSlot(ctx context.Context, slot int, keys [][]byte) (int64, error) {
	args := append([][]byte{[]byte("DEL")}, keys...)
	var lastErr error
	for try := range maxRouteTries {
		v := n.View()
		if _, importing := n.ImportSource(slot); v.IsPrimary(slot) && !importing {
			var deleted [][]byte
			for _, k := range keys {
				if n.Del(k) {
					deleted = append(deleted, k)
				}
			}
			n.KeysChanged(deleted)
			return int64(len(deleted)), nil
		}
		reply, err := n.Peers().Call(ctx, v.Primary(slot).Peer, 2, 0, args)
		if err == nil {
			if msg, isErr := peer.ReplyError(reply); isErr {
				err = fmt.Errorf("invalidate: DEL: %s", msg)
			} else {
				return peer.ParseInt(reply)
			}
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return 0, errors.Join(lastErr, ctx.Err())
		case <-time.After(time.Duration(try+1) * 20 * time.Millisecond):
		}
	}
	return 0, lastErr
}
