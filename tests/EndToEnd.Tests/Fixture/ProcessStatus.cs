using System.Globalization;

namespace SecureDra.EndToEnd.Tests.Fixture;

/// <summary>What /proc says about another process.</summary>
internal static class ProcessStatus
{
    /// <summary>VmRSS of <paramref name="pid"/>, in bytes.</summary>
    public static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kib = line["VmRSS:".Length..].Trim().Split(' ', 2)[0];
                return long.Parse(kib, CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/status has no VmRSS");
    }

    /// <summary>Open descriptors of <paramref name="pid"/>.</summary>
    public static int OpenDescriptors(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;

    /// <summary>The soft RLIMIT_NOFILE of <paramref name="pid"/>, from /proc/PID/limits.</summary>
    public static long NoFileLimit(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/limits"))
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                return long.Parse(line["Max open files".Length..].Trim().Split(' ', 2, StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/limits has no Max open files");
    }
}
