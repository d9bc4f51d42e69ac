package charttest

import (
	"bytes"
	"os"
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
	metricsGo       = "../../../cmd/cached/metrics.go"
)

// newMetrics are the series the observability work of issue 8 adds beside
// this chart (commands, errors, forwarding, origins, write-behind); histograms are listed by
// their series. Any other cached_ name not in metrics.go fails.
var newMetrics = []string{
	"cached_commands_total", "cached_error_replies_total", "cached_forwarded_requests_total",
	"cached_command_duration_seconds_bucket", "cached_command_duration_seconds_sum", "cached_command_duration_seconds_count",
	"cached_origin_loads_total", "cached_origin_errors_total",
	"cached_origin_load_duration_seconds_bucket", "cached_origin_load_duration_seconds_sum", "cached_origin_load_duration_seconds_count",
	"cached_writebehind_queue_depth", "cached_writebehind_oldest_age_seconds",
}

// metricName finds cached's series names in PromQL.
var metricName = regexp.MustCompile(`\bcached_[a-z0-9_]+\b`)

// knownMetrics returns the series cached exports: every d("name", ...) of
// metrics.go as cached_name, and newMetrics.
func knownMetrics(t *testing.T) map[string]bool {
	t.Helper()
	src, err := os.ReadFile(metricsGo)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`\bd\("([a-z_]+)"`).FindAllSubmatch(src, -1) {
		known["cached_"+string(m[1])] = true
	}
	if !known["cached_memory_used_bytes"] || !known["cached_evicted_keys_total"] {
		t.Fatalf("%s: found %d metrics, not the collector's descriptions", metricsGo, len(known))
	}
	for _, m := range newMetrics {
		known[m] = true
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
