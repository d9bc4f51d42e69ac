package charttest

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// leaveTimeout is how long cached's shutdown may spend handing slots off
// (cmd/cached/main.go); the grace period must cover it.
const leaveTimeout = 60

// configPorts maps the config file's port settings to the container ports
// they open, by name.
var configPorts = map[string][]string{
	"port":        {"resp"},
	"grpc-port":   {"grpc"},
	"peer-port":   {"peer"},
	"gossip-port": {"gossip", "gossip-udp"},
	"admin-port":  {"admin"},
	"tls-port":    {"tls"},
}

func TestChart(t *testing.T) {
	known := knownSettings(t)
	for _, vs := range valueSets(t) {
		t.Run(vs.name, func(t *testing.T) {
			out := render(t, vs.values)
			objs := decode(t, out.manifests)
			var values map[string]any
			if err := yaml.Unmarshal([]byte(vs.values), &values); err != nil {
				t.Fatal(err)
			}
			c := &chartCheck{T: t, objs: objs, values: values}
			c.names()
			c.statefulSet()
			c.services()
			cfg := c.configFile(known)
			c.configMatchesPod(cfg)
			c.probesAndShutdown()
			c.security()
			c.secrets(cfg)
			c.disruptionBudget()
			c.networkPolicy()
			c.autoscaler()
			c.monitoring()
			if !strings.Contains(out.notes, objs.statefulSet.Name) {
				t.Errorf("NOTES.txt does not name the release's objects:\n%s", out.notes)
			}
		})
	}
}

// chartCheck asserts what the API schema cannot about one rendering.
type chartCheck struct {
	*testing.T
	objs   objects
	values map[string]any // the value set, over the defaults
}

// value returns the value at a dotted path of the value set, nil if unset.
func (c *chartCheck) value(path string) any {
	var v any = c.values
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func (c *chartCheck) pod() *corev1.PodTemplateSpec { return &c.objs.statefulSet.Spec.Template }

func (c *chartCheck) container() *corev1.Container {
	cs := c.pod().Spec.Containers
	if len(cs) != 1 {
		c.Fatalf("%d containers, want 1", len(cs))
	}
	return &cs[0]
}

// selects reports whether sel selects the StatefulSet's pods.
func (c *chartCheck) selects(sel *metav1.LabelSelector) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		c.Errorf("selector %v: %v", sel, err)
		return false
	}
	return !s.Empty() && s.Matches(labels.Set(c.pod().Labels))
}

// containerPort returns the container port named name.
func (c *chartCheck) containerPort(name string) (corev1.ContainerPort, bool) {
	for _, p := range c.container().Ports {
		if p.Name == name {
			return p, true
		}
	}
	return corev1.ContainerPort{}, false
}

// names: every object is in the release's namespace with a valid name and
// labels; the pods' names, their DNS names and port names are valid.
func (c *chartCheck) names() {
	for _, o := range c.objs.metas {
		if o.meta.Namespace != namespace {
			c.Errorf("%s %s: namespace %q, want %q", o.kind, o.meta.Name, o.meta.Namespace, namespace)
		}
		errs := validation.IsDNS1123Subdomain(o.meta.Name)
		if o.kind == "Service" || o.kind == "StatefulSet" {
			errs = append(errs, validation.IsDNS1035Label(o.meta.Name)...)
		}
		for k, v := range o.meta.Labels {
			errs = append(errs, validation.IsQualifiedName(k)...)
			errs = append(errs, validation.IsValidLabelValue(v)...)
		}
		for _, e := range errs {
			c.Errorf("%s %q: %s", o.kind, o.meta.Name, e)
		}
	}
	sts := c.objs.statefulSet
	// The controller-revision-hash label is the StatefulSet's name and 11
	// more characters; a label value has at most 63.
	if len(sts.Name)+11 > validation.LabelValueMaxLength {
		c.Errorf("StatefulSet name %q too long for its pods' controller-revision-hash label", sts.Name)
	}
	last := sts.Name + "-" + strconv.Itoa(c.maxPods()-1)
	for _, e := range validation.IsDNS1123Label(last) {
		c.Errorf("pod name %q: %s", last, e)
	}
	for _, p := range c.container().Ports {
		for _, e := range validation.IsValidPortName(p.Name) {
			c.Errorf("container port name %q: %s", p.Name, e)
		}
	}
}

