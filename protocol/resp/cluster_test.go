package resp

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"github.com/cached/cached/node"
	"github.com/cached/cached/persistence"
	"github.com/cached/cached/ring"
)

// clusterClient returns a plain go-redis client of cn.
func (cn *clusterNode) client(t testing.TB, proto int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: cn.addr, Protocol: proto, DisableIdentity: true, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// writeKeys sets n keys "key:<i>" = "value:<i>" through c, pipelined.
func writeKeys(t testing.TB, c *redis.Client, n int) {
	t.Helper()
	ctx := context.Background()
	for start := 0; start < n; start += 500 {
		p := c.Pipeline()
		for i := start; i < min(start+500, n); i++ {
			p.Set(ctx, "key:"+strconv.Itoa(i), "value:"+strconv.Itoa(i), 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
}

// checkKeys reads the n keys of writeKeys through c, pipelined.
func checkKeys(t testing.TB, c *redis.Client, n int) error {
	ctx := context.Background()
	for start := 0; start < n; start += 500 {
		p := c.Pipeline()
		cmds := make([]*redis.StringCmd, 0, 500)
		for i := start; i < min(start+500, n); i++ {
			cmds = append(cmds, p.Get(ctx, "key:"+strconv.Itoa(i)))
		}
		p.Exec(ctx)
		for j, cmd := range cmds {
			i := start + j
			if v, err := cmd.Result(); err != nil || v != "value:"+strconv.Itoa(i) {
				return fmt.Errorf("key:%d = %q, %v", i, v, err)
			}
		}
	}
	return nil
}

func TestClusterForwarding(t *testing.T) {
	tc := startCluster(t, 3, nil)
	nodes := tc.live()
	const keys = 10000
	for _, proto := range []int{2, 3} {
		writeKeys(t, nodes[0].client(t, proto), keys)
		for _, cn := range nodes[1:] {
			if err := checkKeys(t, cn.client(t, proto), keys); err != nil {
				t.Fatalf("RESP%d via %s: %v", proto, cn.name, err)
			}
		}
	}
	// Every key lives on its primary (and a replica): DBSIZE counts each once.
	tc.waitSettled()
	ctx := context.Background()
	for _, cn := range nodes {
		if n, err := cn.client(t, 2).DBSize(ctx).Result(); err != nil || n != keys {
			t.Errorf("DBSIZE via %s = %d, %v; want %d", cn.name, n, err, keys)
		}
	}
	total := 0
	for _, cn := range nodes {
		total += cn.node.Len()
	}
	if total != 2*keys {
		t.Errorf("keys stored over the cluster = %d, want %d (two copies)", total, 2*keys)
	}
}

func TestClusterCommands(t *testing.T) {
	tc := startCluster(t, 3, nil)
	nodes := tc.live()
	ctx := context.Background()
	c := nodes[0].client(t, 3)

	info, err := c.ClusterInfo(ctx).Result()
	if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:3") {
		t.Fatalf("CLUSTER INFO = %q, %v", info, err)
	}
	id, err := c.ClusterMyID(ctx).Result()
	if err != nil || len(id) != 40 {
		t.Fatalf("CLUSTER MYID = %q, %v", id, err)
	}
	if slot, err := c.ClusterKeySlot(ctx, "{user1000}.following").Result(); err != nil || slot != 3443 {
		t.Fatalf("CLUSTER KEYSLOT = %d, %v", slot, err)
	}
	slots, err := c.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	covered := 0
	for _, s := range slots {
		covered += s.End - s.Start + 1
		if len(s.Nodes) != 2 {
			t.Fatalf("slots %d-%d have %d nodes, want 2", s.Start, s.End, len(s.Nodes))
		}
	}
	if covered != ring.SlotCount {
		t.Fatalf("CLUSTER SLOTS covers %d slots", covered)
	}
	shards, err := c.ClusterShards(ctx).Result()
	if err != nil || len(shards) != 3 {
		t.Fatalf("CLUSTER SHARDS: %d shards, %v", len(shards), err)
	}
	nodesText, err := c.ClusterNodes(ctx).Result()
	if err != nil || strings.Count(nodesText, "\n") != 3 || !strings.Contains(nodesText, "myself,master") {
		t.Fatalf("CLUSTER NODES = %q, %v", nodesText, err)
	}

	// COUNTKEYSINSLOT and GETKEYSINSLOT on the key's primary.
	c.Set(ctx, "{tag}a", "1", 0)
	c.Set(ctx, "{tag}b", "2", 0)
	slot := ring.Slot([]byte("{tag}"))
	var primary *clusterNode
	for _, cn := range nodes {
		if cn.node.View().IsPrimary(slot) {
			primary = cn
		}
	}
	pc := primary.client(t, 2)
	if n, err := pc.ClusterCountKeysInSlot(ctx, slot).Result(); err != nil || n != 2 {
		t.Errorf("COUNTKEYSINSLOT = %d, %v", n, err)
	}
	if keys, err := pc.ClusterGetKeysInSlot(ctx, slot, 10).Result(); err != nil || len(keys) != 2 {
		t.Errorf("GETKEYSINSLOT = %v, %v", keys, err)
	}
	if err := pc.Do(ctx, "CLUSTER", "COUNTKEYSINSLOT", "16384").Err(); err == nil || !strings.Contains(err.Error(), "Invalid slot") {
		t.Errorf("COUNTKEYSINSLOT 16384: %v", err)
	}
	if err := c.Do(ctx, "READONLY").Err(); err != nil {
		t.Errorf("READONLY: %v", err)
	}
	if err := c.Do(ctx, "READWRITE").Err(); err != nil {
		t.Errorf("READWRITE: %v", err)
	}
	if s, _ := c.Info(ctx, "cluster").Result(); !strings.Contains(s, "cluster_enabled:1") || !strings.Contains(s, "cluster_members:3") {
		t.Errorf("INFO cluster = %q", s)
	}
}

func TestClusterDisabled(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.raw(t)
	r.expect("-"+msgClusterDisabled+"\r\n", "CLUSTER", "SLOTS")
	r.expect("-"+msgClusterDisabled+"\r\n", "CLUSTER", "KEYSLOT", "a")
	r.expect(":0\r\n", "DEL", "a", "b") // no CROSSSLOT on a single node
}

// keysOnDifferentPrimaries returns two keys whose primaries differ.
func keysOnDifferentPrimaries(t testing.TB, v *node.View) (string, string) {
	a := "k0"
	for i := 1; i < 1000; i++ {
		b := "k" + strconv.Itoa(i)
		if v.Primary(ring.Slot([]byte(a))).Name != v.Primary(ring.Slot([]byte(b))).Name {
			return a, b
		}
	}
	t.Fatal("no two keys on different primaries")
	return "", ""
}

func TestClusterMultiKey(t *testing.T) {
	tc := startCluster(t, 3, nil)
	nodes := tc.live()
	ctx := context.Background()
	a, b := keysOnDifferentPrimaries(t, nodes[0].node.View())
	for _, proto := range []int{2, 3} {
		c := nodes[0].client(t, proto)
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			keys := []string{a, b, "x1", "x2", "x3", "x4", "x5"}
			var pairs []any
			for _, k := range keys {
				pairs = append(pairs, k, "v-"+k)
			}
			if err := c.MSet(ctx, pairs...).Err(); err != nil {
				t.Fatalf("MSET across slots: %v", err)
			}
			vals, err := c.MGet(ctx, append(keys, "missing")...).Result()
			if err != nil || len(vals) != len(keys)+1 || vals[len(keys)] != nil {
				t.Fatalf("MGET = %v, %v", vals, err)
			}
			for i, k := range keys {
				if vals[i] != "v-"+k {
					t.Fatalf("MGET[%d] = %v, want v-%s", i, vals[i], k)
				}
			}
			if n, err := c.Exists(ctx, a, b, "missing", a).Result(); err != nil || n != 3 {
				t.Errorf("EXISTS = %d, %v", n, err)
			}
			if n, err := c.Touch(ctx, a, b).Result(); err != nil || n != 2 {
				t.Errorf("TOUCH = %d, %v", n, err)
			}
			if n, err := c.Unlink(ctx, "x1", "x2").Result(); err != nil || n != 2 {
				t.Errorf("UNLINK = %d, %v", n, err)
			}
			if n, err := c.Del(ctx, keys...).Result(); err != nil || n != int64(len(keys)-2) {
				t.Errorf("DEL = %d, %v", n, err)
			}
			for _, cmd := range [][]any{
				{"MSETNX", a, "1", b, "2"}, {"RENAME", a, b}, {"SMOVE", a, b, "m"},
				{"SINTERSTORE", a, a, b}, {"ZUNIONSTORE", a, "2", a, b}, {"LMOVE", a, b, "LEFT", "LEFT"},
				{"SINTERCARD", "2", a, b},
			} {
				err := c.Do(ctx, cmd...).Err()
				if err == nil || !strings.HasPrefix(err.Error(), "CROSSSLOT") {
					t.Errorf("%v: %v, want CROSSSLOT", cmd, err)
				}
			}
			// Same-slot multi-key commands run on the owner, wherever sent.
			if err := c.MSetNX(ctx, "{u}a", "1", "{u}b", "2").Err(); err != nil {
				t.Errorf("MSETNX same slot: %v", err)
			}
			if err := c.Rename(ctx, "{u}a", "{u}c").Err(); err != nil {
				t.Errorf("RENAME same slot: %v", err)
			}
			c.Del(ctx, "{u}b", "{u}c")
		})
	}
}

func TestClusterTransactions(t *testing.T) {
	tc := startCluster(t, 3, nil)
	nodes := tc.live()
	ctx := context.Background()
	v := nodes[0].node.View()
	// A key owned by another node: MULTI/EXEC is forwarded whole.
	remote := ""
	for i := range 1000 {
		k := "{t" + strconv.Itoa(i) + "}"
		if !v.IsPrimary(ring.Slot([]byte(k))) {
			remote = k
			break
		}
	}
	c := nodes[0].client(t, 2)
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, remote+"a", "1", 0)
		p.Incr(ctx, remote+"n")
		p.Get(ctx, remote+"a")
		return nil
	})
	if err != nil || len(cmds) != 3 || cmds[2].(*redis.StringCmd).Val() != "1" || cmds[1].(*redis.IntCmd).Val() != 1 {
		t.Fatalf("remote transaction: %v, %v", cmds, err)
	}
	// Keys of different slots in one transaction: CROSSSLOT.
	a, b := keysOnDifferentPrimaries(t, v)
	_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, a, "1", 0)
		p.Set(ctx, b, "1", 0)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Fatalf("cross-slot transaction: %v", err)
	}
	// WATCH of a remote key is refused; of a local key it works.
	if err := c.Watch(ctx, func(*redis.Tx) error { return nil }, remote+"a"); err == nil {
		t.Error("WATCH of a remote key succeeded")
	}
}

