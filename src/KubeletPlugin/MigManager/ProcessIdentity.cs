using System.Runtime.InteropServices;

namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>This process's effective user id: the default (and usual) peer a MIG manager serves.</summary>
public static partial class ProcessIdentity
{
    public static uint EffectiveUid => OperatingSystem.IsWindows() ? 0 : GetEffectiveUid();

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUid();
}
