using System.Collections.Concurrent;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// Per device (by UUID), the bytes an idle, clean device does not hand out to a CUDA context: what
/// the device's first verified scrub since start could not cover. Later verified scrubs may lower it
/// (a smaller gap proves the first one held back more than the device needs), never raise it, so a
/// gap that grows after the first scrub is always reported as "not allocatable now". Kept in memory:
/// a restart measures it again, bounded by <see cref="ScrubberOptions.MinCoverage"/>.
/// </summary>
internal sealed class ReservedBaselines
{
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);

    public long? Get(string deviceUuid) => _bytes.TryGetValue(deviceUuid, out var bytes) ? bytes : null;

    /// <summary>Records <paramref name="uncoveredBytes"/> of a verified scrub; returns the baseline now in force.</summary>
    public long Record(string deviceUuid, long uncoveredBytes) =>
        _bytes.AddOrUpdate(deviceUuid, uncoveredBytes, (_, current) => Math.Min(current, uncoveredBytes));
}
