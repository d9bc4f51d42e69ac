package charttest

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestChartRejects: values that would give a cluster that cannot work fail
// to render, saying why.
func TestChartRejects(t *testing.T) {
	cases := []struct {
		name, values, want string
	}{
		{"min-members above the pods", `{replicaCount: 3, cluster: {minMembers: 4}}`, "cluster.minMembers (4) exceeds"},
		{"min-members above the HPA's minimum", `{autoscaling: {enabled: true, minReplicas: 3}, cluster: {minMembers: 5}}`, "cluster.minMembers (5) exceeds"},
		{"more copies than pods", `{replicaCount: 2, cluster: {replicas: 3, minMembers: 2}}`, "cluster.replicas exceeds"},
		{"grace period shorter than the hand-off", `{terminationGracePeriodSeconds: 68, preStopSleepSeconds: 10}`, "at least 75"},
		{"TLS without a Secret", `{tls: {enabled: true}}`, "tls.existingSecret is needed"},
		{"gossip encryption without a key", `{gossip: {encryption: {enabled: true}}}`, "gossip.encryption.key"},
		{"HPA max below min", `{autoscaling: {enabled: true, minReplicas: 4, maxReplicas: 3}}`, "maxReplicas must be at least"},
		{"port out of range", `{ports: {resp: 65536}}`, "/ports/resp"},
		{"unknown value", `{replicas: 3}`, "additional properties 'replicas' not allowed"},
		{"bad fsync policy", `{persistence: {appendfsync: sometimes}}`, "/persistence/appendfsync"},
		{"bad anti-affinity", `{podAntiAffinity: strict}`, "/podAntiAffinity"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := install(t, tc.values)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestDecodeRejects: the strict decoding and the schema check catch an
// unknown field, a value of the wrong type and an unexpected kind.
func TestDecodeRejects(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		{"unknown field", `
apiVersion: v1
kind: Service
metadata: {name: a}
spec: {ports: [{port: 1, targetPrt: x}]}
`, `unknown field "targetPrt"`},
		{"duplicate field", `
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
data: {a: b}
data: {c: d}
`, `key "data" already set`},
		{"wrong type", `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: a}
spec: {replicas: three}
`, `cannot unmarshal string`},
		{"wrong apiVersion", `
apiVersion: policy/v1beta1
kind: PodDisruptionBudget
metadata: {name: a}
`, `apiVersion "policy/v1beta1", want "policy/v1"`},
		{"unexpected kind", `
apiVersion: v1
kind: Pod
metadata: {name: a}
`, `unexpected kind "Pod"`},
		{"unknown field in a monitoring object", `
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: a}
spec: {endpoints: [{port: admin, intervall: 30s}]}
`, `unknown field`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objs := objects{services: map[string]*corev1.Service{}}
			err := objs.add(tc.doc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestSchemaRejects: the API schema check, run on the manifest as written,
// catches a field it does not declare and a value of the wrong type.
func TestSchemaRejects(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		{"field unknown to the schema", `
apiVersion: v1
kind: Service
metadata: {name: a}
spec: {clusterIp: None}
`, "clusterIp"},
		{"string for an integer", `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: a}
spec: {replicas: "3"}
`, "replicas"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := validateSchema(tc.doc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
