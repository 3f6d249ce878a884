{{- define "aksnap.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "aksnap.labels" -}}
app.kubernetes.io/name: aksnap
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "aksnap.selectorLabels" -}}
app.kubernetes.io/name: aksnap
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "aksnap.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "aksnap.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}
