{{- /*
Host directories the kubelet plugin's node checks read (paths around DRA), comma-separated; each is
mounted read-only at the same path. Used by the DaemonSet and by the pod-hardening policy's hostPath
allow-list, so the two cannot drift apart.
*/ -}}
{{- define "securedra.nodeHardeningDirs" -}}
{{- $h := .Values.kubeletPlugin.nodeHardening -}}
{{- join "," (concat $h.toolkitConfigDirs (list $h.containerdConfigDir $h.crioDropInDir $h.devicePluginDir $h.dpkgDir)) -}}
{{- end -}}
