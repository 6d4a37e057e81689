namespace SecureDra.KubeletPlugin.Grpc;

/// <summary>RFC 1123 names as Kubernetes validates them (IsDNS1123Label / IsDNS1123Subdomain).</summary>
public static class DnsNames
{
    public const int MaxLabelLength = 63;
    public const int MaxSubdomainLength = 253;

    /// <summary>Lower-case alphanumerics and '-', starting and ending alphanumeric, at most 63 characters.</summary>
    public static bool IsLabel(string? value) =>
        value is { Length: > 0 and <= MaxLabelLength } && IsLabelChars(value.AsSpan());

    /// <summary>Dot-separated labels, at most <paramref name="maxLength"/> (≤ 253) characters in all.</summary>
    public static bool IsSubdomain(string? value, int maxLength = MaxSubdomainLength)
    {
        if (value is null || value.Length == 0 || value.Length > Math.Min(maxLength, MaxSubdomainLength))
        {
            return false;
        }

        foreach (var range in value.AsSpan().Split('.'))
        {
            var label = value.AsSpan(range.Start.Value, range.End.Value - range.Start.Value);
            if (label.Length == 0 || !IsLabelChars(label))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsLabelChars(ReadOnlySpan<char> label)
    {
        if (!IsAlnum(label[0]) || !IsAlnum(label[^1]))
        {
            return false;
        }

        foreach (var c in label)
        {
            if (!IsAlnum(c) && c != '-')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsAlnum(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
}
