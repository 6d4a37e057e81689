using System.Globalization;
using System.Text.Json.Nodes;

namespace SecureDra.Kube.Client;

/// <summary>
/// The API server's version from <c>/version</c> (major/minor, tolerant of provider suffixes such as
/// "30+" or "v1.33.2-eks-1"). Version-dependent limits (taints per device, devices per slice with
/// taints) key off it because the resource.k8s.io version alone does not tell 1.34 from 1.35.
/// </summary>
public sealed record KubernetesVersion(int Major, int Minor, string GitVersion) : IComparable<KubernetesVersion>
{
    public static async Task<KubernetesVersion?> ReadAsync(IKubeApiClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var node = await client.GetPathAsync("/version", cancellationToken).ConfigureAwait(false);
        return node is JsonObject obj ? FromJson(obj) : null;
    }

    public static KubernetesVersion? FromJson(JsonObject info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var git = info["gitVersion"] is JsonValue g && g.TryGetValue<string>(out var gv) ? gv : "";
        if (LeadingInt(info["major"]) is { } major && LeadingInt(info["minor"]) is { } minor)
        {
            return new KubernetesVersion(major, minor, git);
        }

        // Some distributions leave major/minor empty; gitVersion "v1.33.2-..." still says it.
        var parts = git.TrimStart('v').Split('.', '-', '+');
        return parts.Length >= 2 && LeadingInt(parts[0]) is { } gMajor && LeadingInt(parts[1]) is { } gMinor
            ? new KubernetesVersion(gMajor, gMinor, git)
            : null;
    }

    public bool IsAtLeast(int major, int minor) => Major > major || (Major == major && Minor >= minor);

    public int CompareTo(KubernetesVersion? other) =>
        other is null ? 1 : Major != other.Major ? Major.CompareTo(other.Major) : Minor.CompareTo(other.Minor);

    public override string ToString() => $"{Major}.{Minor}";

    private static int? LeadingInt(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) ? LeadingInt(s) : null;

    private static int? LeadingInt(string text)
    {
        var digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
        {
            digits++;
        }

        return digits > 0 && int.TryParse(text.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}
