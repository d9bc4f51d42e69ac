package charttest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// cachedDir holds the files that declare cached's settings.
const cachedDir = "../../../cmd/cached"

// knownSettings returns the names of cached's settings: the first field of
// each element of every []setting literal in cmd/cached (the settings
// table and the tables it is built from).
func knownSettings(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(cachedDir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			table, ok := n.(*ast.CompositeLit)
			if !ok || !isSettingSlice(table.Type) {
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
	}
	for _, name := range []string{"port", "join", "requirepass-file", "aclfile", "protected-mode", "gossip-key-file", "tls-port"} {
		if !known[name] {
			t.Fatalf("found %d settings in %s, not %q: the settings tables were not found", len(known), cachedDir, name)
		}
	}
	return known
}

// isSettingSlice reports whether expr is the type []setting.
func isSettingSlice(expr ast.Expr) bool {
	at, ok := expr.(*ast.ArrayType)
	if !ok || at.Len != nil {
		return false
	}
	id, ok := at.Elt.(*ast.Ident)
	return ok && id.Name == "setting"
}
