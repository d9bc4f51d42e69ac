package charttest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// configGo is the file that declares cached's settings.
const configGo = "../../../cmd/cached/config.go"

// newSettings are settings the chart uses that the security work of issue 8
// adds to config.go alongside this chart (passwords and keys from files,
// protected mode, TLS). A name here that config.go does not declare yet is
// accepted; any other unknown name in the rendered config file fails.
var newSettings = []string{
	"requirepass-file", "aclfile", "protected-mode", "gossip-key-file",
	"tls-port", "tls-cert-file", "tls-key-file", "tls-ca-cert-file",
	"tls-auth-clients", "tls-cluster", "tls-grpc",
}

// knownSettings returns the names of cached's settings: the first field of
// each entry of the settings table in config.go, and newSettings.
func knownSettings(t *testing.T) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), configGo, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", configGo, err)
	}
	known := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "settings" || len(vs.Values) != 1 {
			return true
		}
		table, ok := vs.Values[0].(*ast.CompositeLit)
		if !ok {
			return true
		}
		for _, e := range table.Elts {
			entry, ok := e.(*ast.CompositeLit)
			if !ok || len(entry.Elts) == 0 {
				continue
			}
			if lit, ok := entry.Elts[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if name, err := strconv.Unquote(lit.Value); err == nil {
					known[name] = true
				}
			}
		}
		return false
	})
	if len(known) < 20 || !known["port"] || !known["join"] {
		t.Fatalf("found %d settings in %s, not the settings table: %v", len(known), configGo, known)
	}
	for _, name := range newSettings {
		known[name] = true
	}
	return known
}
