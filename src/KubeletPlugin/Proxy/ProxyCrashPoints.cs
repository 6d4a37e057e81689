using SecureDra.KubeletPlugin.Pipeline;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>
/// Points between the proxy's durable steps where crash tests stop it (as kill -9 would): the two steps the plugin
/// does not have (the vendor has acted, the proxy has not recorded it yet), plus the plugin's own names where the
/// proxy has the same step.
/// </summary>
public static class ProxyCrashPoints
{
    public const string PrepareAfterVendor = "proxy-prepare:after-vendor";
    public const string UnprepareAfterVendor = "proxy-unprepare:after-vendor";

    public static IReadOnlyList<string> All { get; } =
    [
        PrepareAfterVendor, CrashPoints.PrepareAfterCheckpointPrepared,
        UnprepareAfterVendor, CrashPoints.UnprepareAfterCheckpointStarted, CrashPoints.UnprepareAfterScrub, CrashPoints.UnprepareAfterCheckpointDone,
    ];
}
