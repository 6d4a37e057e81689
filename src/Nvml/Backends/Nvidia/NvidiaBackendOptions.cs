namespace SecureDra.Nvml.Backends.Nvidia;

/// <summary>Tuning of the NVIDIA backend.</summary>
public sealed record NvidiaBackendOptions
{
    /// <summary>
    /// Xids caused by the application, not the device (the same list the NVIDIA device plugin skips):
    /// 13 graphics engine exception, 31 MMU fault, 43 stopped channel, 45 preemptive cleanup,
    /// 68 video decoder exception, 109 context switch timeout.
    /// </summary>
    public IReadOnlySet<ulong> ApplicationXids { get; init; } = new HashSet<ulong> { 13, 31, 43, 45, 68, 109 };

    /// <summary>How long one nvmlEventSetWait_v2 blocks before the watcher checks for cancellation.</summary>
    public TimeSpan EventWaitTimeout { get; init; } = TimeSpan.FromSeconds(1);
}
