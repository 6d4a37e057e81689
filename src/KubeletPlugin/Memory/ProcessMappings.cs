using System.Globalization;

namespace SecureDra.KubeletPlugin.Memory;

/// <summary>One mapping of /proc/PID/smaps: its range, permissions (<c>r-xp</c>), file path (empty if anonymous) and resident bytes.</summary>
public sealed record ProcessMapping(ulong Start, ulong End, string Permissions, string Path, long ResidentBytes);

/// <summary>Reads the mappings of a process from its smaps file (the kernel's text; a line it cannot parse is skipped).</summary>
public static class ProcessMappings
{
    public static IReadOnlyList<ProcessMapping> Read(string smapsPath)
    {
        var mappings = new List<ProcessMapping>();
        foreach (var line in File.ReadLines(smapsPath))
        {
            // A mapping's header: "start-end perms offset dev inode [path]"; its fields follow as "Name:   value kB".
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 5 && !fields[0].EndsWith(':') && fields[0].IndexOf('-', StringComparison.Ordinal) is var dash and > 0
                && ulong.TryParse(fields[0].AsSpan(0, dash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var start)
                && ulong.TryParse(fields[0].AsSpan(dash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var end))
            {
                mappings.Add(new ProcessMapping(start, end, fields[1], fields.Length == 6 ? fields[5].Trim() : string.Empty, 0));
            }
            else if (mappings.Count > 0 && fields.Length >= 2 && fields[0] == "Rss:"
                && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var kib))
            {
                mappings[^1] = mappings[^1] with { ResidentBytes = kib * 1024 };
            }
        }

        return mappings;
    }
}
