package cachepb

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Pinned code generator versions: the committed files were made with these.
const (
	wantProtoc         = "libprotoc 3.21.12"
	wantProtocGenGo    = "protoc-gen-go v1.36.12"
	wantProtocGenGoRPC = "protoc-gen-go-grpc 1.6.0"
)

const installHint = "apt-get install -y protobuf-compiler; " +
	"go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12; " +
	"go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.0"

// findTool returns the path of a code generator on PATH or in GOPATH/bin.
func findTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("%s not found, cannot check the generated code (install: %s)", name, installHint)
	return ""
}

// toolVersion runs tool --version.
func toolVersion(t *testing.T, tool string) string {
	t.Helper()
	out, err := exec.Command(tool, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v: %s", tool, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestGeneratedUpToDate regenerates the code into a temporary directory and
// fails when the committed files differ: cache.proto was edited without
// running go generate, or the generated files were edited by hand.
func TestGeneratedUpToDate(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	tools := []struct{ name, want string }{
		{"protoc", wantProtoc},
		{"protoc-gen-go", wantProtocGenGo},
		{"protoc-gen-go-grpc", wantProtocGenGoRPC},
	}
	for _, tool := range tools {
		path := findTool(t, tool.name)
		if v := toolVersion(t, path); !strings.HasPrefix(v, tool.want) {
			t.Fatalf("%s is %q, the committed code was generated with %q; install the pinned versions: %s", path, v, tool.want, installHint)
		}
	}
	dir := t.TempDir()
	cmd := exec.Command("sh", "gen.sh", dir)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(findTool(t, "protoc-gen-go"))+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen.sh: %v: %s", err, out)
	}
	for _, name := range []string{"cache.pb.go", "cache_grpc.pb.go"} {
		fresh, err := os.ReadFile(filepath.Join(dir, "cache", "v1", name))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, committed) {
			t.Errorf("%s is stale: run go generate ./cache/v1 and commit the result", name)
		}
	}
}
