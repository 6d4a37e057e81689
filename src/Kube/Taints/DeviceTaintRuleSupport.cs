namespace SecureDra.Kube.Taints;

/// <summary>Whether and at which resource.k8s.io version the API server serves devicetaintrules.</summary>
public sealed record DeviceTaintRuleSupport(string? Version, string Message)
{
    public bool Served => Version is not null;
}
