//go:build containers

package containers

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// container is one cached node.
type container struct {
	name, host string // container name; node name (and hostname)
	ip         string // address on the cluster network
	port       int    // host port (127.0.0.1) published for RESP
	admin      int    // host port published for the admin server
	rdb        *redis.Client
}

// cluster is three nodes on two networks: "edge", through which the host
// reaches their published ports, and "net", the internal network they
// gossip, forward and replicate on. Cutting a node off "net" partitions it
// from the others while the host still reaches it.
type cluster struct {
	t         *testing.T
	image     string
	prefix    string
	edge, net string
	nodes     []*container
	// rejoined is when a node last came back: until importWindow after
	// it, slots may still be arriving (see testPartition).
	rejoined time.Time
}

// importWindow is how long a new primary asks previous owners for keys it
// lacks (node.importWindow), plus a margin.
const importWindow = 32 * time.Second

func docker(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

func (c *cluster) docker(args ...string) string {
	c.t.Helper()
	out, err := docker(context.Background(), args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startCluster starts three nodes, with extra flags after the defaults,
// and waits until each sees the others.
func startCluster(t *testing.T, extra ...string) *cluster {
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("container tests skipped: no docker command")
	}
	if out, err := docker(context.Background(), "info", "--format", "{{.ServerVersion}}"); err != nil {
		t.Skipf("container tests skipped: no Docker engine answers (%v)", strings.SplitN(out, "\n", 2)[0])
	}
	image := os.Getenv("CACHED_IMAGE")
	if image == "" {
		image = "cached:dev"
	}
	if _, err := docker(context.Background(), "image", "inspect", image); err != nil {
		t.Fatalf("image %s not found: build it with make image (or set CACHED_IMAGE)", image)
	}
	c := &cluster{t: t, image: image, prefix: fmt.Sprintf("cached-ct-%d-%d", os.Getpid(), rand.IntN(1e6))}
	c.edge, c.net = c.prefix+"-edge", c.prefix+"-net"
	t.Cleanup(c.cleanup)
	c.docker("network", "create", "--label", "cached-ct="+c.prefix, c.edge)
	// The cluster network needs a subnet of our choosing to keep a node's
	// address when it is reconnected (docker network connect --ip), as a
	// pod keeps its IP through a partition. Try a few until one is free,
	// outside Docker's default pools (172.17-31.0.0/16, 192.168.0.0/16),
	// where the edge network and others get theirs.
	var subnet string
	for try := 0; ; try++ {
		subnet = fmt.Sprintf("10.%d.%d.", 200+rand.IntN(50), rand.IntN(250)+2)
		_, err := docker(context.Background(), "network", "create", "--internal", "--label", "cached-ct="+c.prefix,
			"--subnet", subnet+"0/24", c.net)
		if err == nil {
			break
		}
		if try == 10 {
			t.Fatal(err)
		}
	}
	var seeds []string
	for i := range 3 {
		n := &container{name: fmt.Sprintf("%s-%d", c.prefix, i), host: fmt.Sprintf("cached-%d", i),
			ip: subnet + strconv.Itoa(11+i), port: freePort(t), admin: freePort(t)}
		seeds = append(seeds, n.ip+":7946")
		c.nodes = append(c.nodes, n)
	}
	for _, n := range c.nodes {
		args := []string{"create", "--name", n.name, "--hostname", n.host, "--label", "cached-ct=" + c.prefix,
			"--network", c.edge,
			"-p", fmt.Sprintf("127.0.0.1:%d:6379", n.port), "-p", fmt.Sprintf("127.0.0.1:%d:9121", n.admin),
			c.image, "--node-name", n.host, "--protected-mode", "no", "--cluster-enabled", "yes", "--replicas", "2", "--min-members", "3",
			"--advertise-addr", n.ip, "--join", strings.Join(seeds, ",")}
		args = append(args, extra...)
		c.docker(args...)
		c.docker("network", "connect", "--ip", n.ip, c.net, n.name)
		n.rdb = redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", n.port), Protocol: 2,
			DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second,
			MaxRetries: -1, PoolSize: 8})
	}
	for _, n := range c.nodes {
		c.docker("start", n.name)
	}
	c.waitMembers(90*time.Second, 3, 3, 3)
	return c
}

// cleanup dumps the nodes' last logs if the test failed and removes the
// containers and networks.
func (c *cluster) cleanup() {
	ctx := context.Background()
	for _, n := range c.nodes {
		if c.t.Failed() {
			out, _ := docker(ctx, "logs", "--tail", "40", n.name)
			c.t.Logf("--- last logs of %s:\n%s", n.name, out)
		}
		if n.rdb != nil {
			n.rdb.Close()
		}
		docker(ctx, "rm", "-f", "-v", n.name)
	}
	docker(ctx, "network", "rm", c.net)
	docker(ctx, "network", "rm", c.edge)
}

// knownNodes returns cluster_known_nodes of node n's CLUSTER INFO, or -1.
func (n *container) knownNodes() int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	info, err := n.rdb.ClusterInfo(ctx).Result()
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "cluster_known_nodes:"); ok {
			k, _ := strconv.Atoi(v)
			return k
		}
	}
	return -1
}

