using System.Text.Json.Nodes;

namespace SecureDra.Api.Manifests;

/// <summary>One document of a manifest file, as JSON. <paramref name="Index"/> counts from 0 over the file's documents.</summary>
public sealed record ManifestDocument(int Index, int Line, JsonObject Object)
{
    public string? ApiVersion => Object["apiVersion"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public string? Kind => Object["kind"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