func TestClusterPubSub(t *testing.T) {
	tc := startCluster(t, 3, nil)
	nodes := tc.live()
	ctx := context.Background()
	var subs []*redis.PubSub
	for _, cn := range nodes {
		ps := cn.client(t, 2).Subscribe(ctx, "news")
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		subs = append(subs, ps)
	}
	if err := nodes[0].client(t, 2).Publish(ctx, "news", "hello").Err(); err != nil {
		t.Fatal(err)
	}
	for i, ps := range subs {
		msg, err := ps.ReceiveTimeout(ctx, 5*time.Second)
		if err != nil {
			t.Fatalf("subscriber on %s: %v", nodes[i].name, err)
		}
		if m, ok := msg.(*redis.Message); !ok || m.Payload != "hello" {
			t.Fatalf("subscriber on %s got %v", nodes[i].name, msg)
		}
	}
}

func TestClusterAwareClients(t *testing.T) {
	tc := startCluster(t, 3, nil)
	nodes := tc.live()
	ctx := context.Background()
	t.Run("go-redis", func(t *testing.T) {
		cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nodes[1].addr}})
		defer cc.Close()
		for i := range 200 {
			if err := cc.Set(ctx, "gr:"+strconv.Itoa(i), i, 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
		p := cc.Pipeline()
		gets := make([]*redis.StringCmd, 200)
		for i := range 200 {
			gets[i] = p.Get(ctx, "gr:"+strconv.Itoa(i))
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for i, g := range gets {
			if g.Val() != strconv.Itoa(i) {
				t.Fatalf("gr:%d = %q", i, g.Val())
			}
		}
		if vals, err := cc.MGet(ctx, "{gr}a", "{gr}b").Result(); err != nil || len(vals) != 2 {
			t.Fatalf("MGET: %v, %v", vals, err)
		}
		// Direct routing: the client reached every node without forwarding.
		var forwarded int64
		for _, cn := range nodes {
			forwarded += cn.srv.forwarded.Load()
		}
		if forwarded != 0 {
			t.Errorf("%d commands forwarded for a cluster-aware client", forwarded)
		}
	})
	t.Run("rueidis", func(t *testing.T) {
		rc, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{nodes[2].addr}, DisableCache: true})
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if _, ok := rc.Nodes()[nodes[0].addr]; !ok || len(rc.Nodes()) != 3 {
			t.Fatalf("rueidis nodes: %v", rc.Nodes())
		}
		for i := range 200 {
			if err := rc.Do(ctx, rc.B().Set().Key("ru:"+strconv.Itoa(i)).Value(strconv.Itoa(i)).Build()).Error(); err != nil {
				t.Fatal(err)
			}
		}
		cmds := make(rueidis.Commands, 200)
		for i := range 200 {
			cmds[i] = rc.B().Get().Key("ru:" + strconv.Itoa(i)).Build()
		}
		for i, r := range rc.DoMulti(ctx, cmds...) {
			if v, err := r.ToString(); err != nil || v != strconv.Itoa(i) {
				t.Fatalf("ru:%d = %q, %v", i, v, err)
			}
		}
		vals, err := rueidis.MGet(rc, ctx, []string{"ru:1", "ru:2", "ru:3", "nope"})
		if err != nil || len(vals) != 4 {
			t.Fatalf("MGet across slots: %v, %v", vals, err)
		}
	})
}

