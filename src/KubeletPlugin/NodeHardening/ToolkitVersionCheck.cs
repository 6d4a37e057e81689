using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>
/// The toolkit version, from a dpkg status file (the installed nvidia-container-toolkit or -base
/// stanza) or a file holding the version alone. Below 1.17.8 a container can escape to the host and
/// reach every GPU (CVE-2024-0132…0137, CVE-2025-23359, CVE-2025-23266 "NVIDIAScape", CVE-2025-23267).
/// Unknown is advisory: GPU Operator installs keep no version file on the host.
/// </summary>
public sealed partial class ToolkitVersionCheck(NodeHardeningOptions options) : INodeCheck
{
    private static readonly string[] Packages = ["nvidia-container-toolkit", "nvidia-container-toolkit-base"];

    public string Name => "toolkit-version";

    public IReadOnlyList<NodeFinding> Run()
    {
        var file = NodeFileReader.Read(options.ToolkitVersionFile, options.MaxVersionFileBytes);
        if (!file.Exists || file.Error is not null)
        {
            return [Unknown(options.ToolkitVersionFile, file.Error ?? "file not found")];
        }

        var version = Parse(file.Bytes);
        return version is null ? [Unknown(options.ToolkitVersionFile, "no nvidia-container-toolkit version in it")] : Evaluate(version, options.ToolkitVersionFile);
    }

    public static IReadOnlyList<NodeFinding> Evaluate(Version version, string source)
    {
        ArgumentNullException.ThrowIfNull(version);
        return version >= NodeHardeningOptions.MinimumToolkitVersion
            ? []
            :
            [
                new NodeFinding("toolkit-version-vulnerable", "B9", NodeFindingState.Open, source,
                    $"NVIDIA Container Toolkit {version} is below {NodeHardeningOptions.MinimumToolkitVersion}: known container escapes (CVE-2025-23266, CVE-2025-23267 and earlier) reach every GPU on the node",
                    $"upgrade the toolkit to {NodeHardeningOptions.MinimumToolkitVersion} or later (GPU Operator 25.3.2 or later)"),
            ];
    }

    /// <summary>The toolkit version in a dpkg status file or a plain version file; null if none. Never throws (fuzz entry).</summary>
    public static Version? Parse(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        if (text.Contains("Package:", StringComparison.Ordinal))
        {
            foreach (var stanza in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
            {
                var fields = Fields(stanza);
                if (fields.TryGetValue("Package", out var package) && Packages.Contains(package)
                    && fields.TryGetValue("Status", out var status) && status.EndsWith(" installed", StringComparison.Ordinal)
                    && fields.TryGetValue("Version", out var v) && FromText(v) is { } version)
                {
                    return version;
                }
            }

            return null;
        }

        var firstLine = text.AsSpan().TrimStart();
        var end = firstLine.IndexOf('\n');
        return FromText((end < 0 ? firstLine : firstLine[..end]).ToString());
    }

    private static Dictionary<string, string> Fields(string stanza)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in stanza.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && !char.IsWhiteSpace(line[0]))
            {
                fields.TryAdd(line[..colon], line[(colon + 1)..].Trim());
            }
        }

        return fields;
    }

    private static Version? FromText(string text)
    {
        Match m;
        try
        {
            m = VersionPattern().Match(text.Length > 256 ? text[..256] : text);
        }
        catch (RegexMatchTimeoutException)
        {
            return null;
        }

        return m.Success
            && int.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            && int.TryParse(m.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var minor)
            && int.TryParse(m.Groups[3].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var patch)
            ? new Version(major, minor, patch)
            : null;
    }

    private static NodeFinding Unknown(string source, string why) =>
        new("toolkit-version-unknown", "B9", NodeFindingState.Advisory, source, $"the toolkit version cannot be read ({why})",
            $"confirm the toolkit is {NodeHardeningOptions.MinimumToolkitVersion} or later, or point --node-toolkit-version-file at a file holding the version");

    [GeneratedRegex(@"(?<![0-9.])([0-9]{1,4})\.([0-9]{1,4})\.([0-9]{1,4})", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex VersionPattern();
}
