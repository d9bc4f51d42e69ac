package charttest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
	"sigs.k8s.io/yaml"
)

// chartDir is the chart under test, relative to this package.
const chartDir = "../cached"

// Release name and namespace the chart is rendered for.
const (
	releaseName = "shop"
	namespace   = "cache"
)

// valuesDir holds the value sets the chart is rendered with, one file
// each; .ci/run lints the chart with each of them too.
const valuesDir = "testdata/values"

// valueSet is one set of values to render the chart with.
type valueSet struct {
	name   string // the file's name without .yaml
	values string // YAML, over the chart's defaults
}

// valueSets reads the value sets.
func valueSets(t *testing.T) []valueSet {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(valuesDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no value sets in %s: %v", valuesDir, err)
	}
	var sets []valueSet
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sets = append(sets, valueSet{strings.TrimSuffix(filepath.Base(f), ".yaml"), string(b)})
	}
	return sets
}

// rendered is the output of one client-only install.
type rendered struct {
	manifests []string // one YAML document per object
	notes     string
}

// render renders the chart for vals and fails the test on an error.
func render(t *testing.T, vals string) rendered {
	t.Helper()
	rel, err := install(t, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	var out rendered
	for _, doc := range releaseutil.SplitManifests(rel.Manifest) {
		out.manifests = append(out.manifests, doc)
	}
	out.notes = rel.Info.Notes
	return out
}

// install renders the chart for vals as `helm template` does: a
// client-only dry-run install that contacts no cluster.
func install(t *testing.T, vals string) (*release.Release, error) {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	var values map[string]any
	if err := yaml.Unmarshal([]byte(vals), &values); err != nil {
		t.Fatalf("values: %v", err)
	}
	in := action.NewInstall(&action.Configuration{Log: t.Logf})
	in.DryRun = true
	in.ClientOnly = true
	in.Replace = true
	in.ReleaseName = releaseName
	in.Namespace = namespace
	return in.Run(chrt, values)
}
