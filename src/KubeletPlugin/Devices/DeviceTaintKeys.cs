namespace SecureDra.KubeletPlugin.Devices;

/// <summary>Device taint keys for withdrawn devices; DeviceClass tolerations and tests refer to these.</summary>
public static class DeviceTaintKeys
{
    public const string VramDirty = "securedra.io/vram-dirty";
    public const string ScrubFailed = "securedra.io/scrub-failed";
    public const string Unhealthy = "securedra.io/unhealthy";
    public const string MigModeEnabled = "securedra.io/mig-mode-enabled";
    public const string CcNotReady = "securedra.io/cc-not-ready";
    public const string MigManagerUnavailable = "securedra.io/mig-manager-unavailable";

    public static string For(WithdrawalReason reason) => reason switch
    {
        WithdrawalReason.VramDirty => VramDirty,
        WithdrawalReason.ScrubFailed => ScrubFailed,
        WithdrawalReason.Unhealthy => Unhealthy,
        WithdrawalReason.MigModeEnabled => MigModeEnabled,
        WithdrawalReason.CcNotReady => CcNotReady,
        WithdrawalReason.MigManagerUnavailable => MigManagerUnavailable,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}
