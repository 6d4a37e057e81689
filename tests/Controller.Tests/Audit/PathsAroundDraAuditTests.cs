using System.Text.Json.Nodes;
using SecureDra.Controller.Audit;
using SecureDra.Controller.Audit.Sources;
using SecureDra.Controller.Tests.Support;

namespace SecureDra.Controller.Tests.Audit;

/// <summary>
/// The auditor's checks for paths to a GPU around DRA, offline (<c>audit --manifests</c>) on a GPU
/// Operator install as it ships by default next to SecureDra, and on the same install hardened.
/// </summary>
public sealed class PathsAroundDraAuditTests
{
    /// <summary>A default GPU Operator install on SecureDra's node, plus a tenant pod using the nvidia runtime.</summary>
    private const string DefaultOperator = """
        apiVersion: nvidia.com/v1
        kind: ClusterPolicy
        metadata:
          name: cluster-policy
        spec:
          devicePlugin:
            enabled: true
          cdi:
            enabled: false
          toolkit:
            enabled: true
            env: []
        ---
        apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: nvidia-device-plugin-daemonset
          namespace: gpu-operator
        spec:
          selector: {matchLabels: {app: nvidia-device-plugin-daemonset}}
          template:
            metadata: {labels: {app: nvidia-device-plugin-daemonset}}
            spec:
              runtimeClassName: nvidia
              containers:
                - name: nvidia-device-plugin
                  image: nvcr.io/nvidia/k8s-device-plugin:v0.17.1
        ---
        apiVersion: node.k8s.io/v1
        kind: RuntimeClass
        metadata:
          name: nvidia
        handler: nvidia
        ---
        apiVersion: v1
        kind: Node
        metadata:
          name: gpu-node-1
        status:
          allocatable:
            cpu: "64"
            nvidia.com/gpu: "8"
        ---
        apiVersion: resource.k8s.io/v1
        kind: ResourceSlice
        metadata:
          name: gpu-node-1-gpu.nvidia.com-abcde
        spec:
          driver: gpu.nvidia.com
          nodeName: gpu-node-1
          pool: {name: gpu-node-1, generation: 1, resourceSliceCount: 1}
          devices: []
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: team-b
          labels:
            securedra.io/gpu-tenant: "true"
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: sneaky
          namespace: team-b
        spec:
          selector: {matchLabels: {app: sneaky}}
          template:
            metadata: {labels: {app: sneaky}}
            spec:
              runtimeClassName: nvidia
              containers:
                - name: main
                  image: cuda
                  env: [{name: NVIDIA_VISIBLE_DEVICES, value: all}]
        """;

    private static List<JsonObject> Parse(string yaml) => [.. new StrictManifestReader().Read(yaml, "operator.yaml")];

    private static IReadOnlyList<AuditFinding> Audit(string yaml) =>
        new HardeningAuditor(new HardeningAuditOptions()).Audit(HardenedCluster.Snapshot(o => o.AddRange(Parse(yaml))));

    [Fact]
    public void A_default_gpu_operator_next_to_securedra_has_every_path_reported()
    {
        var findings = Audit(DefaultOperator);
        string[] Messages(string check) => [.. findings.Where(f => f.Check == check).Select(f => $"{f.Object.Kind}/{f.Object.Name}: {f.Message}")];

        var devicePlugin = Messages(AuditChecks.NvidiaDevicePlugin);
        Assert.Contains(devicePlugin, m => m.StartsWith("DaemonSet/nvidia-device-plugin-daemonset: the NVIDIA device plugin runs", StringComparison.Ordinal));
        Assert.Contains(devicePlugin, m => m.StartsWith("Node/gpu-node-1: node gpu-node-1 offers allocatable nvidia.com/gpu=8", StringComparison.Ordinal));

        var runtime = Messages(AuditChecks.NvidiaRuntimeClass);
        Assert.Contains(runtime, m => m.StartsWith("RuntimeClass/nvidia: RuntimeClass nvidia runs the NVIDIA runtime and no bound, denying", StringComparison.Ordinal));
        Assert.Contains(runtime, m => m.StartsWith("Deployment/sneaky: tenant workload in namespace team-b uses RuntimeClass nvidia", StringComparison.Ordinal));
        Assert.DoesNotContain(runtime, m => m.Contains("nvidia-device-plugin-daemonset", StringComparison.Ordinal)); // the operator's own namespace

        Assert.Contains(Messages(AuditChecks.TenantPodSecurity), m => m.StartsWith("Namespace/team-b: tenant namespace team-b enforces Pod Security nothing", StringComparison.Ordinal));

        var policy = Messages(AuditChecks.GpuOperatorClusterPolicy);
        Assert.Equal(3, policy.Length);
        Assert.Contains(policy, m => m.Contains("devicePlugin.enabled is not false", StringComparison.Ordinal));
        Assert.Contains(policy, m => m.Contains("cdi.enabled is not true", StringComparison.Ordinal));
        Assert.Contains(policy, m => m.Contains("ACCEPT_NVIDIA_VISIBLE_DEVICES_ENVVAR_WHEN_UNPRIVILEGED=false", StringComparison.Ordinal));
        Assert.All(findings.Where(f => f.Check is AuditChecks.NvidiaDevicePlugin or AuditChecks.NvidiaRuntimeClass or AuditChecks.TenantPodSecurity), f => Assert.Equal(AuditSeverity.High, f.Severity));
    }

