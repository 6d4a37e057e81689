using System.Text.RegularExpressions;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>Kubernetes name formats (apimachinery validation) used by the server-side checks.</summary>
public static partial class NameRules
{
    public static bool IsDnsLabel(string? value) =>
        value is { Length: > 0 and <= 63 } && DnsLabel().IsMatch(value);

    public static bool IsDnsSubdomain(string? value, int maxLength = 253) =>
        value is { Length: > 0 } && value.Length <= maxLength && DnsSubdomain().IsMatch(value);

    public static bool IsCIdentifier(string? value) =>
        value is { Length: > 0 and <= 32 } && CIdentifier().IsMatch(value);

    /// <summary>Semantic Versioning 2.0.0 as the resource.k8s.io `version` attribute requires.</summary>
    public static bool IsSemver(string? value) => value is not null && Semver().IsMatch(value);

    /// <summary>A device attribute or capacity name: C identifier, or domain/C identifier.</summary>
    public static string? QualifiedNameError(string name)
    {
        var parts = name.Split('/');
        if (parts.Length > 2)
        {
            return "a qualified name must be a C identifier, optionally prefixed by a DNS domain and '/'";
        }

        if (parts.Length == 2 && !IsDnsSubdomain(parts[0].ToLowerInvariant(), 63))
        {
            return "the domain must be a DNS subdomain of at most 63 characters";
        }

        var id = parts[^1];
        return IsCIdentifier(id) ? null : "a C identifier must start with a letter or underscore, contain only letters, digits and underscores, and be at most 32 characters";
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex DnsLabel();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", RegexOptions.CultureInvariant)]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex CIdentifier();

    [GeneratedRegex(@"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$", RegexOptions.CultureInvariant)]
    private static partial Regex Semver();
}
