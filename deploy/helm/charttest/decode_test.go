package charttest

import (
	"fmt"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/applyconfigurations"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// objects are the rendered objects, decoded into their API types.
type objects struct {
	statefulSet    *appsv1.StatefulSet
	services       map[string]*corev1.Service // by name
	configMap      *corev1.ConfigMap
	secret         *corev1.Secret // nil when every secret is an existing one
	serviceAccount *corev1.ServiceAccount
	pdb            *policyv1.PodDisruptionBudget
	networkPolicy  *networkingv1.NetworkPolicy
	hpa            *autoscalingv2.HorizontalPodAutoscaler
	serviceMonitor *monitoringv1.ServiceMonitor
	prometheusRule *monitoringv1.PrometheusRule
	// metas are every object's kind and metadata.
	metas []objectMeta
}

// objectMeta is an object's kind and metadata.
type objectMeta struct {
	kind string
	meta metav1.ObjectMeta
}

// kinds lists the apiVersion each kind the chart renders must have.
var kinds = map[string]string{
	"StatefulSet":             "apps/v1",
	"Service":                 "v1",
	"ConfigMap":               "v1",
	"Secret":                  "v1",
	"ServiceAccount":          "v1",
	"PodDisruptionBudget":     "policy/v1",
	"NetworkPolicy":           "networking.k8s.io/v1",
	"HorizontalPodAutoscaler": "autoscaling/v2",
	"ServiceMonitor":          "monitoring.coreos.com/v1",
	"PrometheusRule":          "monitoring.coreos.com/v1",
}

// typeConverter validates built-in objects against the API's schema.
var typeConverter = applyconfigurations.NewTypeConverter(scheme.Scheme)

// decode decodes every manifest strictly (an unknown or duplicate field
// fails) into its API type and, for built-in kinds, checks the manifest
// against the OpenAPI schema (a value of the wrong type fails).
func decode(t *testing.T, manifests []string) objects {
	t.Helper()
	objs := objects{services: map[string]*corev1.Service{}}
	for _, doc := range manifests {
		if err := objs.add(doc); err != nil {
			t.Errorf("%v\n%s", err, doc)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return objs
}

// add decodes one manifest into objs.
func (objs *objects) add(doc string) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
		return err
	}
	if want, ok := kinds[tm.Kind]; !ok {
		return fmt.Errorf("unexpected kind %q", tm.Kind)
	} else if tm.APIVersion != want {
		return fmt.Errorf("%s: apiVersion %q, want %q", tm.Kind, tm.APIVersion, want)
	}
	var obj metav1.Object
	switch tm.Kind {
	case "StatefulSet":
		if objs.statefulSet != nil {
			return fmt.Errorf("a second StatefulSet")
		}
		objs.statefulSet = &appsv1.StatefulSet{}
		obj = objs.statefulSet
	case "Service":
		s := &corev1.Service{}
		obj = s
		defer func() { objs.services[s.Name] = s }()
	case "ConfigMap":
		objs.configMap = &corev1.ConfigMap{}
		obj = objs.configMap
	case "Secret":
		objs.secret = &corev1.Secret{}
		obj = objs.secret
	case "ServiceAccount":
		objs.serviceAccount = &corev1.ServiceAccount{}
		obj = objs.serviceAccount
	case "PodDisruptionBudget":
		objs.pdb = &policyv1.PodDisruptionBudget{}
		obj = objs.pdb
	case "NetworkPolicy":
		objs.networkPolicy = &networkingv1.NetworkPolicy{}
		obj = objs.networkPolicy
	case "HorizontalPodAutoscaler":
		objs.hpa = &autoscalingv2.HorizontalPodAutoscaler{}
		obj = objs.hpa
	case "ServiceMonitor":
		objs.serviceMonitor = &monitoringv1.ServiceMonitor{}
		obj = objs.serviceMonitor
	case "PrometheusRule":
		objs.prometheusRule = &monitoringv1.PrometheusRule{}
		obj = objs.prometheusRule
	}
	if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
		return fmt.Errorf("%s: strict decoding: %v", tm.Kind, err)
	}
	if tm.GroupVersionKind().Group != "monitoring.coreos.com" {
		if err := validateSchema(doc); err != nil {
			return fmt.Errorf("%s %s: %v", tm.Kind, obj.GetName(), err)
		}
	}
	objs.metas = append(objs.metas, objectMeta{kind: tm.Kind, meta: metav1.ObjectMeta{
		Name: obj.GetName(), Namespace: obj.GetNamespace(), Labels: obj.GetLabels(), Annotations: obj.GetAnnotations(),
	}})
	return nil
}

// validateSchema parses the manifest as it is, not as decoded into a Go
// type, with the structured-merge-diff schema of its kind: a field the
// schema does not know or a value of the wrong type is an error.
func validateSchema(doc string) error {
	j, err := yaml.YAMLToJSONStrict([]byte(doc))
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil {
		return err
	}
	_, err = typeConverter.ObjectToTyped(u)
	return err
}