// churn writes and reads continuously through a node that stays up,
// recording every acknowledged key and every read error, until stop.
type churn struct {
	acked    sync.Map // key → value
	n        atomic.Int64
	readErrs atomic.Int64
	lastErr  atomic.Pointer[error]
	wg       sync.WaitGroup
	stop     chan struct{}
}

func startChurn(t testing.TB, c *redis.Client) *churn {
	ch := &churn{stop: make(chan struct{})}
	ctx := context.Background()
	ch.wg.Add(2)
	go func() { // writer
		defer ch.wg.Done()
		for i := 0; ; i++ {
			select {
			case <-ch.stop:
				return
			default:
			}
			k, v := "churn:"+strconv.Itoa(i), "v"+strconv.Itoa(i)
			if err := c.Set(ctx, k, v, 0).Err(); err == nil {
				ch.acked.Store(k, v)
				ch.n.Add(1)
			}
		}
	}()
	go func() { // reader of acknowledged keys
		defer ch.wg.Done()
		for i := 0; ; i++ {
			select {
			case <-ch.stop:
				return
			default:
			}
			n := ch.n.Load()
			if n == 0 {
				continue
			}
			k := "churn:" + strconv.Itoa(int(int64(i)%n))
			want, ok := ch.acked.Load(k)
			if !ok {
				continue
			}
			if got, err := c.Get(ctx, k).Result(); err != nil || got != want {
				e := fmt.Errorf("GET %s = %q, %v; want %q", k, got, err, want)
				ch.lastErr.Store(&e)
				ch.readErrs.Add(1)
			}
		}
	}()
	return ch
}

