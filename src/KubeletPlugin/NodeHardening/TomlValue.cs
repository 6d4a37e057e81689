namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>A leaf of a node TOML file: a string, boolean, integer or array of those (other kinds are kept as text).</summary>
public sealed record TomlValue(TomlValueKind Kind, string Text, bool Bool = false, IReadOnlyList<TomlValue>? Items = null)
{
    /// <summary>The strings of an array value (non-string items skipped), or the one string of a string value.</summary>
    public IReadOnlyList<string> Strings =>
        Kind == TomlValueKind.Array ? [.. (Items ?? []).Where(i => i.Kind == TomlValueKind.String).Select(i => i.Text)]
        : Kind == TomlValueKind.String ? [Text] : [];
}

public enum TomlValueKind
{
    String,
    Boolean,
    Integer,
    Array,
    Other,
}
