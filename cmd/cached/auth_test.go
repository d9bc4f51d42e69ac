package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cached/cached/protocol/acl"
	"github.com/cached/cached/protocol/resp"
)

func TestReadPasswordFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content, want, err string
	}{
		{"newline", "s3cret\n", "s3cret", ""},
		{"crlf", "s3cret\r\n", "s3cret", ""},
		{"no newline", "s3cret", "s3cret", ""},
		{"one newline only", "s3cret\n\n", "s3cret\n", ""},
		{"inner spaces kept", " a b ", " a b ", ""},
		{"empty", "\n", "", "empty password"},
		{"too long", strings.Repeat("x", maxPasswordFile+1), "", "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := readPasswordFile(path)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := readPasswordFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestLoadConfigSecurity(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(file, []byte("from-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig([]string{"--requirepass-file", file, "--aclfile", "/etc/users.acl"}, env(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.resp.RequirePass != "from-secret" || cfg.resp.ACLFile != "/etc/users.acl" || !cfg.protectedMode {
		t.Errorf("requirepass %q, aclfile %q, protected-mode %v", cfg.resp.RequirePass, cfg.resp.ACLFile, cfg.protectedMode)
	}
	fromEnv := func(k string) (string, bool) {
		if k == "CACHED_REQUIREPASS_FILE" {
			return file, true
		}
		return "", false
	}
	if _, err := loadConfig([]string{"--requirepass", "x"}, fromEnv, io.Discard); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("requirepass and requirepass-file: %v", err)
	}
	if cfg, err := loadConfig([]string{"--protected-mode", "no"}, fromEnv, io.Discard); err != nil || cfg.protectedMode {
		t.Errorf("protected-mode no: %v, %v", cfg, err)
	}
}

func TestProtectedMode(t *testing.T) {
	dir := t.TempDir()
	aclOff := filepath.Join(dir, "off.acl")
	aclOpen := filepath.Join(dir, "open.acl")
	os.WriteFile(aclOff, []byte("user default off nopass ~* &* +@all\nuser app on >pw ~* &* +@all\n"), 0o600)
	os.WriteFile(aclOpen, []byte("user app on >pw ~* &* +@all\n"), 0o600)
	tests := []struct {
		name    string
		args    []string
		refused bool
	}{
		{"loopback", []string{"--bind", "127.0.0.1"}, false},
		{"localhost", []string{"--bind", "localhost"}, false},
		{"ipv6 loopback", []string{"--bind", "::1"}, false},
		{"all interfaces", []string{"--bind", "0.0.0.0"}, true},
		{"a public address", []string{"--bind", "192.0.2.1"}, true},
		{"all interfaces with a password", []string{"--bind", "0.0.0.0", "--requirepass", "pw"}, false},
		{"all interfaces, protected mode off", []string{"--bind", "0.0.0.0", "--protected-mode", "no"}, false},
		{"aclfile with the default user off", []string{"--bind", "0.0.0.0", "--aclfile", aclOff}, false},
		{"aclfile leaving the default user open", []string{"--bind", "0.0.0.0", "--aclfile", aclOpen}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(tt.args, env(), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			users, err := newUsers(cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = checkProtectedMode(cfg, users)
			if refused := errors.Is(err, errProtected); refused != tt.refused {
				t.Fatalf("refused = %v (%v), want %v", refused, err, tt.refused)
			}
		})
	}
	// run refuses before it listens anywhere, and says what to set.
	err := run(context.Background(), []string{"--bind", "0.0.0.0", "--port", "0", "--grpc-port", "0", "--admin-port", "0"}, env(), io.Discard)
	for _, want := range []string{"protected mode", "requirepass", "protected-mode no", "127.0.0.1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("run on 0.0.0.0 without a password: %v, want it to mention %q", err, want)
		}
	}
}

// TestAdminAuth runs the program with a password from a file and an
// aclfile, and checks the admin endpoints and RESP use the same users.
func TestAdminAuth(t *testing.T) {
	dir := t.TempDir()
	passFile := filepath.Join(dir, "pass")
	aclFile := filepath.Join(dir, "users.acl")
	os.WriteFile(passFile, []byte("rootpw\n"), 0o600)
	os.WriteFile(aclFile, []byte("user ops on >opspw ~* &* +@all\nuser app on >apppw ~* &* +@all -@admin\n"), 0o600)
	p := startRun(t, false, "--requirepass-file", passFile, "--aclfile", aclFile)
	p.waitStatus(t, "/healthz", http.StatusOK, 10*time.Second)
	do := func(method, path, user, pass string) int {
		req, _ := http.NewRequest(method, "http://127.0.0.1:"+p.admin+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s: 401 without a challenge", method, path)
		}
		return resp.StatusCode
	}
	tests := []struct {
		method, path, user, pass string
		want                     int
	}{
		{"GET", "/healthz", "", "", 200},
		{"GET", "/readyz", "", "", 200},
		{"GET", "/metrics", "", "", 200},
		{"GET", "/debug/pprof/", "", "", 401},
		{"GET", "/debug/pprof/", "default", "wrong", 401},
		{"GET", "/debug/pprof/", "app", "apppw", 403},
		{"GET", "/debug/pprof/", "default", "rootpw", 200},
		{"GET", "/debug/pprof/", "ops", "opspw", 200},
		{"POST", "/healthz", "", "", 401},
	}
	for _, tt := range tests {
		if got := do(tt.method, tt.path, tt.user, tt.pass); got != tt.want {
			t.Errorf("%s %s as %q: %d, want %d", tt.method, tt.path, tt.user, got, tt.want)
		}
	}

	conn, err := net.Dial("tcp", "127.0.0.1:"+p.port)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	rd := bufio.NewReader(conn)
	for _, tc := range []struct{ cmd, want string }{
		{"GET k\r\n", "-NOAUTH Authentication required.\r\n"},
		{"AUTH rootpw\r\n", "+OK\r\n"},
		{"AUTH app apppw\r\n", "+OK\r\n"},
		{"CONFIG GET maxmemory\r\n", "-NOPERM User app has no permissions to run the 'config|get' command\r\n"},
	} {
		conn.Write([]byte(tc.cmd))
		if line, err := rd.ReadString('\n'); err != nil || line != tc.want {
			t.Fatalf("%q: got %q, %v; want %q", tc.cmd, line, err, tc.want)
		}
	}
}

// TestAdminAuthOpen checks that with no password the admin endpoints stay
// open, unless the default user lacks @admin.
func TestAdminAuthOpen(t *testing.T) {
	users := acl.NewUsers(resp.ACLCatalog())
	inner := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})
	check := func(want int) {
		t.Helper()
		req, _ := http.NewRequest("GET", "/debug/pprof/", nil)
		rec := httptest.NewRecorder()
		requireAdmin(users, inner).ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("status %d, want %d", rec.Code, want)
		}
	}
	check(200)
	if err := users.SetUser("default", []string{"-@admin"}); err != nil {
		t.Fatal(err)
	}
	check(403)
}
