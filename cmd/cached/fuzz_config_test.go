package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadConfig feeds arbitrary flags, CACHED_* variables and YAML files
// to the config loader: it must return a config or a one-line error, never
// panic, and a config it returns must pass the servers' own validation.
func FuzzLoadConfig(f *testing.F) {
	seeds := []struct{ args, envs, file string }{
		{"", "", ""},
		{"--port 7000 --maxmemory 100mb", "", ""},
		{"--join a:1,b:2 --replicas 3", "CACHED_MIN_MEMBERS=2", ""},
		{"", "", "maxmemory: 1gb\nmaxmemory-policy: allkeys-lru\nport: 0\n"},
		{"", "", "client-output-buffer-limit: normal 1mb 0 0 pubsub 2mb 1mb 60\n"},
		{"--proto-inline-max-size 2gb", "", "client-query-buffer-limit: 1mb\n"},
		{"--cluster-enabled yes --port 65535", "", ""},
		{"", "CACHED_TIMEOUT=-1", "timeout: [1]\n"},
		{"--save", "", "save: 1 2 3\n"},
		{"", "", "\x00\xff: {\n"},
		{"", "", "maxmemory: !!binary aGVsbG8=\n"},
		{"", "", "port: 1e400\nreplicas: .inf\n"},
	}
	for _, s := range seeds {
		f.Add(s.args, s.envs, s.file)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, args, envs, file string) {
		argv := strings.Fields(args)
		vars := map[string]string{}
		for _, kv := range strings.Split(envs, ";") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				vars[k] = v
			}
		}
		lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
		if file != "" {
			p := filepath.Join(dir, "cached.yaml")
			if err := os.WriteFile(p, []byte(file), 0o600); err != nil {
				t.Fatal(err)
			}
			argv = append(argv, "--config", p)
		}
		c, err := loadConfig(argv, lookup, io.Discard)
		if err != nil {
			if _, ok := err.(flagError); !ok && strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of several lines: %q", err)
			}
			return
		}
		if err := c.resp.Validate(); err != nil {
			t.Fatalf("accepted a config the RESP server refuses: %v", err)
		}
		if err := c.node.Validate(); err != nil {
			t.Fatalf("accepted a config the node refuses: %v", err)
		}
	})
}