// maxPods is the most pods the StatefulSet may have.
func (c *chartCheck) maxPods() int {
	if c.objs.hpa != nil {
		return int(c.objs.hpa.Spec.MaxReplicas)
	}
	return int(*c.objs.statefulSet.Spec.Replicas)
}

// minPods is the pods a fresh cluster starts with.
func (c *chartCheck) minPods() int {
	if c.objs.hpa != nil {
		return int(*c.objs.hpa.Spec.MinReplicas)
	}
	return int(*c.objs.statefulSet.Spec.Replicas)
}

// headless returns the Service the StatefulSet names.
func (c *chartCheck) headless() *corev1.Service {
	s, ok := c.objs.services[c.objs.statefulSet.Spec.ServiceName]
	if !ok {
		c.Fatalf("serviceName %q is not a rendered Service", c.objs.statefulSet.Spec.ServiceName)
	}
	return s
}

// statefulSet: the selector matches the pods, serviceName is the headless
// Service, pods start in parallel, volumes are all defined.
func (c *chartCheck) statefulSet() {
	sts := c.objs.statefulSet
	if !c.selects(sts.Spec.Selector) {
		c.Errorf("StatefulSet selector %v does not match the pod labels %v", sts.Spec.Selector, c.pod().Labels)
	}
	h := c.headless()
	if h.Spec.ClusterIP != corev1.ClusterIPNone || !h.Spec.PublishNotReadyAddresses {
		c.Errorf("serviceName %s: clusterIP %q, publishNotReadyAddresses %v; want a headless Service publishing not-ready pods",
			h.Name, h.Spec.ClusterIP, h.Spec.PublishNotReadyAddresses)
	}
	if sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		c.Errorf("podManagementPolicy %q, want Parallel", sts.Spec.PodManagementPolicy)
	}
	if (c.objs.hpa != nil) != (sts.Spec.Replicas == nil) {
		c.Errorf("replicas set %v with an HPA %v: the HPA owns the count, else the StatefulSet", sts.Spec.Replicas != nil, c.objs.hpa != nil)
	}
	if sts.Spec.Replicas == nil && c.objs.hpa == nil {
		c.FailNow()
	}
	vols := map[string]bool{}
	for _, v := range c.pod().Spec.Volumes {
		if vols[v.Name] {
			c.Errorf("volume %q twice", v.Name)
		}
		vols[v.Name] = true
	}
	for _, pvc := range sts.Spec.VolumeClaimTemplates {
		vols[pvc.Name] = true
	}
	for _, m := range c.container().VolumeMounts {
		if !vols[m.Name] {
			c.Errorf("volumeMount %q names no volume or claim template", m.Name)
		}
	}
	persistent := c.value("persistence.enabled") == true
	if persistent != (len(sts.Spec.VolumeClaimTemplates) == 1) {
		c.Errorf("persistence %v but %d volumeClaimTemplates", persistent, len(sts.Spec.VolumeClaimTemplates))
	}
	if c.pod().Spec.AutomountServiceAccountToken == nil || *c.pod().Spec.AutomountServiceAccountToken {
		c.Errorf("the pod mounts a service account token; cached calls no Kubernetes API")
	}
	if sa := c.objs.serviceAccount; sa == nil || sa.Name != c.pod().Spec.ServiceAccountName {
		c.Errorf("serviceAccountName %q is not the rendered ServiceAccount", c.pod().Spec.ServiceAccountName)
	}
	for _, ts := range c.pod().Spec.TopologySpreadConstraints {
		if !c.selects(ts.LabelSelector) {
			c.Errorf("topologySpreadConstraint %s does not select the pods", ts.TopologyKey)
		}
	}
	if a := c.pod().Spec.Affinity; a != nil && a.PodAntiAffinity != nil {
		for _, term := range a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			if !c.selects(term.LabelSelector) {
				c.Errorf("required anti-affinity does not select the pods")
			}
		}
		for _, w := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			if !c.selects(w.PodAffinityTerm.LabelSelector) {
				c.Errorf("preferred anti-affinity does not select the pods")
			}
		}
	}
}

