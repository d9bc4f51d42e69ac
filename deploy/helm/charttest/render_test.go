package charttest

import (
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

// valueSet is one set of values to render the chart with.
type valueSet struct {
	name   string
	values string // YAML, over the chart's defaults
}

// valueSets cover each optional part of the chart.
var valueSets = []valueSet{
	{"defaults", ``},
	{"persistence", `
persistence: {enabled: true, size: 10Gi, storageClass: fast, appendfsync: always}
`},
	{"auth-off", `
auth: {enabled: false}
`},
	{"existing-secret", `
auth: {existingSecret: shop-cache-auth, existingSecretPasswordKey: redis-password}
gossip: {encryption: {enabled: true, existingSecret: shop-gossip, existingSecretKey: key}}
`},
	{"gossip-key", `
gossip: {encryption: {enabled: true, key: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}}
`},
	{"tls", `
tls: {enabled: true, existingSecret: shop-cache-tls, authClients: optional}
`},
	{"metrics", `
metrics:
  serviceMonitor: {enabled: true, labels: {release: prometheus}}
  prometheusRule: {enabled: true, labels: {release: prometheus}}
`},
	{"hpa", `
autoscaling: {enabled: true, minReplicas: 4, maxReplicas: 9}
`},
	{"network-policy-off", `
networkPolicy: {enabled: false}
podAntiAffinity: hard
topologySpreadConstraints: []
`},
	{"restricted-network", `
networkPolicy:
  clients: [{podSelector: {matchLabels: {role: shop-frontend}}}]
  admin: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
replicaCount: 5
cluster: {replicas: 3, minMembers: 4, replicaAck: true}
ports: {resp: 7000, grpc: 7001, peer: 17000, gossip: 8000, admin: 9000}
extraConfig: {timeout: 300}
`},
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
