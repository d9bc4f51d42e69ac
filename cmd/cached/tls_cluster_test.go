package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	cachepb "github.com/cached/cached/cache/v1"
)

// TestTLSGRPC serves gRPC over TLS (tls-grpc) with client certificates
// required: a client with one works, plain text and no certificate fail.
func TestTLSGRPC(t *testing.T) {
	ca := newTestCA(t, "ca")
	server, client := ca.issue("server", time.Time{}, time.Time{}), ca.issue("client", time.Time{}, time.Time{})
	grpcPort := strconv.Itoa(freePort(t))
	p := startRun(t, false, "--grpc-port", grpcPort, "--tls-grpc", "yes", "--tls-cert-file", server.CertFile,
		"--tls-key-file", server.KeyFile, "--tls-ca-cert-file", ca.CAFile)
	dialRESP(t, p.port) // up
	addr := "127.0.0.1:" + grpcPort
	health := func(creds credentials.TransportCredentials) error {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "cache.v1.Cache"})
		return err
	}
	if err := health(credentials.NewTLS(clientTLS(ca, &client))); err != nil {
		t.Fatalf("health over TLS with a client certificate: %v", err)
	}
	if err := health(insecure.NewCredentials()); err == nil {
		t.Error("health over plain text: no error")
	}
	if err := health(credentials.NewTLS(clientTLS(ca, nil))); err == nil {
		t.Error("health over TLS without a client certificate: no error")
	}

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(clientTLS(ca, &client))))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := cachepb.NewCacheClient(conn)
	if _, err := c.Set(ctx, &cachepb.SetRequest{Key: []byte("k"), Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if got := dialRESP(t, p.port).do(t, "GET k"); got != "v" {
		t.Fatalf("GET over RESP of a key set over gRPC/TLS: %q", got)
	}
}

// TestTLSCluster runs two nodes with tls-cluster and TLS-only client
// ports: keys written on one are read through the other (forwarded over
// the TLS peer link), the peer port wants a certificate from the CA, and
// cluster-aware clients are told the TLS ports.
func TestTLSCluster(t *testing.T) {
	ca := newTestCA(t, "ca")
	client := ca.issue("client", time.Time{}, time.Time{})
	type tlsNode struct {
		p       *runProc
		tlsPort string
	}
	start := func(name string, join ...string) tlsNode {
		n := tlsNode{tlsPort: strconv.Itoa(freePort(t))}
		cert := ca.issue(name, time.Time{}, time.Time{})
		args := tlsArgs(n.tlsPort, ca, cert, "--port", "", "--tls-cluster", "yes", "--node-name", name,
			"--replicas", "1")
		if len(join) > 0 {
			args = append(args, "--join", join[0])
		}
		n.p = startRun(t, true, args...)
		waitTLS(t, "127.0.0.1:"+n.tlsPort, clientTLS(ca, &client))
		return n
	}
	a := start("a")
	b := start("b", "127.0.0.1:"+a.p.gossip)
	waitMembers(t, 2, a.p, b.p)

	ctx := context.Background()
	ca1 := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + a.tlsPort, TLSConfig: clientTLS(ca, &client), DisableIdentity: true})
	defer ca1.Close()
	cb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + b.tlsPort, TLSConfig: clientTLS(ca, &client), DisableIdentity: true})
	defer cb.Close()
	const keys = 100
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; i < keys; {
		// Until both views hold both nodes a write may race a slot's move:
		// read every key back through the other node, retrying.
		k := "key:" + strconv.Itoa(i)
		err := ca1.Set(ctx, k, "v"+strconv.Itoa(i), 0).Err()
		if err == nil {
			var got string
			got, err = cb.Get(ctx, k).Result()
			if err == nil && got != "v"+strconv.Itoa(i) {
				err = fmt.Errorf("GET %s through b: %q", k, got)
			}
		}
		if err != nil {
			if time.Now().After(deadline) {
				t.Fatalf("key %d: %v", i, err)
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		i++
	}
	if fa, fb := infoField(t, ca1, "cluster_keys_forwarded"), infoField(t, cb, "cluster_keys_forwarded"); fa+fb == 0 {
		t.Fatal("no key was forwarded between the nodes: the peer links were not used")
	}
	slots, err := ca1.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	ports := map[string]bool{}
	for _, s := range slots {
		for _, n := range s.Nodes {
			_, port, _ := net.SplitHostPort(n.Addr)
			ports[port] = true
		}
	}
	if !ports[a.tlsPort] || !ports[b.tlsPort] || len(ports) != 2 {
		t.Errorf("CLUSTER SLOTS ports %v, want the TLS ports %s and %s", ports, a.tlsPort, b.tlsPort)
	}

	// The peer port: mutual TLS with the CA only.
	peer := "127.0.0.1:" + a.p.peer
	if got := peerPing(peer, clientTLS(ca, &client)); got != "+PONG" {
		t.Errorf("peer port with a CA certificate: %q, want +PONG", got)
	}
	other := newTestCA(t, "other")
	intruder := other.issue("intruder", time.Time{}, time.Time{})
	for name, cfg := range map[string]*tls.Config{
		"plain text":                 nil,
		"TLS without a certificate":  clientTLS(ca, nil),
		"TLS with another CA's cert": clientTLS(ca, &intruder),
	} {
		if got := peerPing(peer, cfg); got == "+PONG" {
			t.Errorf("peer port, %s: %q, want refused", name, got)
		}
	}
}

// peerPing sends PING to a peer port over TLS (plain text when cfg is
// nil) and returns the reply line, or the error.
func peerPing(addr string, cfg *tls.Config) string {
	var c net.Conn
	var err error
	d := &net.Dialer{Timeout: 5 * time.Second}
	if cfg == nil {
		c, err = d.Dial("tcp", addr)
	} else {
		c, err = tls.DialWithDialer(d, "tcp", addr, cfg)
	}
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err.Error()
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err.Error()
	}
	return strings.TrimSpace(line)
}

// infoField returns an integer field of INFO.
func infoField(t *testing.T, c *redis.Client, name string) int {
	t.Helper()
	info, err := c.Info(context.Background(), "everything").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("INFO %s: %q", name, v)
			}
			return n
		}
	}
	t.Fatalf("INFO has no %s", name)
	return 0
}

// waitMembers polls the nodes' metrics until each counts want members.
func waitMembers(t *testing.T, want float64, nodes ...*runProc) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok := true
		var got []float64
		for _, p := range nodes {
			m := p.scrape(t)["cached_cluster_members"]
			got = append(got, m)
			ok = ok && m == want
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster members %v, want %v on each node", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
