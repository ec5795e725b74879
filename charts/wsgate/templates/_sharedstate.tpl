{{/*
Shared state between replicas (values `sharedState`): the controller flags, and the Secrets
holding the Redis password and CA mounted as files (never flags or environment variables).
*/}}
{{- define "wsgate.sharedState.args" -}}
{{- with .Values.sharedState.redis }}
{{- if .url }}
- --shared-state-redis-url
- {{ .url | quote }}
{{- if .passwordSecretRef.name }}
- --shared-state-redis-password-file
- /etc/wsgate/redis-password/{{ .passwordSecretRef.key }}
{{- end }}
{{- if .caSecretRef.name }}
- --shared-state-redis-ca-file
- /etc/wsgate/redis-ca/{{ .caSecretRef.key }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- define "wsgate.sharedState.volumeMounts" -}}
{{- with .Values.sharedState.redis }}
{{- if and .url .passwordSecretRef.name }}
- name: redis-password
  mountPath: /etc/wsgate/redis-password
  readOnly: true
{{- end }}
{{- if and .url .caSecretRef.name }}
- name: redis-ca
  mountPath: /etc/wsgate/redis-ca
  readOnly: true
{{- end }}
{{- end }}
{{- end }}

{{- define "wsgate.sharedState.volumes" -}}
{{- with .Values.sharedState.redis }}
{{- if and .url .passwordSecretRef.name }}
- name: redis-password
  secret:
    secretName: {{ .passwordSecretRef.name }}
    items:
      - key: {{ .passwordSecretRef.key }}
        path: {{ .passwordSecretRef.key }}
{{- end }}
{{- if and .url .caSecretRef.name }}
- name: redis-ca
  secret:
    secretName: {{ .caSecretRef.name }}
    items:
      - key: {{ .caSecretRef.key }}
        path: {{ .caSecretRef.key }}
{{- end }}
{{- end }}
{{- end }}
