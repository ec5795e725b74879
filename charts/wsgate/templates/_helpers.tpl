{{/* Chart name, truncated to the 63 characters a DNS label allows. */}}
{{- define "wsgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name, with the chart name unless it is already in it. */}}
{{- define "wsgate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Chart label value: name-version. */}}
{{- define "wsgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "wsgate.labels" -}}
helm.sh/chart: {{ include "wsgate.chart" . }}
{{ include "wsgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: controller
{{- end }}

{{/* Labels that select the controller pods; never change them on upgrade. */}}
{{- define "wsgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wsgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* ServiceAccount name. */}}
{{- define "wsgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "wsgate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Container image reference; the tag defaults to the chart's appVersion. */}}
{{- define "wsgate.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Name of the Lease that elects the replica writing status. */}}
{{- define "wsgate.leaseName" -}}
{{- printf "%s-leader" (include "wsgate.fullname" .) }}
{{- end }}

{{/*
Seconds Kubernetes waits before killing a pod: the preStop sleep, then the shutdown timeout
(connections drain with close frames), then a margin for the process to exit.
*/}}
{{- define "wsgate.terminationGracePeriodSeconds" -}}
{{- $min := add .Values.lifecycle.preStopSleepSeconds .Values.controller.shutdownTimeoutSeconds }}
{{- if .Values.terminationGracePeriodSeconds }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $min) }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must exceed lifecycle.preStopSleepSeconds + controller.shutdownTimeoutSeconds (%v), or open connections are killed mid-drain" .Values.terminationGracePeriodSeconds $min) }}
{{- end }}
{{- .Values.terminationGracePeriodSeconds }}
{{- else }}
{{- add $min 15 }}
{{- end }}
{{- end }}

{{/*
Rules on namespaced kinds the controller reads and writes. They go into the ClusterRole, or
into one Role per namespace when watchNamespaces is set.
*/}}
{{- define "wsgate.namespacedRules" -}}
- apiGroups: ["wsgate.dev"]
  resources: ["websocketroutes"]
  verbs: ["list", "watch"]
- apiGroups: ["wsgate.dev"]
  resources: ["websocketroutes/status"]
  verbs: ["patch"]
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses"]
  verbs: ["list", "watch"]
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["services"]
  verbs: ["get", "list", "watch"]
# Listed and watched with selectors (TLS type; the wsgate.dev/secret label): RBAC cannot
# narrow by selector, but nothing else is cached.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["list", "watch"]
- apiGroups: ["discovery.k8s.io"]
  resources: ["endpointslices"]
  verbs: ["list", "watch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/* Rules on cluster-scoped kinds: always in the ClusterRole. */}}
{{- define "wsgate.clusterRules" -}}
- apiGroups: ["networking.k8s.io"]
  resources: ["ingressclasses"]
  verbs: ["list", "watch"]
{{- end }}

{{/* True when any admission webhook is on. */}}
{{- define "wsgate.webhooks" -}}
{{- if or .Values.webhooks.inject.enabled .Values.webhooks.validate.enabled }}true{{ end }}
{{- end }}

{{/* Name of the webhook Service (also the start of its DNS name). */}}
{{- define "wsgate.webhookService" -}}
{{- printf "%s-webhook" (include "wsgate.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Name of the Secret holding the webhook's serving certificate. */}}
{{- define "wsgate.webhookSecret" -}}
{{- printf "%s-webhook-tls" (include "wsgate.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
