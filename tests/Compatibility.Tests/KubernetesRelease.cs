using SecureDra.LocalCluster.Kubelet;

namespace SecureDra.Compatibility.Tests;

/// <summary>
/// What one Kubernetes release looks like to the driver (reference sheet §1.6, §5, §7): the resource.k8s.io
/// versions its API server serves, the one the driver must pick, the DRA gRPC service its kubelet picks,
/// and the versions the driver must never send.
/// </summary>
public sealed record KubernetesRelease(
    string Version,
    IReadOnlyList<string> ServedApiVersions,
    string ExpectedApiVersion,
    string ExpectedGrpcService,
    IReadOnlyList<string> NeverSent)
{
    public const string Group = "resource.k8s.io";

    public static IReadOnlyDictionary<string, KubernetesRelease> All { get; } = new Dictionary<string, KubernetesRelease>(StringComparer.Ordinal)
    {
        ["1.32"] = new("1.32", ["v1beta1"], "v1beta1", "v1beta1.DRAPlugin", ["v1", "v1beta2"]),
        ["1.33"] = new("1.33", ["v1beta2", "v1beta1"], "v1beta2", "v1beta1.DRAPlugin", ["v1"]),
        ["1.34"] = new("1.34", ["v1", "v1beta2", "v1beta1"], "v1", "v1.DRAPlugin", []),
        ["1.35"] = new("1.35", ["v1", "v1beta2", "v1beta1"], "v1", "v1.DRAPlugin", []),
        ["1.36"] = new("1.36", ["v1", "v1beta2", "v1beta1"], "v1", "v1.DRAPlugin", []),
    };

    public KubeletProfile Kubelet => KubeletProfile.ForVersion(Version);

    /// <summary>Old-shape resource.k8s.io/v1beta1: device fields under <c>basic</c>, request fields flat on the request.</summary>
    public bool FlatShape => ExpectedApiVersion == "v1beta1";

    public string Path(string plural, string? ns = null, string? name = null, string? subresource = null) =>
        $"/apis/{Group}/{ExpectedApiVersion}"
        + (ns is null ? "" : $"/namespaces/{ns}")
        + $"/{plural}"
        + (name is null ? "" : $"/{name}")
        + (subresource is null ? "" : $"/{subresource}");

    public override string ToString() => Version;
}
