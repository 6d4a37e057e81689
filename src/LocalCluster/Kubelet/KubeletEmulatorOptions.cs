namespace SecureDra.LocalCluster.Kubelet;

/// <summary>Timeouts are the kubelet's own (operation_generator.go, dra_plugin.go).</summary>
public sealed record KubeletEmulatorOptions
{
    public required string RegistrarDirectory { get; init; }
    public KubeletProfile Profile { get; init; } = KubeletProfile.V1_34;
    public TimeSpan GetInfoTimeout { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan NotifyTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(45);
}
