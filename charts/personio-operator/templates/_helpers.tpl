{{- define "personio-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "personio-operator.fullname" -}}
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

{{- define "personio-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "personio-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "personio-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "personio-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: operator
{{- end }}

{{- /* repository@digest when image.digest is set (it wins over the tag), else repository:tag. */}}
{{- define "personio-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{- define "personio-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "personio-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- /*
What the operator does in each namespace it serves: watch its PersonioIntegrations, patch them
(kopf's annotations and finalizer) and their status, post Events, and read the Secrets they name
(only those named in secrets.allowedNames when that is set).
*/}}
{{- define "personio-operator.namespacedRules" -}}
- apiGroups: ["hrsync.dev"]
  resources: ["personiointegrations"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["hrsync.dev"]
  resources: ["personiointegrations/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
- apiGroups: [""]
  resources: ["secrets"]
  {{- with .Values.secrets.allowedNames }}
  resourceNames:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  verbs: ["get"]
{{- end }}
