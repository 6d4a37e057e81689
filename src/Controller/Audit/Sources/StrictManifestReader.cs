using System.Text;
using System.Text.Json.Nodes;
using SecureDra.Api.Manifests;

namespace SecureDra.Controller.Audit.Sources;

/// <summary>
/// The audit's manifest reader is the same strict, bounded reader as <c>securedra validate</c>
/// (src/Api): duplicate keys, anchors and aliases refused (no "billion laughs"), depth, size and
/// node counts bounded, YAML 1.2 scalar types. One parser for untrusted manifests, not two.
/// </summary>
public sealed class StrictManifestReader(ManifestReader reader) : IManifestReader
{
    public StrictManifestReader()
        : this(new ManifestReader())
    {
    }

    public IReadOnlyList<JsonObject> Read(string text, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = reader.Read(Encoding.UTF8.GetBytes(text));
        if (!result.IsValid)
        {
            throw new FormatException($"{sourceName}: {result.Errors[0]}");
        }

        return [.. result.Documents.Select(d => d.Object)];
    }
}
