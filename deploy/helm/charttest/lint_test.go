package charttest

import (
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"sigs.k8s.io/yaml"
)

// TestLint runs `helm lint --strict` (Helm's own lint action, which the CLI
// calls) with each value set: a warning fails as an error does.
func TestLint(t *testing.T) {
	for _, vs := range valueSets(t) {
		t.Run(vs.name, func(t *testing.T) {
			var values map[string]any
			if err := yaml.Unmarshal([]byte(vs.values), &values); err != nil {
				t.Fatal(err)
			}
			lint := action.NewLint()
			lint.Strict = true
			lint.Namespace = namespace
			res := lint.Run([]string{chartDir}, values)
			if res.TotalChartsLinted != 1 {
				t.Errorf("%d charts linted, want 1", res.TotalChartsLinted)
			}
			for _, err := range res.Errors {
				t.Errorf("lint: %v", err)
			}
		})
	}
}

// TestLintFails: the lint is strict (an unclosed template action fails it).
func TestLintFails(t *testing.T) {
	lint := action.NewLint()
	lint.Strict = true
	if res := lint.Run([]string{"testdata/broken-chart"}, nil); len(res.Errors) == 0 {
		t.Errorf("a broken chart lints clean: %+v", res.Messages)
	}
}
