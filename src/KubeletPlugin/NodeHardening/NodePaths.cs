namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>Path comparison for node configs: trailing slashes ignored, /var/run the same as /run (a link on every distribution).</summary>
internal static class NodePaths
{
    public static string Normalize(string path)
    {
        var p = path.Trim();
        while (p.Length > 1 && p.EndsWith('/'))
        {
            p = p[..^1];
        }

        return p == "/var/run" || p.StartsWith("/var/run/", StringComparison.Ordinal) ? p[4..] : p;
    }

    public static bool Contains(IEnumerable<string> directories, string directory) =>
        directories.Any(d => string.Equals(Normalize(d), Normalize(directory), StringComparison.Ordinal));

    /// <summary>containerd/CRI-O annotation patterns: '*' matches any run of characters.</summary>
    public static bool GlobMatches(string pattern, string value)
    {
        if (!pattern.Contains('*', StringComparison.Ordinal))
        {
            return string.Equals(pattern, value, StringComparison.Ordinal);
        }

        var parts = pattern.Split('*');
        if (!value.StartsWith(parts[0], StringComparison.Ordinal))
        {
            return false;
        }

        var at = parts[0].Length;
        for (var i = 1; i < parts.Length - 1; i++)
        {
            var found = value.IndexOf(parts[i], at, StringComparison.Ordinal);
            if (found < 0)
            {
                return false;
            }

            at = found + parts[i].Length;
        }

        return value.Length - at >= parts[^1].Length && value.EndsWith(parts[^1], StringComparison.Ordinal);
    }
}
