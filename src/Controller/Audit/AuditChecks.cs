namespace SecureDra.Controller.Audit;

/// <summary>Stable check ids: metric labels, event reasons and JSON output use them.</summary>
public static class AuditChecks
{
    public const string DeviceClassResetPolicy = "deviceclass-reset-policy";
    public const string AdmissionPolicy = "admission-policy";
    public const string AdmissionWebhook = "admission-webhook";
    public const string ClaimQuota = "claim-quota";
    public const string ServiceAccountRbac = "serviceaccount-rbac";
    public const string PluginDaemonSet = "plugin-daemonset";
    public const string NvidiaDevicePlugin = "nvidia-device-plugin";
    public const string NvidiaRuntimeClass = "nvidia-runtimeclass";
    public const string TenantPodSecurity = "tenant-pod-security";
    public const string GpuOperatorClusterPolicy = "gpu-operator-clusterpolicy";
    public const string ConfidentialComputeDevTools = "cc-devtools-mode";

    public static IReadOnlyList<string> All { get; } =
        [DeviceClassResetPolicy, AdmissionPolicy, AdmissionWebhook, ClaimQuota, ServiceAccountRbac, PluginDaemonSet, NvidiaDevicePlugin, NvidiaRuntimeClass, TenantPodSecurity, GpuOperatorClusterPolicy, ConfidentialComputeDevTools];
}