// services: both Services select the pods; every Service port is in range
// and targets a container port of the same number and protocol.
func (c *chartCheck) services() {
	if len(c.objs.services) != 2 {
		c.Errorf("%d Services, want the headless one and the client one", len(c.objs.services))
	}
	h := c.headless()
	var client *corev1.Service
	for _, s := range c.objs.services {
		if s != h {
			client = s
		}
		if !c.selects(&metav1.LabelSelector{MatchLabels: s.Spec.Selector}) {
			c.Errorf("Service %s selector %v does not match the pods", s.Name, s.Spec.Selector)
		}
		for _, p := range s.Spec.Ports {
			if p.Port < 1 || p.Port > 65535 {
				c.Errorf("Service %s port %s: %d out of range", s.Name, p.Name, p.Port)
			}
			if p.TargetPort.Type != intstr.String {
				c.Errorf("Service %s port %s: targetPort %v, want a container port's name", s.Name, p.Name, p.TargetPort)
				continue
			}
			cp, ok := c.containerPort(p.TargetPort.StrVal)
			if !ok {
				c.Errorf("Service %s port %s: targetPort %q names no container port", s.Name, p.Name, p.TargetPort.StrVal)
				continue
			}
			if cp.ContainerPort != p.Port || cp.Protocol != p.Protocol {
				c.Errorf("Service %s port %s: %d/%s, container port %s: %d/%s", s.Name, p.Name, p.Port, p.Protocol, cp.Name, cp.ContainerPort, cp.Protocol)
			}
		}
	}
	if client == nil {
		c.FailNow()
	}
	tls := c.value("tls.enabled") == true
	want := map[string]bool{"resp": !tls || c.value("tls.plaintext") != false, "grpc": true, "tls": tls}
	for _, p := range client.Spec.Ports {
		if !want[p.Name] {
			c.Errorf("client Service %s exposes %s", client.Name, p.Name)
		}
		delete(want, p.Name)
	}
	for name, w := range want {
		if w {
			c.Errorf("client Service %s lacks port %s", client.Name, name)
		}
	}
	peerPorts := map[string]bool{}
	for _, p := range h.Spec.Ports {
		peerPorts[p.Name] = true
	}
	for _, name := range []string{"gossip", "gossip-udp", "peer"} {
		if !peerPorts[name] {
			c.Errorf("headless Service %s lacks port %s", h.Name, name)
		}
	}
	for _, p := range c.container().Ports {
		if p.ContainerPort < 1 || p.ContainerPort > 65535 {
			c.Errorf("container port %s: %d out of range", p.Name, p.ContainerPort)
		}
	}
}

// configFile parses the ConfigMap's config file and checks every key is a
// setting of cached.
func (c *chartCheck) configFile(known map[string]bool) map[string]string {
	cm := c.objs.configMap
	if cm == nil {
		c.Fatalf("no ConfigMap")
	}
	text, ok := cm.Data["cached.yaml"]
	if !ok {
		c.Fatalf("ConfigMap %s has no cached.yaml", cm.Name)
	}
	var cfg map[string]string
	if err := yaml.UnmarshalStrict([]byte(text), &cfg); err != nil {
		c.Fatalf("config file: %v\n%s", err, text)
	}
	for k := range cfg {
		if !known[k] {
			c.Errorf("config file: %q is not a setting of cached", k)
		}
	}
	return cfg
}

