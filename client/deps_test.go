package client

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoServerDependencies: the client imports no server package (only
// the generated cachepb may be shared), as etcd fences its client.
func TestNoServerDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	const module = "github.com/cached/cached/"
	forbidden := []string{"node", "protocol", "ring", "persistence", "cmd", "bench", "examples"}
	for _, dep := range strings.Fields(string(out)) {
		rest, ok := strings.CutPrefix(dep, module)
		if !ok {
			continue
		}
		for _, f := range forbidden {
			if rest == f || strings.HasPrefix(rest, f+"/") {
				t.Errorf("client depends on server package %s", dep)
			}
		}
	}
}
