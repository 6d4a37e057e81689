using System.Text.Json.Serialization;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// The one JSON object <c>securedra scrub-worker</c> writes to stdout (at most <see cref="MaxBytes"/>), parsed strictly
/// by <see cref="MigInstanceScrubber"/>. <see cref="Outcome"/>: "scrubbed" (exit 0), "failed" or "refused" (exit 1),
/// "wrong-device" (exit 3: the worker did not see exactly the expected instance, so it touched nothing).
/// </summary>
public sealed record MigScrubWorkerReport
{
    public const int MaxBytes = 8 * 1024;
    public const int MaxReasonLength = 1024;

    public required string Outcome { get; init; }

    public required string InstanceUuid { get; init; }

    /// <summary>UUIDs of the devices the worker saw (CUDA's view under CUDA_VISIBLE_DEVICES), at most 16.</summary>
    public IReadOnlyList<string> VisibleUuids { get; init; } = [];

    public long TotalBytes { get; init; }

    public long BytesZeroed { get; init; }

    public double Coverage { get; init; }

    public bool Verified { get; init; }

    public string Method { get; init; } = "";

    public long DurationMs { get; init; }

    public string? FailureReason { get; init; }

    internal static string? Bound(string? reason) => reason is { Length: > MaxReasonLength } ? reason[..MaxReasonLength] : reason;
}

/// <summary>Strict JSON for the worker report: camelCase, unknown fields rejected, no trailing data.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectRequiredConstructorParameters = true,
    AllowDuplicateProperties = false,
    RespectNullableAnnotations = true,
    MaxDepth = 4)]
[JsonSerializable(typeof(MigScrubWorkerReport))]
public sealed partial class MigScrubWorkerReportJsonContext : JsonSerializerContext;
