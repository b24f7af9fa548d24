{{- define "kubeharden.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kubeharden.labels" -}}
app.kubernetes.io/name: kubeharden
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
{{- end -}}

{{- define "kubeharden.selectorLabels" -}}
app.kubernetes.io/name: kubeharden
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{/* Where the serving certificate comes from: cert-manager, self-signed or secret. */}}
{{- define "kubeharden.tlsSource" -}}
{{- if eq .Values.tls.source "auto" -}}
{{- if .Capabilities.APIVersions.Has "cert-manager.io/v1" -}}cert-manager{{- else -}}self-signed{{- end -}}
{{- else if has .Values.tls.source (list "cert-manager" "self-signed" "secret") -}}
{{- .Values.tls.source -}}
{{- else -}}
{{- fail "tls.source must be auto, cert-manager, self-signed or secret" -}}
{{- end -}}
{{- end -}}

{{- define "kubeharden.tlsSecret" -}}
{{- if eq (include "kubeharden.tlsSource" .) "secret" -}}
{{- required "tls.existingSecret is required with tls.source=secret" .Values.tls.existingSecret -}}
{{- else -}}
{{- printf "%s-tls" (include "kubeharden.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "kubeharden.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository .Values.image.tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag -}}
{{- end -}}
{{- end -}}