// configMatchesPod: the container reads the config file from the mounted
// ConfigMap; its ports, join address, node name and advertised address
// agree with the pod, the Services and the StatefulSet.
func (c *chartCheck) configMatchesPod(cfg map[string]string) {
	ctr := c.container()
	var path string
	for _, a := range ctr.Args {
		if p, ok := strings.CutPrefix(a, "--config="); ok {
			path = p
		}
	}
	if path == "" {
		c.Fatalf("args %v: no --config", ctr.Args)
	}
	mounted := false
	for _, m := range ctr.VolumeMounts {
		for _, v := range c.pod().Spec.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil && v.ConfigMap.Name == c.objs.configMap.Name &&
				path == m.MountPath+"/cached.yaml" && m.SubPath == "" {
				mounted = true
			}
		}
	}
	if !mounted {
		c.Errorf("--config=%s is not the ConfigMap's cached.yaml as mounted", path)
	}

	for setting, names := range configPorts {
		v, set := cfg[setting]
		set = set && v != "" // port "": TLS only
		for _, name := range names {
			cp, ok := c.containerPort(name)
			if !set {
				if ok {
					c.Errorf("container port %s is open but the config file has no %s", name, setting)
				}
				continue
			}
			if !ok {
				c.Errorf("config %s=%s but no container port %s", setting, v, name)
				continue
			}
			if strconv.Itoa(int(cp.ContainerPort)) != v {
				c.Errorf("config %s=%s, container port %s=%d", setting, v, name, cp.ContainerPort)
			}
		}
	}
	for _, setting := range []string{"port", "grpc-port", "peer-port", "gossip-port", "admin-port"} {
		if _, ok := cfg[setting]; !ok {
			c.Errorf("config file lacks %s (the chart's ports must not depend on defaults)", setting)
		}
	}
	if cfg["bind"] != "0.0.0.0" {
		c.Errorf("bind %q: the pod must listen on its own address", cfg["bind"])
	}
	if cfg["cluster-enabled"] != "yes" {
		c.Errorf("cluster-enabled %q, want yes", cfg["cluster-enabled"])
	}

	host, port, err := net.SplitHostPort(cfg["join"])
	if err != nil {
		c.Fatalf("join %q: %v", cfg["join"], err)
	}
	wantHost := fmt.Sprintf("%s.%s.svc.cluster.local", c.headless().Name, namespace)
	if host != wantHost || port != cfg["gossip-port"] {
		c.Errorf("join %q, want the headless Service %s:%s", cfg["join"], wantHost, cfg["gossip-port"])
	}
	minMembers, err := strconv.Atoi(cfg["min-members"])
	if err != nil || minMembers < 1 || minMembers > c.minPods() {
		c.Errorf("min-members %q: want 1..%d (the pods a fresh cluster starts with)", cfg["min-members"], c.minPods())
	}
	if want := c.value("cluster.minMembers"); want != nil && fmt.Sprint(want) != cfg["min-members"] {
		c.Errorf("min-members %q, cluster.minMembers %v", cfg["min-members"], want)
	}
	replicas, err := strconv.Atoi(cfg["replicas"])
	if err != nil || replicas < 1 || replicas > c.minPods() {
		c.Errorf("replicas %q: want 1..%d", cfg["replicas"], c.minPods())
	}

	env := map[string]string{}
	for _, e := range ctr.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			env[e.Name] = e.ValueFrom.FieldRef.FieldPath
		}
	}
	if env["CACHED_NODE_NAME"] != "metadata.name" {
		c.Errorf("CACHED_NODE_NAME from %q, want the pod's name (metadata.name)", env["CACHED_NODE_NAME"])
	}
	// memberlist advertises an IP address, not a name.
	if env["CACHED_ADVERTISE_ADDR"] != "status.podIP" {
		c.Errorf("CACHED_ADVERTISE_ADDR from %q, want the pod's IP (status.podIP)", env["CACHED_ADVERTISE_ADDR"])
	}
	for _, setting := range []string{"node-name", "advertise-addr"} {
		if _, ok := cfg[setting]; ok {
			c.Errorf("config file sets %s, which differs per pod", setting)
		}
	}

	persistent := c.value("persistence.enabled") == true
	if persistent {
		if cfg["dir"] != "/data" {
			c.Errorf("persistence on but dir %q", cfg["dir"])
		}
		if !c.mountedFrom("/data", "data") {
			c.Errorf("dir /data is not the claim template's volume")
		}
		if got, want := cfg["appendfsync"], fmt.Sprint(c.value("persistence.appendfsync")); c.value("persistence.appendfsync") != nil && got != want {
			c.Errorf("appendfsync %q, want %q", got, want)
		}
	} else if _, ok := cfg["dir"]; ok {
		c.Errorf("persistence off but dir %q", cfg["dir"])
	}
}