func (ch *churn) finish() { close(ch.stop); ch.wg.Wait() }

// verify checks every acknowledged key through c.
func (ch *churn) verify(t testing.TB, c *redis.Client) {
	t.Helper()
	ctx := context.Background()
	lost := 0
	ch.acked.Range(func(k, v any) bool {
		if got, err := c.Get(ctx, k.(string)).Result(); err != nil || got != v {
			lost++
			if lost < 5 {
				t.Errorf("acknowledged %s = %q lost: got %q, %v", k, v, got, err)
			}
		}
		return true
	})
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged keys lost", lost, ch.n.Load())
	}
	if n := ch.readErrs.Load(); n > 0 {
		t.Fatalf("%d read errors, last: %v", n, *ch.lastErr.Load())
	}
	t.Logf("%d acknowledged keys all present", ch.n.Load())
}

func TestClusterJoinAndLeave(t *testing.T) {
	for _, replicas := range []int{1, 2} {
		t.Run("replicas="+strconv.Itoa(replicas), func(t *testing.T) {
			tc := startCluster(t, 3, func(c *node.ClusterConfig) { c.Replicas = replicas })
			nodes := tc.live()
			entry := nodes[0].client(t, 2)
			writeKeys(t, entry, 2000)
			ch := startChurn(t, entry)
			// A fourth node joins and takes its share.
			tc.add()
			tc.waitMembers(4)
			tc.waitSettled()
			// A node other than the entry point leaves gracefully.
			tc.leave(nodes[1])
			tc.waitMembers(3)
			tc.waitSettled()
			ch.finish()
			ch.verify(t, entry)
			if err := checkKeys(t, entry, 2000); err != nil {
				t.Fatal(err)
			}
			for _, cn := range tc.live() {
				if st := cn.node.ClusterStats(); st.SlotsPrimary == 0 {
					t.Errorf("%s owns no slot after rebalancing", cn.name)
				}
			}
		})
	}
}

