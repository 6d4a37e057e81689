namespace SecureDra.KubeletPlugin.Memory;

/// <summary>
/// The one collection both memory trims run (<see cref="StartupMemoryTrim"/> once ready, <see cref="IdleMemoryTrim"/>
/// once idle): blocking, compacting and aggressive, so the GC returns its free regions to the OS instead of keeping
/// them for later allocations; measured the same way for both.
/// </summary>
public static class GcTrim
{
    public static GcTrimResult CollectAggressively()
    {
        var heapBefore = GC.GetTotalMemory(forceFullCollection: false);
        var committedBefore = GC.GetGCMemoryInfo().TotalCommittedBytes;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return new GcTrimResult(heapBefore, GC.GetTotalMemory(forceFullCollection: false), committedBefore, GC.GetGCMemoryInfo().TotalCommittedBytes);
    }
}

/// <summary>What one trim collection did: GC heap and committed bytes before and after.</summary>
public sealed record GcTrimResult(long HeapBefore, long HeapAfter, long CommittedBefore, long CommittedAfter);
