using System.Runtime.InteropServices;

namespace SecureDra.Network;

/// <summary>
/// The process's open-file limit (RLIMIT_NOFILE, soft), read once at start to size connection caps. The .NET runtime
/// raises the soft limit to the hard limit at start-up, so this is the limit the process really runs under.
/// </summary>
public static partial class DescriptorLimit
{
    // RLIMIT_NOFILE is 7 on every Linux architecture .NET runs on (x86-64, arm64).
    private const int RlimitNofile = 7;

    /// <summary>The soft limit, or null where it cannot be read (not Linux) or is unlimited.</summary>
    public static long? Current()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        if (GetRLimit(RlimitNofile, out var limit) != 0)
        {
            return null;
        }

        return limit.Current > long.MaxValue ? null : (long)limit.Current;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);
}
