namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>
/// A node TOML file flattened to (key path → leaf value), in file order. Node configs are read by
/// key name wherever the file's schema version put the table (containerd moved its CRI plugin
/// between config versions 2 and 3), so lookups are by path or by the last key.
/// </summary>
public sealed class TomlConfig
{
    private readonly List<KeyValuePair<IReadOnlyList<string>, TomlValue>> _entries = [];

    public IReadOnlyList<KeyValuePair<IReadOnlyList<string>, TomlValue>> Entries => _entries;

    internal void Add(IReadOnlyList<string> path, TomlValue value) => _entries.Add(new(path, value));

    /// <summary>The value at exactly this path (the last one wins, as for drop-ins), or null.</summary>
    public TomlValue? Get(params string[] path) =>
        _entries.LastOrDefault(e => e.Key.SequenceEqual(path, StringComparer.Ordinal)).Value;

    /// <summary>Every entry whose last key is <paramref name="key"/>.</summary>
    public IEnumerable<KeyValuePair<IReadOnlyList<string>, TomlValue>> WithLastKey(string key) =>
        _entries.Where(e => e.Key.Count > 0 && string.Equals(e.Key[^1], key, StringComparison.Ordinal));

    /// <summary>The last entry whose last key is <paramref name="key"/> (later files and lines win), or null.</summary>
    public TomlValue? LastWithLastKey(string key) => WithLastKey(key).Select(e => e.Value).LastOrDefault();

    /// <summary>This config followed by <paramref name="later"/> (drop-ins): later values win on lookup.</summary>
    public TomlConfig Then(TomlConfig later)
    {
        ArgumentNullException.ThrowIfNull(later);
        var merged = new TomlConfig();
        merged._entries.AddRange(_entries);
        merged._entries.AddRange(later._entries);
        return merged;
    }

    public static string Display(IReadOnlyList<string> path) =>
        string.Join('.', path.Select(p => p.Length > 0 && p.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') ? p : $"\"{p}\""));
}