func TestClusterNodeLoss(t *testing.T) {
	tc := startCluster(t, 3, func(c *node.ClusterConfig) { c.Replicas = 2; c.ReplicaAck = true })
	nodes := tc.live()
	entry := nodes[0].client(t, 2)
	writeKeys(t, entry, 5000)
	tc.kill(nodes[2])
	tc.waitMembers(2)
	checkFor(t, 20*time.Second, func() error { return checkKeys(t, entry, 5000) })
	if err := checkKeys(t, nodes[1].client(t, 3), 5000); err != nil {
		t.Fatal(err)
	}
}

func TestClusterReplicaAck(t *testing.T) {
	tc := startCluster(t, 2, func(c *node.ClusterConfig) { c.Replicas = 2; c.ReplicaAck = true })
	nodes := tc.live()
	c := nodes[0].client(t, 2)
	ctx := context.Background()
	// With acknowledged replication, the other node has a key the moment
	// its write is answered.
	for i := range 200 {
		k := "ack:" + strconv.Itoa(i)
		if err := c.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		for _, cn := range nodes {
			if !cn.node.Exists([]byte(k)) {
				t.Fatalf("%s lacks %s right after its write was acknowledged", cn.name, k)
			}
		}
	}
}

func TestClusterMinMembers(t *testing.T) {
	tc := startCluster(t, 1, func(c *node.ClusterConfig) { c.MinMembers = 2 })
	c := tc.live()[0].client(t, 2)
	ctx := context.Background()
	err := c.Set(ctx, "a", "1", 0).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "CLUSTERDOWN") {
		t.Fatalf("write before min-members: %v", err)
	}
	tc.add()
	tc.waitMembers(2)
	checkFor(t, 5*time.Second, func() error { return c.Set(ctx, "a", "1", 0).Err() })
	if err := c.Get(ctx, "a").Err(); err != nil && !errors.Is(err, redis.Nil) {
		t.Fatal(err)
	}
}

