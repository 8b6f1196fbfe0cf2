{{- define "kova.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}{{- end -}}
{{- define "kova.labels" -}}
app.kubernetes.io/name: kova
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
{{- define "kova.tokenKeySecret" -}}{{ .Values.api.tokenKeySecret | default (printf "%s-token-key" .Release.Name) }}{{- end -}}
{{- define "kova.probes" -}}
livenessProbe:
  httpGet: { path: /healthz, port: {{ .port }} }
  initialDelaySeconds: {{ .probes.initialDelaySeconds }}
  periodSeconds: {{ .probes.periodSeconds }}
readinessProbe:
  httpGet: { path: /readyz, port: {{ .port }} }
  initialDelaySeconds: {{ .probes.initialDelaySeconds }}
  periodSeconds: {{ .probes.periodSeconds }}
{{- end -}}
