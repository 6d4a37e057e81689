namespace SecureDra.Kube.Resources;

/// <summary>The API server serves none of the resource.k8s.io versions this driver speaks: DRA is off.</summary>
public sealed class ResourceApiNotServedException : Exception
{
    public ResourceApiNotServedException() { }
    public ResourceApiNotServedException(string message) : base(message) { }
    public ResourceApiNotServedException(string message, Exception innerException) : base(message, innerException) { }

    public ResourceApiNotServedException(IReadOnlyList<string> servedVersions)
        : base(
            "the API server serves none of resource.k8s.io v1, v1beta2, v1beta1"
            + (servedVersions.Count == 0 ? "" : $" (it serves {string.Join(", ", servedVersions)})")
            + ": DRA is not enabled (Kubernetes ≥1.32 with the DynamicResourceAllocation feature gate and the resource.k8s.io API group enabled)")
    {
        ServedVersions = servedVersions;
    }

    public IReadOnlyList<string> ServedVersions { get; } = [];
}
