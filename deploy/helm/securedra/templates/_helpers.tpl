{{/* Object name prefix. */}}
{{- define "securedra.fullname" -}}
{{- default "securedra" .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* The one place the service account names are made: the DaemonSet, the RBAC bindings and the
     node-scoping policy all use these, so they cannot drift apart (NVIDIA #1317). */}}
{{- define "securedra.pluginServiceAccount" -}}
{{- printf "%s-kubelet-plugin" (include "securedra.fullname" .) -}}
{{- end -}}

{{- define "securedra.controllerServiceAccount" -}}
{{- printf "%s-controller" (include "securedra.fullname" .) -}}
{{- end -}}

{{- define "securedra.pluginUsername" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "securedra.pluginServiceAccount" .) -}}
{{- end -}}

{{- define "securedra.labels" -}}
app.kubernetes.io/name: securedra
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "securedra.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository .Values.image.tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag -}}
{{- end -}}
{{- end -}}

{{/* Container securityContext shared by both components: nothing privileged, nothing added. */}}
{{- define "securedra.containerSecurityContext" -}}
privileged: false
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Approved DeviceClasses for tenant claims, as a CEL list literal. */}}
{{- define "securedra.approvedClassesCel" -}}
{{- $classes := list .Values.deviceClasses.exclusive.name -}}
{{- range .Values.policy.claims.extraApprovedDeviceClasses }}{{ $classes = append $classes . }}{{ end -}}
[{{- range $i, $c := $classes }}{{ if $i }}, {{ end }}'{{ $c }}'{{ end -}}]
{{- end -}}
