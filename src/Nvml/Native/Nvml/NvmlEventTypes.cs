namespace SecureDra.Nvml.Native.Nvml;

/// <summary><c>nvmlEventType*</c> bit masks from nvml.h.</summary>
public static class NvmlEventTypes
{
    public const ulong SingleBitEccError = 0x0000000000000001;
    public const ulong DoubleBitEccError = 0x0000000000000002;
    public const ulong PState = 0x0000000000000004;
    public const ulong XidCriticalError = 0x0000000000000008;
    public const ulong Clock = 0x0000000000000010;
    public const ulong PowerSourceChange = 0x0000000000000080;
    public const ulong MigConfigChange = 0x0000000000000100;
}
