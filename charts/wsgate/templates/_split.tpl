{{/*
Split mode (values `split`): the controller serves route tables over mutual TLS and a proxy
workload without Kubernetes API access serves the traffic.
*/}}
{{- define "wsgate.split.tablesService" -}}
{{- printf "%s-tables" (include "wsgate.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "wsgate.split.proxyName" -}}
{{- printf "%s-proxy" (include "wsgate.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the proxy pods (never the controller's); never change on upgrade. */}}
{{- define "wsgate.split.proxySelectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-proxy" (include "wsgate.name" .) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "wsgate.split.proxyLabels" -}}
helm.sh/chart: {{ include "wsgate.chart" . }}
{{ include "wsgate.split.proxySelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: proxy
{{- end }}

{{/* The pods client traffic goes to: the proxies in split mode, else the controllers. */}}
{{- define "wsgate.trafficSelectorLabels" -}}
{{- if .Values.split.enabled }}
{{- include "wsgate.split.proxySelectorLabels" . }}
{{- else }}
{{- include "wsgate.selectorLabels" . }}
{{- end }}
{{- end }}

{{- define "wsgate.split.controllerArgs" -}}
{{- if .Values.split.enabled }}
- --serve-tables
- {{ printf "0.0.0.0:%d" (int .Values.split.port) | quote }}
- --tables-tls-cert
- /etc/wsgate/tables/tls.crt
- --tables-tls-key
- /etc/wsgate/tables/tls.key
- --tables-client-ca
- /etc/wsgate/tables/ca.crt
{{- end }}
{{- end }}

{{- define "wsgate.split.controllerPorts" -}}
{{- if .Values.split.enabled }}
- name: tables
  containerPort: {{ .Values.split.port }}
  protocol: TCP
{{- end }}
{{- end }}

{{/* The table certificate's Secret mounted as a directory (rotations reach the process). */}}
{{- define "wsgate.split.tlsMount" -}}
{{- if .Values.split.enabled }}
- name: tables-tls
  mountPath: /etc/wsgate/tables
  readOnly: true
{{- end }}
{{- end }}

{{/* Called with (dict "root" $ "side" "server"|"client"). */}}
{{- define "wsgate.split.tlsVolume" -}}
{{- if .root.Values.split.enabled }}
- name: tables-tls
  secret:
    secretName: {{ printf "%s-%s" (include "wsgate.split.tablesService" .root) .side }}
    items:
      - {key: tls.crt, path: tls.crt}
      - {key: tls.key, path: tls.key}
      - {key: ca.crt, path: ca.crt}
{{- end }}
{{- end }}

{{/* The proxies' ProxyConfig: the controller's listener values, as a routes file says them. */}}
{{- define "wsgate.split.proxyConfig" -}}
apiVersion: wsgate.dev/v1alpha1
kind: ProxyConfig
metadata:
  name: {{ include "wsgate.split.proxyName" . }}
spec:
  listen:
    http: 0.0.0.0:8080
    https: 0.0.0.0:8443
    admin: 0.0.0.0:9090
    proxyProtocol: {{ .Values.controller.proxyProtocol }}
  shutdownTimeout: {{ printf "%ds" (int .Values.controller.shutdownTimeoutSeconds) }}
  {{- with .Values.controller.trustedProxies }}
  trustedProxies:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.sharedState.redis }}
  {{- if .url }}
  sharedState:
    redis:
      url: {{ .url | quote }}
      {{- if .passwordSecretRef.name }}
      passwordFile: /etc/wsgate/redis-password/{{ .passwordSecretRef.key }}
      {{- end }}
      {{- if .caSecretRef.name }}
      caFile: /etc/wsgate/redis-ca/{{ .caSecretRef.key }}
      {{- end }}
  {{- end }}
  {{- end }}
{{- end }}