    [Fact]
    public void The_same_install_hardened_as_docs_hardening_md_says_is_clean()
    {
        var hardened = DefaultOperator
            .Replace("""
                  devicePlugin:
                    enabled: true
                  cdi:
                    enabled: false
                  toolkit:
                    enabled: true
                    env: []
                """, """
                  devicePlugin:
                    enabled: false
                  cdi:
                    enabled: true
                  toolkit:
                    enabled: true
                    env:
                      - name: ACCEPT_NVIDIA_VISIBLE_DEVICES_ENVVAR_WHEN_UNPRIVILEGED
                        value: "false"
                """, StringComparison.Ordinal)
            .Replace("nvidia.com/gpu: \"8\"", "nvidia.com/gpu: \"0\"", StringComparison.Ordinal)
            .Replace("""
                    securedra.io/gpu-tenant: "true"
                """, """
                    securedra.io/gpu-tenant: "true"
                    pod-security.kubernetes.io/enforce: baseline
                """, StringComparison.Ordinal);
        var docs = Parse(hardened).Where(o => JsonAccess.String(o, "metadata", "name") is not ("nvidia-device-plugin-daemonset" or "sneaky")).ToList();

        // The tenant pod policy, bound with Deny, restricts runtimeClassName.
        docs.AddRange(Parse("""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata:
              name: securedra-tenant-pods
            spec:
              failurePolicy: Fail
              matchConstraints:
                resourceRules:
                  - {apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods", "pods/ephemeralcontainers"]}
              validations:
                - expression: "!(object.spec.?runtimeClassName.orValue('') in ['nvidia'])"
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicyBinding
            metadata:
              name: securedra-tenant-pods
            spec:
              policyName: securedra-tenant-pods
              validationActions: [Deny, Audit]
            """));
        var findings = new HardeningAuditor(new HardeningAuditOptions()).Audit(HardenedCluster.Snapshot(o => o.AddRange(docs)));
        Assert.True(findings.Count == 0, AuditReportWriter.Table(findings));
    }

    [Fact]
    public void A_policy_bound_with_audit_only_does_not_restrict_the_runtime_class()
    {
        var findings = Audit(DefaultOperator + """

            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata:
              name: audit-only
            spec:
              matchConstraints:
                resourceRules:
                  - {apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"]}
              validations:
                - expression: "object.spec.?runtimeClassName.orValue('') != 'nvidia'"
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicyBinding
            metadata:
              name: audit-only
            spec:
              policyName: audit-only
              validationActions: [Audit]
            """);
        Assert.Contains(findings, f => f.Check == AuditChecks.NvidiaRuntimeClass && f.Object.Kind == "RuntimeClass");
    }

    [Fact]
    public void A_node_config_hostpath_mounted_writable_by_the_plugin_is_high()
    {
        var findings = new HardeningAuditor(new HardeningAuditOptions()).Audit(HardenedCluster.Snapshot(objects =>
        {
            var pod = HardenedCluster.Find(objects, "DaemonSet", "securedra-kubelet-plugin")["spec"]!["template"]!["spec"]!;
            pod["volumes"]!.AsArray().Add(new JsonObject { ["name"] = "containerd", ["hostPath"] = new JsonObject { ["path"] = "/etc/containerd" } });
            pod["containers"]![0]!["volumeMounts"] = new JsonArray(new JsonObject { ["name"] = "containerd", ["mountPath"] = "/etc/containerd" });
        }));
        var finding = Assert.Single(findings);
        Assert.Equal((AuditChecks.PluginDaemonSet, AuditSeverity.High), (finding.Check, finding.Severity));
        Assert.Contains("/etc/containerd is mounted writable by container plugin", finding.Message, StringComparison.Ordinal);

        // Read-only, as the chart mounts it: no finding.
        var readOnly = new HardeningAuditor(new HardeningAuditOptions()).Audit(HardenedCluster.Snapshot(objects =>
        {
            var pod = HardenedCluster.Find(objects, "DaemonSet", "securedra-kubelet-plugin")["spec"]!["template"]!["spec"]!;
            pod["volumes"]!.AsArray().Add(new JsonObject { ["name"] = "containerd", ["hostPath"] = new JsonObject { ["path"] = "/etc/containerd" } });
            pod["containers"]![0]!["volumeMounts"] = new JsonArray(new JsonObject { ["name"] = "containerd", ["mountPath"] = "/etc/containerd", ["readOnly"] = true });
        }));
        Assert.True(readOnly.Count == 0, AuditReportWriter.Table(readOnly));
    }

    [Fact]
    public async Task Offline_audit_of_a_manifests_directory_with_the_default_operator_exits_1()
    {
        using var dir = new TempDir();
        HardenedCluster.WriteTo(dir.Path);
        await File.WriteAllTextAsync(dir.File("gpu-operator.yaml"), DefaultOperator);
        using var output = new StringWriter();
        var exit = await AuditRunner.RunAsync(new ManifestDirectorySnapshotSource(dir.Path, new StrictManifestReader()), new HardeningAuditOptions(), "table", output, null, default);
        Assert.Equal(1, exit);
        foreach (var check in new[] { AuditChecks.NvidiaDevicePlugin, AuditChecks.NvidiaRuntimeClass, AuditChecks.TenantPodSecurity, AuditChecks.GpuOperatorClusterPolicy })
        {
            Assert.Contains(check, output.ToString(), StringComparison.Ordinal);
        }
    }
}