// mountedFrom reports whether the container mounts volume at path.
func (c *chartCheck) mountedFrom(path, volume string) bool {
	for _, m := range c.container().VolumeMounts {
		if m.MountPath == path && m.Name == volume {
			return true
		}
	}
	return false
}

// probesAndShutdown: probes ask the admin port's /healthz and /readyz; the
// grace period covers preStop and the slot hand-off.
func (c *chartCheck) probesAndShutdown() {
	ctr := c.container()
	probes := []struct {
		kind  string
		probe *corev1.Probe
		path  string
	}{
		{"startupProbe", ctr.StartupProbe, "/healthz"},
		{"livenessProbe", ctr.LivenessProbe, "/healthz"},
		{"readinessProbe", ctr.ReadinessProbe, "/readyz"},
	}
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil {
			c.Errorf("%s: want an HTTP GET of %s", p.kind, p.path)
			continue
		}
		g := p.probe.HTTPGet
		cp, ok := c.containerPort(g.Port.String())
		if g.Port.Type != intstr.String || !ok || cp.Name != "admin" || g.Path != p.path {
			c.Errorf("%s: GET %s on port %v, want %s on the admin port", p.kind, g.Path, g.Port.String(), p.path)
		}
	}
	pre := ctr.Lifecycle
	if pre == nil || pre.PreStop == nil || pre.PreStop.Sleep == nil {
		c.Fatalf("no preStop sleep")
	}
	grace := c.pod().Spec.TerminationGracePeriodSeconds
	if need := pre.PreStop.Sleep.Seconds + leaveTimeout + 5; grace == nil || *grace < need {
		c.Errorf("terminationGracePeriodSeconds %v: preStop (%ds) and the hand-off (%ds) need at least %d", grace, pre.PreStop.Sleep.Seconds, leaveTimeout, need)
	}
}

// security: non-root, read-only root, no privilege escalation, no
// capabilities, RuntimeDefault seccomp.
func (c *chartCheck) security() {
	ctr := c.container()
	sc, psc := ctr.SecurityContext, c.pod().Spec.SecurityContext
	if sc == nil || psc == nil {
		c.Fatalf("securityContext missing: pod %v, container %v", psc, sc)
	}
	isTrue := func(b *bool) bool { return b != nil && *b }
	if !isTrue(sc.RunAsNonRoot) && !isTrue(psc.RunAsNonRoot) {
		c.Errorf("runAsNonRoot not set")
	}
	if (sc.RunAsUser != nil && *sc.RunAsUser == 0) || (psc.RunAsUser != nil && *psc.RunAsUser == 0) {
		c.Errorf("runs as uid 0")
	}
	if !isTrue(sc.ReadOnlyRootFilesystem) {
		c.Errorf("readOnlyRootFilesystem not set")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		c.Errorf("allowPrivilegeEscalation not false")
	}
	if sc.Privileged != nil && *sc.Privileged {
		c.Errorf("privileged")
	}
	if sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 {
		c.Errorf("capabilities %v, want drop [ALL] and none added", sc.Capabilities)
	}
	seccomp := sc.SeccompProfile
	if seccomp == nil {
		seccomp = psc.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		c.Errorf("seccompProfile %v, want RuntimeDefault", seccomp)
	}
	if _, ok := ctr.Resources.Limits[corev1.ResourceMemory]; !ok {
		c.Errorf("no memory limit")
	}
	if _, ok := ctr.Resources.Requests[corev1.ResourceCPU]; !ok {
		c.Errorf("no CPU request")
	}
}

