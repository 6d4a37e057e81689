namespace SecureDra.Nvml.Backends.Mig;

/// <summary><c>nvmlDeviceGetMigMode</c>: MIG mode now and after the next reset; Supported = false where NVML answers NOT_SUPPORTED.</summary>
public sealed record MigModeState(bool Supported, bool Current, bool Pending)
{
    public static MigModeState NotSupported { get; } = new(false, false, false);

    /// <summary>What <see cref="GpuDevice.MigEnabled"/> reports: on now or on after the next reset.</summary>
    public bool EnabledOrPending => Current || Pending;
}
