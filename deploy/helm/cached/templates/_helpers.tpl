{{/*
The chart's name, and the full name of the release's objects. The full name
is cut to 52 characters: a StatefulSet's pods carry a controller-revision-hash
label of its name and 11 more characters, at most 63; "-headless" fits too.
*/}}
{{- define "cached.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 52 | trimSuffix "-" }}
{{- end }}

{{- define "cached.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The headless Service: gossip seeds and the pods' stable DNS names. */}}
{{- define "cached.headlessName" -}}
{{- printf "%s-headless" (include "cached.fullname" .) }}
{{- end }}

{{/* The seed every pod joins: the headless Service's name resolves to every pod, ready or not. */}}
{{- define "cached.join" -}}
{{- printf "%s.%s.svc.%s:%d" (include "cached.headlessName" .) .Release.Namespace .Values.clusterDomain (int .Values.ports.gossip) }}
{{- end }}

{{- define "cached.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cached.labels" -}}
helm.sh/chart: {{ include "cached.chart" . }}
{{ include "cached.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "cached.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cached.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cached.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cached.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The chart's own Secret: created unless every secret it would hold comes from an existing one. */}}
{{- define "cached.secretName" -}}
{{- include "cached.fullname" . }}
{{- end }}

{{- define "cached.createSecret" -}}
{{- if or (and .Values.auth.enabled (not .Values.auth.existingSecret)) (and .Values.gossip.encryption.enabled (not .Values.gossip.encryption.existingSecret)) }}true{{- end }}
{{- end }}

{{/* Members to see before serving writes: cluster.minMembers, else all the pods a fresh cluster starts with. */}}
{{- define "cached.minMembers" -}}
{{- $pods := .Values.replicaCount }}
{{- if .Values.autoscaling.enabled }}{{ $pods = .Values.autoscaling.minReplicas }}{{ end }}
{{- $min := .Values.cluster.minMembers | default $pods }}
{{- if gt (int $min) (int $pods) }}
{{- fail (printf "cluster.minMembers (%d) exceeds the pods a fresh cluster starts with (%d): no pod would become ready" (int $min) (int $pods)) }}
{{- end }}
{{- $min }}
{{- end }}

{{/* Whether the plain RESP port is open: always, unless TLS only. */}}
{{- define "cached.plaintext" -}}
{{- if or (not .Values.tls.enabled) .Values.tls.plaintext }}true{{ end }}
{{- end }}

{{/* Where the pod mounts its secrets and config. */}}
{{- define "cached.configDir" -}}/etc/cached/config{{- end }}
{{- define "cached.passwordPath" -}}/etc/cached/auth/password{{- end }}
{{- define "cached.gossipKeyPath" -}}/etc/cached/gossip/key{{- end }}
{{- define "cached.tlsDir" -}}/etc/cached/tls{{- end }}

{{/*
The config file: extraConfig, then config, then the settings the chart owns
(ports, cluster, persistence, auth, TLS), later ones winning.
*/}}
{{- define "cached.config" -}}
{{- $c := dict }}
{{- range $k, $v := .Values.extraConfig }}{{ $_ := set $c $k (toString $v) }}{{ end }}
{{- range $k, $v := .Values.config }}{{ $_ := set $c $k (toString $v) }}{{ end }}
{{- $_ := set $c "bind" "0.0.0.0" }}
{{- $_ := set $c "port" (toString .Values.ports.resp) }}
{{- $_ := set $c "grpc-port" (toString .Values.ports.grpc) }}
{{- $_ := set $c "peer-port" (toString .Values.ports.peer) }}
{{- $_ := set $c "gossip-port" (toString .Values.ports.gossip) }}
{{- $_ := set $c "admin-port" (toString .Values.ports.admin) }}
{{- $_ := set $c "cluster-enabled" "yes" }}
{{- $_ := set $c "join" (include "cached.join" .) }}
{{- $_ := set $c "replicas" (toString .Values.cluster.replicas) }}
{{- $_ := set $c "min-members" (include "cached.minMembers" .) }}
{{- $_ := set $c "replica-ack" (ternary "yes" "no" .Values.cluster.replicaAck) }}
{{- if .Values.persistence.enabled }}
{{- $_ := set $c "dir" "/data" }}
{{- $_ := set $c "appendonly" (ternary "yes" "no" .Values.persistence.appendonly) }}
{{- $_ := set $c "appendfsync" .Values.persistence.appendfsync }}
{{- else }}
{{- $_ := unset $c "dir" }}
{{- end }}
{{- if .Values.auth.enabled }}
{{- $_ := set $c "requirepass-file" (include "cached.passwordPath" .) }}
{{- if .Values.auth.aclFile }}{{ $_ := set $c "aclfile" .Values.auth.aclFile }}{{ end }}
{{- else }}
{{- $_ := set $c "protected-mode" "no" }}
{{- end }}
{{- if .Values.gossip.encryption.enabled }}
{{- $_ := set $c "gossip-key-file" (include "cached.gossipKeyPath" .) }}
{{- end }}
{{- if .Values.tls.enabled }}
{{- $_ := set $c "tls-port" (toString .Values.tls.port) }}
{{- if not .Values.tls.plaintext }}{{ $_ := set $c "port" "" }}{{ end }}
{{- $_ := set $c "tls-cert-file" (printf "%s/tls.crt" (include "cached.tlsDir" .)) }}
{{- $_ := set $c "tls-key-file" (printf "%s/tls.key" (include "cached.tlsDir" .)) }}
{{- $_ := set $c "tls-ca-cert-file" (printf "%s/ca.crt" (include "cached.tlsDir" .)) }}
{{- $_ := set $c "tls-auth-clients" .Values.tls.authClients }}
{{- $_ := set $c "tls-cluster" (ternary "yes" "no" .Values.tls.cluster) }}
{{- $_ := set $c "tls-grpc" (ternary "yes" "no" .Values.tls.grpc) }}
{{- end }}
{{- toYaml $c }}
{{- end }}