// secrets: auth, gossip key and TLS come from mounted Secrets, each the
// chart's own (holding the key) or the existing one named in the values;
// auth off sets protected-mode no.
func (c *chartCheck) secrets(cfg map[string]string) {
	authOn := c.value("auth.enabled") != false
	if authOn {
		c.secretFile(cfg, "requirepass-file", "auth.existingSecret", "password")
		if _, ok := cfg["protected-mode"]; ok {
			c.Errorf("auth on but protected-mode set to %q", cfg["protected-mode"])
		}
	} else {
		if _, ok := cfg["requirepass-file"]; ok {
			c.Errorf("auth off but requirepass-file set")
		}
		if cfg["protected-mode"] != "no" {
			c.Errorf("auth off: protected-mode %q, want no (cached refuses a non-loopback bind without a password)", cfg["protected-mode"])
		}
	}
	if c.value("gossip.encryption.enabled") == true {
		c.secretFile(cfg, "gossip-key-file", "gossip.encryption.existingSecret", "gossip-key")
	} else if _, ok := cfg["gossip-key-file"]; ok {
		c.Errorf("gossip encryption off but gossip-key-file set")
	}
	if c.value("tls.enabled") == true {
		for _, s := range []string{"tls-cert-file", "tls-key-file", "tls-ca-cert-file"} {
			c.secretFile(cfg, s, "tls.existingSecret", "")
		}
		for _, s := range []string{"tls-port", "tls-auth-clients", "tls-cluster", "tls-grpc"} {
			if cfg[s] == "" {
				c.Errorf("TLS on but %s unset", s)
			}
		}
	} else {
		for k := range cfg {
			if strings.HasPrefix(k, "tls-") {
				c.Errorf("TLS off but %s set", k)
			}
		}
	}
	if s := c.objs.secret; s != nil {
		if s.Name != c.objs.statefulSet.Name {
			c.Errorf("Secret %q, want the release's full name", s.Name)
		}
		if s.StringData != nil {
			c.Errorf("Secret %s uses stringData", s.Name)
		}
	}
}

// secretFile checks that the file a setting names is mounted from a Secret
// volume: the chart's Secret, holding ownKey, unless the value at
// existingPath names one. An empty ownKey means only an existing Secret is
// allowed.
func (c *chartCheck) secretFile(cfg map[string]string, setting, existingPath, ownKey string) {
	file, ok := cfg[setting]
	if !ok {
		c.Errorf("%s unset", setting)
		return
	}
	for _, m := range c.container().VolumeMounts {
		dir, name, _ := strings.Cut(strings.TrimPrefix(file, m.MountPath+"/"), "/")
		if name != "" || !strings.HasPrefix(file, m.MountPath+"/") {
			continue
		}
		for _, v := range c.pod().Spec.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			var key string
			for _, it := range v.Secret.Items {
				if it.Path == dir {
					key = it.Key
				}
			}
			if key == "" {
				c.Errorf("%s=%s: Secret volume %s has no item for %s", setting, file, v.Name, dir)
				return
			}
			if existing, _ := c.value(existingPath).(string); existing != "" {
				if v.Secret.SecretName != existing {
					c.Errorf("%s: Secret %q, want the existing %q", setting, v.Secret.SecretName, existing)
				}
				return
			}
			own := c.objs.secret
			if ownKey == "" || own == nil || v.Secret.SecretName != own.Name || key != ownKey {
				c.Errorf("%s: key %q of Secret %q, want %q of the chart's Secret", setting, key, v.Secret.SecretName, ownKey)
				return
			}
			if len(own.Data[key]) == 0 {
				c.Errorf("%s: the chart's Secret has no %q", setting, key)
			}
			return
		}
	}
	c.Errorf("%s=%s is not in a mounted Secret", setting, file)
}

// disruptionBudget: at most one pod down, selecting the StatefulSet's pods.
func (c *chartCheck) disruptionBudget() {
	pdb := c.objs.pdb
	if pdb == nil {
		c.Fatalf("no PodDisruptionBudget")
	}
	if !c.selects(pdb.Spec.Selector) {
		c.Errorf("PodDisruptionBudget selector %v does not match the pods", pdb.Spec.Selector)
	}
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 {
		c.Errorf("maxUnavailable %v, want 1", pdb.Spec.MaxUnavailable)
	}
}