// TestClusterRedisCLI drives a cluster with redis-cli -c, pointed at one
// node, as an operator would.
func TestClusterRedisCLI(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not installed (apt-get install redis-tools); .ci/run installs it")
	}
	tc := startCluster(t, 3, nil)
	host, port, _ := strings.Cut(tc.live()[1].addr, ":")
	run := func(args ...string) string {
		out, err := exec.Command(cli, append([]string{"-c", "-h", host, "-p", port}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return strings.TrimRight(string(out), "\n")
	}
	for i := range 20 {
		k := "cli:" + strconv.Itoa(i)
		if got := run("SET", k, "v"+strconv.Itoa(i)); got != "OK" {
			t.Fatalf("SET %s: %q", k, got)
		}
		if got := run("GET", k); got != "v"+strconv.Itoa(i) {
			t.Fatalf("GET %s: %q", k, got)
		}
	}
	if got := run("CLUSTER", "KEYSLOT", "cli:1"); got != strconv.Itoa(ring.Slot([]byte("cli:1"))) {
		t.Fatalf("CLUSTER KEYSLOT: %q", got)
	}
	if got := run("DBSIZE"); got != "20" {
		t.Fatalf("DBSIZE: %q", got)
	}
	if got := run("MSET", "cli:1", "a", "cli:2", "b"); got != "OK" {
		t.Fatalf("MSET across slots: %q", got)
	}
}

// TestClusterBlocking checks that a blocking pop sent to a node that does
// not own the key waits on the owner without stalling other forwarded
// traffic, and is woken by a push made through a third node.
func TestClusterBlocking(t *testing.T) {
	tc := startCluster(t, 3, nil)
	nodes := tc.live()
	ctx := context.Background()
	v := nodes[0].node.View()
	key := ""
	for i := range 1000 {
		k := "queue:" + strconv.Itoa(i)
		if !v.IsPrimary(ring.Slot([]byte(k))) {
			key = k
			break
		}
	}
	waiter := nodes[0].client(t, 2)
	got := make(chan []string, 1)
	go func() {
		r, err := waiter.BLPop(ctx, 10*time.Second, key).Result()
		if err != nil {
			t.Errorf("BLPOP: %v", err)
		}
		got <- r
	}()
	// Other forwarded commands on the same node go on meanwhile.
	other := nodes[0].client(t, 2)
	for i := range 50 {
		if err := other.Set(ctx, "busy:"+strconv.Itoa(i), "x", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	checkFor(t, 5*time.Second, func() error {
		if n := nodes[0].srv.forwarded.Load(); n == 0 {
			return fmt.Errorf("nothing forwarded yet")
		}
		return nil
	})
	var owner *clusterNode
	for _, cn := range nodes {
		if cn.node.View().IsPrimary(ring.Slot([]byte(key))) {
			owner = cn
		}
	}
	checkFor(t, 5*time.Second, func() error {
		if owner.srv.blocking.count.Load() == 0 {
			return fmt.Errorf("BLPOP not parked on the owner %s", owner.name)
		}
		return nil
	})
	if err := nodes[2].client(t, 3).RPush(ctx, key, "job").Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if len(r) != 2 || r[0] != key || r[1] != "job" {
			t.Fatalf("BLPOP = %v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("forwarded BLPOP not woken")
	}
	// A timeout on the owner comes back as a null reply.
	if _, err := waiter.BLPop(ctx, 100*time.Millisecond, key).Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("BLPOP timeout: %v", err)
	}
}

// TestClusterRestartWithPersistence restarts a node from its data
// directory while the others took over: it comes back with its data, keeps
// the slots it owns again and hands the rest on; nothing is lost.
func TestClusterRestartWithPersistence(t *testing.T) {
	dir := t.TempDir()
	withDir := func(c *node.Config) {
		pc := node.PersistenceConfig{Config: persistence.DefaultConfig(), Log: true}
		pc.Dir = dir
		c.Persistence = &pc
	}
	tc := startCluster(t, 2, func(c *node.ClusterConfig) { c.Replicas = 1 })
	p := tc.addNode("persistent", withDir)
	tc.waitMembers(3)
	entry := tc.live()[0].client(t, 2)
	writeKeys(t, entry, 3000)
	tc.waitSettled()
	held := p.node.Len()
	if held == 0 {
		t.Fatal("the persistent node owns nothing")
	}
	// A crash: no hand-off. Its slots have one copy, so they are gone
	// until it returns (replicas 1).
	tc.kill(p)
	tc.waitMembers(2)
	// Writes go on meanwhile to the keys it owned, now owned by others.
	ctx := context.Background()
	for i := range 100 {
		if err := entry.Set(ctx, "key:"+strconv.Itoa(i), "new:"+strconv.Itoa(i), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	back := tc.addNode("persistent", withDir)
	tc.waitMembers(3)
	tc.waitSettled()
	checkFor(t, 20*time.Second, func() error {
		for i := range 3000 {
			want := "value:" + strconv.Itoa(i)
			if i < 100 {
				want = "new:" + strconv.Itoa(i)
			}
			if got, err := entry.Get(ctx, "key:"+strconv.Itoa(i)).Result(); err != nil || got != want {
				return fmt.Errorf("key:%d = %q, %v; want %q", i, got, err, want)
			}
		}
		return nil
	})
	// It holds only the slots it owns (one copy each).
	v := back.node.View()
	for _, slot := range back.node.SlotsWithKeys() {
		if !v.IsOwner(slot) {
			t.Fatalf("the restarted node still holds slot %d, which it does not own", slot)
		}
	}
	t.Logf("held %d keys before the crash, %d after the restart", held, back.node.Len())
}

// TestClusterPipelineOrder pipelines, through one node, commands for keys
// of every node with keyless commands between them: forwards overlap, and
// every reply still comes in command order, each key's commands in order.
func TestClusterPipelineOrder(t *testing.T) {
	tc := startCluster(t, 3, nil)
	entry := tc.live()[0]
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := entry.client(t, proto)
		p := c.Pipeline()
		type check struct {
			cmd  redis.Cmder
			want string
		}
		var checks []check
		counter := "ctr:" + strconv.Itoa(proto)
		for i := range 3000 {
			k := "order:" + strconv.Itoa(proto) + ":" + strconv.Itoa(i%700)
			v := strconv.Itoa(i)
			switch i % 7 {
			case 0:
				checks = append(checks, check{p.Incr(ctx, counter), strconv.Itoa(i/7 + 1)})
			case 3:
				checks = append(checks, check{p.Ping(ctx), "PONG"})
			default:
				checks = append(checks, check{p.Set(ctx, k, v, 0), "OK"})
				checks = append(checks, check{p.Get(ctx, k), v})
			}
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatalf("RESP%d: %v", proto, err)
		}
		for i, ch := range checks {
			var got string
			switch cmd := ch.cmd.(type) {
			case *redis.IntCmd:
				got = strconv.FormatInt(cmd.Val(), 10)
			case *redis.StatusCmd:
				got = cmd.Val()
			case *redis.StringCmd:
				got = cmd.Val()
			}
			if got != ch.want {
				t.Fatalf("RESP%d: reply %d (%v) = %q, want %q", proto, i, ch.cmd.Args(), got, ch.want)
			}
		}
	}
	if n := entry.srv.forwarded.Load(); n == 0 {
		t.Fatal("nothing was forwarded: the test routes nothing")
	}
}
