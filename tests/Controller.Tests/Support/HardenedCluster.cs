using System.Text.Json.Nodes;
using SecureDra.Controller.Audit;
using SecureDra.Controller.Audit.Sources;

namespace SecureDra.Controller.Tests.Support;

/// <summary>A compliant install as manifests (several files, multi-document YAML, one JSON file).</summary>
internal static class HardenedCluster
{
    public static IReadOnlyDictionary<string, string> Files { get; } = new Dictionary<string, string>
    {
        ["namespaces.yaml"] = """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: securedra-system
              labels:
                pod-security.kubernetes.io/enforce: privileged
            ---
            apiVersion: v1
            kind: Namespace
            metadata:
              name: tenant-a
              labels:
                pod-security.kubernetes.io/enforce: restricted
            """,
        ["deviceclasses.yaml"] = """
            apiVersion: resource.k8s.io/v1
            kind: DeviceClass
            metadata:
              name: securedra-gpu-exclusive
            spec:
              selectors:
              - cel:
                  expression: device.driver == "gpu.nvidia.com"
              config:
              - opaque:
                  driver: gpu.nvidia.com
                  parameters:
                    apiVersion: resource.securedra.io/v1alpha1
                    kind: GpuConfig
                    resetPolicy: ZeroVRAMOnRelease
            ---
            apiVersion: resource.k8s.io/v1
            kind: DeviceClass
            metadata:
              name: securedra-gpu-shared
            spec:
              selectors:
              - cel:
                  expression: 'device.driver == "gpu.nvidia.com"'
              config:
              - opaque:
                  driver: gpu.nvidia.com
                  parameters:
                    apiVersion: resource.securedra.io/v1alpha1
                    kind: GpuConfig
                    resetPolicy: "ZeroVRAMOnRelease"
            ---
            # Another vendor's class: not ours to audit.
            apiVersion: resource.k8s.io/v1
            kind: DeviceClass
            metadata:
              name: fpga
            spec:
              selectors:
              - cel:
                  expression: device.driver == "fpga.example.com"
            """,
        ["policies/vap.yaml"] = """
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata:
              name: securedra-resourceslices-node-scoped
            spec:
              failurePolicy: Fail
              matchConstraints:
                resourceRules:
                - apiGroups: ["resource.k8s.io"]
                  apiVersions: ["v1", "v1beta2", "v1beta1"]
                  operations: ["CREATE", "UPDATE", "DELETE"]
                  resources: ["resourceslices"]
              validations:
              - expression: variables.userNodeName == variables.objectNodeName
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicyBinding
            metadata:
              name: securedra-resourceslices-node-scoped
            spec:
              policyName: securedra-resourceslices-node-scoped
              validationActions: [Deny]
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata:
              name: securedra-claims-v1
            spec:
              matchConstraints:
                resourceRules:
                - apiGroups: ["resource.k8s.io"]
                  apiVersions: ["v1"]
                  operations: ["CREATE", "UPDATE"]
                  resources: ["resourceclaims", "resourceclaimtemplates"]
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicyBinding
            metadata:
              name: securedra-claims-v1
            spec:
              policyName: securedra-claims-v1
              validationActions: [Deny, Audit]
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata:
              name: securedra-claims-v1beta2
            spec:
              matchConstraints:
                resourceRules:
                - apiGroups: ["resource.k8s.io"]
                  apiVersions: ["v1beta2"]
                  operations: ["CREATE", "UPDATE"]
                  resources: ["resourceclaims", "resourceclaimtemplates"]
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicyBinding
            metadata:
              name: securedra-claims-v1beta2
            spec:
              policyName: securedra-claims-v1beta2
              validationActions: [Deny, Audit]
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata:
              name: securedra-claims-v1beta1
            spec:
              matchConstraints:
                resourceRules:
                - apiGroups: ["resource.k8s.io"]
                  apiVersions: ["v1beta1"]
                  operations: ["CREATE", "UPDATE"]
                  resources: ["resourceclaims", "resourceclaimtemplates"]
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicyBinding
            metadata:
              name: securedra-claims-v1beta1
            spec:
              policyName: securedra-claims-v1beta1
              validationActions: [Deny, Audit]
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata:
              name: securedra-pod-hardening
            spec:
              failurePolicy: Fail
              matchConstraints:
                resourceRules:
                - apiGroups: [""]
                  apiVersions: ["v1"]
                  operations: ["CREATE", "UPDATE"]
                  resources: ["pods", "pods/ephemeralcontainers"]
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicyBinding
            metadata:
              name: securedra-pod-hardening
            spec:
              policyName: securedra-pod-hardening
              validationActions: [Deny, Audit]
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata:
              name: securedra-claim-delete-protection
            spec:
              failurePolicy: Fail
              matchConstraints:
                matchPolicy: Equivalent
                resourceRules:
                - apiGroups: ["resource.k8s.io"]
                  apiVersions: ["v1", "v1beta2", "v1beta1"]
                  operations: ["UPDATE"]
                  resources: ["resourceclaims"]
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicyBinding
            metadata:
              name: securedra-claim-delete-protection
            spec:
              policyName: securedra-claim-delete-protection
              validationActions: [Deny, Audit]
            """,
        ["policies/webhook.json"] = """
            {"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration","metadata":{"name":"securedra-claims"},
             "webhooks":[{"name":"claims.securedra.io","failurePolicy":"Fail","sideEffects":"None","admissionReviewVersions":["v1"],
               "rules":[{"apiGroups":["resource.k8s.io"],"apiVersions":["v1","v1beta2","v1beta1"],"operations":["CREATE","UPDATE"],"resources":["resourceclaims","resourceclaimtemplates"]}]}]}
            """,
        ["tenant.yaml"] = """
            apiVersion: resource.k8s.io/v1
            kind: ResourceClaim
            metadata:
              name: gpu
              namespace: tenant-a
            spec:
              devices:
                requests:
                - name: gpu
                  exactly:
                    deviceClassName: securedra-gpu-exclusive
            ---
            apiVersion: v1
            kind: ResourceQuota
            metadata:
              name: dra
              namespace: tenant-a
            spec:
              hard:
                count/resourceclaims.resource.k8s.io: "16"
            """,
        ["rbac.yaml"] = """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: securedra-kubelet-plugin
            rules:
            - apiGroups: ["resource.k8s.io"]
              resources: ["resourceclaims"]
              verbs: ["get"]
            - apiGroups: ["resource.k8s.io"]
              resources: ["resourceslices"]
              verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
            - apiGroups: [""]
              resources: ["nodes"]
              verbs: ["get"]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata:
              name: securedra-kubelet-plugin
            roleRef:
              apiGroup: rbac.authorization.k8s.io
              kind: ClusterRole
              name: securedra-kubelet-plugin
            subjects:
            - kind: ServiceAccount
              name: securedra-kubelet-plugin
              namespace: securedra-system
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: securedra-controller
            rules:
            - apiGroups: ["resource.k8s.io"]
              resources: ["deviceclasses", "resourceclaims"]
              verbs: ["get", "list", "watch"]
            - apiGroups: [""]
              resources: ["events"]
              verbs: ["create", "patch"]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata:
              name: securedra-controller
            roleRef:
              apiGroup: rbac.authorization.k8s.io
              kind: ClusterRole
              name: securedra-controller
            subjects:
            - kind: ServiceAccount
              name: securedra-controller
              namespace: securedra-system
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata:
              name: securedra-controller-leader-election
              namespace: securedra-system
            rules:
            - apiGroups: ["coordination.k8s.io"]
              resources: ["leases"]
              verbs: ["get", "create", "update"]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata:
              name: securedra-controller-leader-election
              namespace: securedra-system
            roleRef:
              apiGroup: rbac.authorization.k8s.io
              kind: Role
              name: securedra-controller-leader-election
            subjects:
            - kind: ServiceAccount
              name: securedra-controller
            ---
            # Somebody else's binding to cluster-admin: not the driver's accounts, not our finding.
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata:
              name: ops-admin
            roleRef:
              apiGroup: rbac.authorization.k8s.io
              kind: ClusterRole
              name: cluster-admin
            subjects:
            - kind: ServiceAccount
              name: ops
              namespace: kube-system
            """,
        ["daemonset.yaml"] = """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata:
              name: securedra-kubelet-plugin
              namespace: securedra-system
            spec:
              template:
                spec:
                  serviceAccountName: securedra-kubelet-plugin
                  runtimeClassName: nvidia
                  securityContext:
                    seccompProfile:
                      type: RuntimeDefault
                  containers:
                  - name: plugin
                    image: securedra:1
                    securityContext:
                      privileged: false
                      allowPrivilegeEscalation: false
                      readOnlyRootFilesystem: true
                      capabilities:
                        drop: ["ALL"]
                  volumes:
                  - name: registrar
                    hostPath:
                      path: /var/lib/kubelet/plugins_registry
                  - name: plugin
                    hostPath:
                      path: /var/lib/kubelet/plugins/gpu.nvidia.com/
                  - name: cdi
                    hostPath:
                      path: /var/run/cdi
                  - name: tmp
                    emptyDir: {}
            """,
    };

    public static List<JsonObject> Objects()
    {
        var reader = new StrictManifestReader();
        return [.. Files.SelectMany(f => reader.Read(f.Value, f.Key))];
    }

    public static ClusterSnapshot Snapshot(Action<List<JsonObject>>? mutate = null)
    {
        var objects = Objects();
        mutate?.Invoke(objects);
        return ClusterSnapshot.FromObjects(objects);
    }

    public static JsonObject Find(List<JsonObject> objects, string kind, string name) =>
        objects.Single(o => (string?)o["kind"] == kind && (string?)o["metadata"]!["name"] == name);

    public static void WriteTo(string directory)
    {
        foreach (var (name, text) in Files)
        {
            var path = Path.Combine(directory, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
        }
    }
}
