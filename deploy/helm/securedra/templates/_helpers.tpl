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

{{/* Proxy mode: the directories the proxy's DaemonSet mounts, in the order of its volumes. */}}
{{- define "securedra.proxyHostPaths" -}}
{{- $p := .Values.kubeletPlugin -}}
{{- $x := .Values.proxy -}}
{{- join "," (list $p.registrarDir (printf "%s/%s" $p.pluginsDir .Values.driverName) $x.vendorRegistryDir $x.vendorPluginsDir $x.stateDir) -}}
{{- end -}}

{{/* Proxy mode: refuse directory layouts that would let the kubelet see the vendor, or make the proxy and the
     vendor share a socket or a checkpoint (docs/proxy.md, "Collisions avoided"). */}}
{{- define "securedra.validateProxy" -}}
{{- if eq .Values.mode "proxy" -}}
{{- $p := .Values.kubeletPlugin -}}
{{- $x := .Values.proxy -}}
{{- $own := printf "%s/%s" $p.pluginsDir .Values.driverName -}}
{{- $pairs := list
  (list "proxy.vendorRegistryDir" $x.vendorRegistryDir "kubeletPlugin.registrarDir" $p.registrarDir "the kubelet watches its registry recursively, so it would see the vendor's registration")
  (list "proxy.vendorPluginsDir" $x.vendorPluginsDir "the proxy's socket directory <kubeletPlugin.pluginsDir>/<driverName>" $own "the vendor's and the proxy's DRA sockets would be one file")
  (list "proxy.vendorPluginsDir" $x.vendorPluginsDir "kubeletPlugin.registrarDir" $p.registrarDir "the kubelet would see the vendor's registration")
  (list "proxy.stateDir" $x.stateDir "proxy.vendorPluginsDir" $x.vendorPluginsDir "the vendor's checkpoint.json would share the proxy's state")
  (list "proxy.stateDir" $x.stateDir "proxy.vendorRegistryDir" $x.vendorRegistryDir "the vendor could write into the proxy's state")
  (list "proxy.stateDir" $x.stateDir "the proxy's socket directory <kubeletPlugin.pluginsDir>/<driverName>" $own "NVIDIA's default checkpoint is <pluginsDir>/<driverName>/checkpoint.json")
  (list "proxy.stateDir" $x.stateDir "kubeletPlugin.registrarDir" $p.registrarDir "the kubelet watches its registry")
-}}
{{- range $pairs -}}
{{- $a := index . 1 -}}
{{- $b := index . 3 -}}
{{- if or (eq $a $b) (hasPrefix (printf "%s/" $b) $a) (hasPrefix (printf "%s/" $a) $b) -}}
{{- fail (printf "%s (%s) must not overlap %s (%s): %s" (index . 0) $a (index . 2) $b (index . 4)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The MIG manager (kubeletPlugin.migManager, docs/mig.md "Privilege"): only beside the kubelet plugin (not the
proxy) and only with a MIG mode that publishes MIG devices; otherwise the container would hold CAP_SYS_ADMIN for
nothing.
*/}}
{{- define "securedra.validateMigManager" -}}
{{- $p := .Values.kubeletPlugin -}}
{{- if $p.migManager.enabled -}}
{{- if eq .Values.mode "proxy" -}}
{{- fail "kubeletPlugin.migManager.enabled: the MIG manager works beside the kubelet plugin (mode plugin), not the driver proxy" -}}
{{- end -}}
{{- if not (has $p.migMode (list "static" "dynamic")) -}}
{{- fail (printf "kubeletPlugin.migManager.enabled needs kubeletPlugin.migMode static or dynamic, got %q: with MIG off nothing calls it, and it would hold CAP_SYS_ADMIN for nothing" $p.migMode) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Where the MIG manager's socket lives in both containers (a memory emptyDir of the pod). */}}
{{- define "securedra.migManagerSocketDir" -}}/run/securedra-mig{{- end -}}

{{/*
The node daemon's timing values (kubeletPlugin.unprepareBudget and the rest, docs/operations.md), in the order their
flags are passed: value, flag, and whether `securedra proxy` has the flag too. One table for the flags and the check.
*/}}
{{- define "securedra.nodeTimings" -}}
{{- toJson (list
  (list "scrubRetryInitial" "--scrub-retry-initial" true)
  (list "kubeRequestTimeout" "--kube-request-timeout" true)
  (list "unprepareBudget" "--unprepare-budget" false)
  (list "healthResendInterval" "--health-resend-interval" false)
  (list "healthRecoveryInitial" "--health-recovery-initial" false)
  (list "trimMemoryWhenIdle" "--trim-memory-when-idle" false)
) -}}
{{- end -}}

{{/* The timing flags the daemon of this mode has, each passed only when its value is set, so an empty value keeps the daemon's own default. */}}
{{- define "securedra.nodeTimingArgs" -}}
{{- $p := .Values.kubeletPlugin -}}
{{- $proxy := eq .Values.mode "proxy" -}}
{{- range include "securedra.nodeTimings" . | fromJsonArray -}}
{{- $value := index $p (index . 0) -}}
{{- if and $value (or (not $proxy) (index . 2)) }}
- {{ printf "%s=%s" (index . 1) $value }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Plugin-only timing values refused in proxy mode, where `securedra proxy` has no such flag: never silently ignored. */}}
{{- define "securedra.validateNodeTimings" -}}
{{- if eq .Values.mode "proxy" -}}
{{- range include "securedra.nodeTimings" . | fromJsonArray -}}
{{- if and (not (index . 2)) (index $.Values.kubeletPlugin (index . 0)) -}}
{{- fail (printf "kubeletPlugin.%s applies to mode plugin only: securedra proxy has no such flag" (index . 0)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
