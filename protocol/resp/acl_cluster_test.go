package resp

import (
	"bufio"
	"net"
	"strconv"
	"testing"

	"github.com/cached/cached/ring"
)

// TestACLCluster checks that peer links are not subject to users or
// passwords, that a client's command is checked on the node it is
// connected to before being forwarded, and that users are per node.
func TestACLCluster(t *testing.T) {
	tc := startCluster(t, 2, nil)
	tc.waitSettled()
	nodes := tc.live()
	entry, other := nodes[0], nodes[1]
	remoteKey := func(prefix string) string {
		v := entry.node.View()
		for i := range 10000 {
			k := prefix + strconv.Itoa(i)
			if !v.IsPrimary(ring.Slot([]byte(k))) {
				return k
			}
		}
		t.Fatal("no key owned by another node")
		return ""
	}
	dial := func(addr string) *rawConn {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return &rawConn{t: t, conn: conn, rd: bufio.NewReader(conn)}
	}
	// Passwords on both nodes: their peer links still work.
	for _, cn := range nodes {
		r := dial(cn.addr)
		r.expect("+OK\r\n", "CONFIG", "SET", "requirepass", "root")
		r.expect("+OK\r\n", "AUTH", "root")
		r.expect("+OK\r\n", "ACL", "SETUSER", "app", "on", ">pw", "~app:*", "+get", "+set")
	}
	admin := dial(other.addr)
	admin.expect("+OK\r\n", "AUTH", "root")
	admin.expect("+OK\r\n", "ACL", "SETUSER", "app", "~other:*")

	r := dial(entry.addr)
	r.expect("+OK\r\n", "AUTH", "app", "pw")
	appKey, otherKey := remoteKey("app:"), remoteKey("other:")
	r.expect("+OK\r\n", "SET", appKey, "v")
	r.expect("$1\r\nv\r\n", "GET", appKey)
	// The owner would allow other:*, but the entry node decides.
	r.expect("-"+noPermKey+"\r\n", "GET", otherKey)
	r.expect("-NOPERM User app has no permissions to run the 'del' command\r\n", "DEL", appKey)
	admin.expect("$1\r\nv\r\n", "GET", appKey)
}