// waitMembers waits until node i knows want[i] members.
func (c *cluster) waitMembers(within time.Duration, want ...int) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := make([]int, len(c.nodes))
		ok := true
		for i, n := range c.nodes {
			got[i] = n.knownNodes()
			ok = ok && got[i] == want[i]
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("known nodes %v, want %v", got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// metric returns the value of an unlabelled series of node n's /metrics.
func (n *container) metric(name string) (float64, error) {
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", n.admin))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	io.Copy(io.Discard, resp.Body)
	return 0, fmt.Errorf("%s: no such series", name)
}

// dumpGoroutines saves node n's goroutine stacks (from /debug/pprof) to a
// file kept after the test, and returns its name.
func (n *container) dumpGoroutines() string {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/goroutine?debug=2", n.admin))
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	f, err := os.CreateTemp("", "cached-ct-"+n.host+"-goroutines-*.txt")
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	io.Copy(f, resp.Body)
	return f.Name()
}

// waitReplicated waits until no node has changes its replicas lack.
func (c *cluster) waitReplicated(within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok := true
		for _, n := range c.nodes {
			v, err := n.metric("cached_cluster_replication_lag_changes")
			ok = ok && err == nil && v == 0
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatal("replication lag did not reach 0")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// set writes keys[i] = vals[i] through n in pipelined batches.
func set(t *testing.T, n *container, keys, vals []string) {
	t.Helper()
	for lo := 0; lo < len(keys); lo += 200 {
		hi := min(lo+200, len(keys))
		cmds, err := n.rdb.Pipelined(context.Background(), func(p redis.Pipeliner) error {
			for i := lo; i < hi; i++ {
				p.Set(context.Background(), keys[i], vals[i], 0)
			}
			return nil
		})
		if err == nil {
			for _, cmd := range cmds {
				if err = cmd.Err(); err != nil {
					break
				}
			}
		}
		if err != nil {
			t.Fatalf("SET through %s: %v (its goroutines: %s)", n.host, err, n.dumpGoroutines())
		}
	}
}

// mismatches reads keys through n and returns those whose value is not
// want[i] (or all of a batch that failed).
func mismatches(n *container, keys, want []string) []string {
	var bad []string
	for lo := 0; lo < len(keys); lo += 500 {
		hi := min(lo+500, len(keys))
		cmds, _ := n.rdb.Pipelined(context.Background(), func(p redis.Pipeliner) error {
			for i := lo; i < hi; i++ {
				p.Get(context.Background(), keys[i])
			}
			return nil
		})
		for i := lo; i < hi; i++ {
			if i-lo >= len(cmds) {
				bad = append(bad, keys[i])
				continue
			}
			if v, err := cmds[i-lo].(*redis.StringCmd).Result(); err != nil || v != want[i] {
				bad = append(bad, keys[i])
			}
		}
	}
	return bad
}

// waitValues polls until every key reads as want through each of nodes.
func (c *cluster) waitValues(within time.Duration, nodes []*container, keys, want []string) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for {
		var bad []string
		var at *container
		for _, n := range nodes {
			if bad = mismatches(n, keys, want); len(bad) > 0 {
				at = n
				break
			}
		}
		if len(bad) == 0 {
			return
		}
		if time.Now().After(deadline) {
			var detail strings.Builder
			for _, k := range bad[:min(5, len(bad))] {
				fmt.Fprintf(&detail, "\n  %s:", k)
				for _, n := range c.nodes {
					v, err := n.rdb.Get(context.Background(), k).Result()
					fmt.Fprintf(&detail, " %s=%q", n.host, v)
					if err != nil {
						fmt.Fprintf(&detail, "(%v)", err)
					}
				}
			}
			c.t.Fatalf("%d of %d keys wrong through %s:%s", len(bad), len(keys), at.host, detail.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func keyVals(n int, key, val string) ([]string, []string) {
	keys, vals := make([]string, n), make([]string, n)
	for i := range n {
		keys[i], vals[i] = fmt.Sprintf(key, i), fmt.Sprintf(val, i)
	}
	return keys, vals
}

// TestCluster runs the scenarios in order on one three-node cluster.
func TestCluster(t *testing.T) {
	start := time.Now()
	c := startCluster(t)
	parent := t
	t.Logf("three nodes up and joined in %v", time.Since(start).Round(100*time.Millisecond))
	phase := func(name string, f func(t *testing.T)) {
		begin := time.Now()
		if !t.Run(name, func(t *testing.T) {
			c.t = t // the helpers fail the phase, not the parent
			defer func() { c.t = parent }()
			f(t)
		}) {
			t.FailNow()
		}
		t.Logf("%s: %v", name, time.Since(begin).Round(100*time.Millisecond))
	}
	phase("Kill", func(t *testing.T) { testKill(t, c) })
	phase("Partition", func(t *testing.T) { testPartition(t, c) })
	phase("RollingRestart", func(t *testing.T) { testRollingRestart(t, c) })
}

// testKill: with two copies of every slot, killing one node loses no key.
func testKill(t *testing.T, c *cluster) {
	keys, vals := keyVals(2000, "k:%d", "v:%d")
	set(t, c.nodes[0], keys, vals)
	c.waitReplicated(30 * time.Second)
	c.docker("kill", c.nodes[1].name)
	killed := time.Now()
	survivors := []*container{c.nodes[0], c.nodes[2]}
	c.waitValues(60*time.Second, survivors, keys, vals)
	t.Logf("all %d keys readable through both survivors %v after the kill", len(keys), time.Since(killed).Round(100*time.Millisecond))
	c.waitMembers(60*time.Second, 2, -1, 2)
	c.docker("start", c.nodes[1].name)
	c.waitMembers(60*time.Second, 3, 3, 3)
	c.rejoined = time.Now()
	c.waitValues(60*time.Second, c.nodes, keys, vals)
}

// testPartition: a node cut off the cluster network serves alone; writes on
// both sides merge when it is back, the later write of a key winning.
func testPartition(t *testing.T, c *cluster) {
	// A new primary asks the slot's previous owners for each key it lacks
	// for importWindow, and keeps asking a previous owner that has become
	// unreachable: cut off in that window, every write of a new key in
	// such a slot waits for the peer call to time out (5 s) first. Let the
	// window of the restart in testKill pass.
	if wait := time.Until(c.rejoined.Add(importWindow)); wait > 0 {
		t.Logf("waiting %v for the import window of the last restart to pass", wait.Round(time.Second))
		time.Sleep(wait)
	}
	cut := c.nodes[2]
	c.docker("network", "disconnect", c.net, cut.name)
	c.waitMembers(60*time.Second, 2, 2, 1)
	// The same holds for the view changes of the partition itself: both
	// sides go on asking the other for the slots they took over.
	t.Logf("partitioned; waiting %v for the import window of the new views to pass", importWindow)
	time.Sleep(importWindow)
	aKeys, aVals := keyVals(300, "pa:%d", "a:%d")
	bKeys, bVals := keyVals(300, "pb:%d", "b:%d")
	bothKeys, firstVals := keyVals(300, "pc:%d", "first:%d")
	_, lastVals := keyVals(300, "pc:%d", "last:%d")
	set(t, c.nodes[0], aKeys, aVals)
	set(t, c.nodes[1], bothKeys, firstVals)
	time.Sleep(5 * time.Millisecond) // the later write has a later clock
	set(t, cut, bKeys, bVals)
	set(t, cut, bothKeys, lastVals)
	c.docker("network", "connect", "--ip", cut.ip, c.net, cut.name)
	healing := time.Now()
	c.waitMembers(90*time.Second, 3, 3, 3)
	t.Logf("cluster reformed (3 known nodes everywhere) %v after reconnecting", time.Since(healing).Round(100*time.Millisecond))
	keys := append(append([]string{}, aKeys...), bKeys...)
	want := append(append([]string{}, aVals...), bVals...)
	c.waitValues(60*time.Second, c.nodes, keys, want)
	t.Logf("keys written on one side only: all on every node %v after reconnecting", time.Since(healing).Round(100*time.Millisecond))
	// Keys written on both sides end with the later write, on every node.
	c.waitValues(30*time.Second, c.nodes, bothKeys, lastVals)
	t.Logf("keys written on both sides: the later write won on every key %v after reconnecting", time.Since(healing).Round(100*time.Millisecond))
}

// testRollingRestart: each node in turn is stopped (SIGTERM: it hands its
// slots off) and started again while a writer runs; no acknowledged write
// is lost.
func testRollingRestart(t *testing.T, c *cluster) {
	var (
		mu       sync.Mutex
		acked    []int
		failures int
	)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			n := c.nodes[i%len(c.nodes)]
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			err := n.rdb.Set(ctx, "w:"+strconv.Itoa(i), strconv.Itoa(i), 0).Err()
			cancel()
			mu.Lock()
			if err == nil {
				acked = append(acked, i)
			} else {
				failures++
			}
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
		}
	}()
	for _, n := range c.nodes {
		begin := time.Now()
		c.docker("stop", "-t", "30", n.name)
		stopped := time.Since(begin)
		c.docker("start", n.name)
		c.waitMembers(60*time.Second, 3, 3, 3)
		t.Logf("%s: stopped in %v, back and joined in %v", n.host, stopped.Round(100*time.Millisecond),
			time.Since(begin).Round(100*time.Millisecond))
	}
	time.Sleep(time.Second)
	close(stop)
	<-done
	keys, vals := make([]string, len(acked)), make([]string, len(acked))
	for j, i := range acked {
		keys[j], vals[j] = "w:"+strconv.Itoa(i), strconv.Itoa(i)
	}
	t.Logf("writer: %d writes acknowledged, %d failed (refused while a node restarted)", len(acked), failures)
	if len(acked) < 1000 {
		t.Fatalf("only %d writes acknowledged", len(acked))
	}
	c.waitValues(60*time.Second, c.nodes, keys, vals)
}