// networkPolicy: applies to the pods; peers reach gossip (TCP and UDP) and
// the peer port; the client and admin ports are open to their sources.
func (c *chartCheck) networkPolicy() {
	np := c.objs.networkPolicy
	if c.value("networkPolicy.enabled") == false {
		if np != nil {
			c.Errorf("networkPolicy off but rendered")
		}
		return
	}
	if np == nil {
		c.Fatalf("no NetworkPolicy")
	}
	if !c.selects(&np.Spec.PodSelector) {
		c.Errorf("NetworkPolicy podSelector does not match the pods")
	}
	// allowed[name] is whether some rule admits the container port.
	allowed := map[string]bool{}
	fromPeers := map[string]bool{}
	for _, rule := range np.Spec.Ingress {
		peersOnly := len(rule.From) > 0
		for _, from := range rule.From {
			if from.PodSelector == nil || from.NamespaceSelector != nil || !c.selects(from.PodSelector) {
				peersOnly = false
			}
		}
		for _, p := range rule.Ports {
			if p.Port == nil || p.Protocol == nil {
				c.Errorf("NetworkPolicy port %v without a number or protocol", p)
				continue
			}
			matched := false
			for _, cp := range c.container().Ports {
				if int(cp.ContainerPort) == p.Port.IntValue() && cp.Protocol == *p.Protocol {
					matched = true
					allowed[cp.Name] = true
					fromPeers[cp.Name] = fromPeers[cp.Name] || peersOnly
				}
			}
			if !matched {
				c.Errorf("NetworkPolicy admits %v/%s, which no container port is", p.Port, *p.Protocol)
			}
		}
	}
	for _, cp := range c.container().Ports {
		if !allowed[cp.Name] {
			c.Errorf("NetworkPolicy admits nothing to port %s", cp.Name)
		}
	}
	for _, name := range []string{"gossip", "gossip-udp", "peer"} {
		if !fromPeers[name] {
			c.Errorf("NetworkPolicy: port %s is not restricted to the release's pods", name)
		}
	}
}

// autoscaler: the HPA scales the StatefulSet, never below the copies of a slot.
func (c *chartCheck) autoscaler() {
	hpa := c.objs.hpa
	if hpa == nil {
		return
	}
	ref := hpa.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "StatefulSet" || ref.Name != c.objs.statefulSet.Name {
		c.Errorf("HPA scales %v, want the StatefulSet %s", ref, c.objs.statefulSet.Name)
	}
	if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas > hpa.Spec.MaxReplicas {
		c.Errorf("HPA min %v max %d", hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
	}
}

// monitoring: the ServiceMonitor scrapes the admin port of the headless
// Service as job "cached"; the PrometheusRule holds the alerts file.
func (c *chartCheck) monitoring() {
	if sm := c.objs.serviceMonitor; sm != nil {
		h := c.headless()
		sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(h.Labels)) {
			c.Errorf("ServiceMonitor selector %v does not match the headless Service %s", sm.Spec.Selector, h.Name)
		}
		for _, s := range c.objs.services {
			if s != h && sel.Matches(labels.Set(s.Labels)) {
				c.Errorf("ServiceMonitor also selects Service %s: pods would be scraped twice", s.Name)
			}
		}
		if h.Labels[sm.Spec.JobLabel] != "cached" {
			c.Errorf("ServiceMonitor jobLabel %q gives job %q, the alerts expect cached", sm.Spec.JobLabel, h.Labels[sm.Spec.JobLabel])
		}
		for _, ep := range sm.Spec.Endpoints {
			found := false
			for _, p := range h.Spec.Ports {
				found = found || (p.Name == ep.Port && p.TargetPort.StrVal == "admin")
			}
			if !found || ep.Path != "/metrics" {
				c.Errorf("ServiceMonitor endpoint %s%s, want the admin port's /metrics", ep.Port, ep.Path)
			}
		}
	} else if c.value("metrics.serviceMonitor.enabled") == true {
		c.Errorf("no ServiceMonitor")
	}
	if pr := c.objs.prometheusRule; pr != nil {
		checkRuleGroups(c.T, pr.Spec.Groups)
	} else if c.value("metrics.prometheusRule.enabled") == true {
		c.Errorf("no PrometheusRule")
	}
}
