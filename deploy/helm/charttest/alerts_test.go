package charttest

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"sigs.k8s.io/yaml"
)

const (
	// alertsFile is the one source of the alerts: the chart's PrometheusRule
	// renders it, and plainAlertsFile (for Prometheus without the operator)
	// is a link to it.
	alertsFile      = "../cached/files/alerts.yaml"
	plainAlertsFile = "../../prometheus/alerts.yaml"
)

// metricName finds cached's series names in PromQL.
var metricName = regexp.MustCompile(`\bcached_[a-z0-9_]+\b`)

// described finds the metric names in cmd/cached's collectors: the
// metrics.go table's d("name", ...) (prefixed with cached_) and
// prometheus.NewDesc("cached_name", ...).
var described = regexp.MustCompile(`\bd\("([a-z_]+)"|NewDesc\("(cached_[a-z0-9_]+)"`)

// knownMetrics returns the series cached exports, read from the collectors
// of cmd/cached; a histogram (a *_duration_seconds name) stands for its
// _bucket, _sum and _count series.
func knownMetrics(t *testing.T) map[string]bool {
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
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range described.FindAllSubmatch(src, -1) {
			metric := string(m[2])
			if len(m[1]) > 0 {
				metric = "cached_" + string(m[1])
			}
			known[metric] = true
			if strings.HasSuffix(metric, "_duration_seconds") {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					known[metric+suffix] = true
				}
			}
		}
	}
	for _, m := range []string{"cached_memory_used_bytes", "cached_evicted_keys_total", "cached_commands_total", "cached_origin_loads_total"} {
		if !known[m] {
			t.Fatalf("%s: found %d metrics, not %s: the collectors' descriptions were not found", cachedDir, len(known), m)
		}
	}
	return known
}

// unknownMetrics returns the cached_ series expr names that cached does
// not export.
func unknownMetrics(expr string, known map[string]bool) []string {
	var unknown []string
	for _, name := range metricName.FindAllString(expr, -1) {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	return unknown
}

// checkExprMetrics fails for each series expr names that cached does not export.
func checkExprMetrics(t *testing.T, where, expr string, known map[string]bool) {
	t.Helper()
	for _, name := range unknownMetrics(expr, known) {
		t.Errorf("%s: %s is not a metric of cached", where, name)
	}
}

// loadAlerts reads the alerts file strictly as a PrometheusRule's spec.
func loadAlerts(t *testing.T) monitoringv1.PrometheusRuleSpec {
	t.Helper()
	b, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var spec monitoringv1.PrometheusRuleSpec
	if err := yaml.UnmarshalStrict(b, &spec); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	return spec
}

// checkRuleGroups: the rendered PrometheusRule holds the alerts file as it is.
func checkRuleGroups(t *testing.T, groups []monitoringv1.RuleGroup) {
	t.Helper()
	if want := loadAlerts(t).Groups; !reflect.DeepEqual(groups, want) {
		t.Errorf("PrometheusRule groups differ from %s:\n got %+v\nwant %+v", alertsFile, groups, want)
	}
}

// TestAlerts: the alerts cover what issue 8 asks, name only cached's
// metrics, and carry a severity and a summary; the plain rules file is the
// chart's.
func TestAlerts(t *testing.T) {
	spec := loadAlerts(t)
	known := knownMetrics(t)
	known["up"] = true
	alerts := map[string]bool{}
	for _, g := range spec.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("group %s: a rule that is not an alert", g.Name)
				continue
			}
			if alerts[r.Alert] {
				t.Errorf("alert %s twice", r.Alert)
			}
			alerts[r.Alert] = true
			checkExprMetrics(t, "alert "+r.Alert, r.Expr.String(), known)
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("alert %s: severity %q", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s: summary or description missing", r.Alert)
			}
		}
	}
	for _, want := range []string{"CachedNodeDown", "CachedMemoryNearMax", "CachedEvictionStorm", "CachedOriginErrors",
		"CachedReplicationLag", "CachedPersistenceWriteFailing"} {
		if !alerts[want] {
			t.Errorf("no alert %s", want)
		}
	}
	chartCopy, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := os.ReadFile(plainAlertsFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(chartCopy, plain) {
		t.Errorf("%s differs from %s", plainAlertsFile, alertsFile)
	}
}

// TestUnknownMetrics: the metric check finds a misspelt series.
func TestUnknownMetrics(t *testing.T) {
	got := unknownMetrics(`rate(cached_evicted_key_total[5m]) > 0.01 * cached_keys`, knownMetrics(t))
	if strings.Join(got, ",") != "cached_evicted_key_total" {
		t.Errorf("unknown series %v, want [cached_evicted_key_total]", got)
	}
}
