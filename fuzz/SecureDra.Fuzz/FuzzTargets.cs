using SecureDra.Fuzz.Targets;

namespace SecureDra.Fuzz;

/// <summary>The registry of fuzz targets: the CI smoke and the AFL++ runner both take their list from here.</summary>
public static class FuzzTargets
{
    public static IReadOnlyList<string> Names { get; } =
    [
        "gpuconfig", "manifest-reader", "manifest-validator", "resource-claim", "resource-slice",
        "watch-stream", "checkpoint", "admission-review", "kubeconfig", "grpc-claims",
    ];

    /// <summary>A fresh target by name. <paramref name="slowPaths"/> adds checks too slow for a mutation loop (reading real files).</summary>
    public static IFuzzTarget Create(string name, bool slowPaths = false) => name switch
    {
        "gpuconfig" => new GpuConfigTarget(),
        "manifest-reader" => new ManifestReaderTarget(slowPaths),
        "manifest-validator" => new ManifestValidatorTarget(slowPaths),
        "resource-claim" => new ResourceClaimTarget(),
        "resource-slice" => new ResourceSliceTarget(),
        "watch-stream" => new WatchStreamTarget(),
        "checkpoint" => new CheckpointTarget(),
        "admission-review" => new AdmissionReviewTarget(),
        "kubeconfig" => new KubeconfigTarget(),
        "grpc-claims" => new GrpcClaimAdmissionTarget(),
        _ => throw new ArgumentException($"unknown fuzz target '{name}'; known: {string.Join(", ", Names)}", nameof(name)),
    };
}
