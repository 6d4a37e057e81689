namespace SecureDra.Api.Validation;

/// <summary>Builds the dotted paths that every error message starts with.</summary>
public static class ErrorPath
{
    /// <summary>The path used for the root when the caller gave no prefix.</summary>
    public const string RootSymbol = "$";

    public static string Root(string? prefix) => string.IsNullOrEmpty(prefix) ? RootSymbol : prefix;

    /// <summary>
    /// A child path; names that are not plain identifiers are written in brackets and quotes so an
    /// attacker-chosen key cannot forge a different path.
    /// </summary>
    public static string Child(string? prefix, string name)
    {
        var segment = IsPlainName(name) ? name : "[" + DisplayText.Quote(name) + "]";
        if (string.IsNullOrEmpty(prefix) || prefix == RootSymbol)
        {
            return segment.StartsWith('[') ? RootSymbol + segment : segment;
        }

        return segment.StartsWith('[') ? prefix + segment : prefix + "." + segment;
    }

    public static string Index(string? prefix, int index) => Root(prefix) + "[" + index.ToString(System.Globalization.CultureInfo.InvariantCulture) + "]";

    private static bool IsPlainName(string name)
    {
        if (name.Length is 0 or > 128)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '/'))
            {
                return false;
            }
        }

        return true;
    }
}
