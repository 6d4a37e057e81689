using System.Text.Json.Nodes;

namespace SecureDra.Controller.Audit.Sources;

/// <summary>
/// Parses one manifest file (YAML, possibly multi-document, or JSON) into objects. Behind an interface so the
/// shared strict reader from src/Api (<see cref="StrictManifestReader"/>) serves both validate and audit.
/// </summary>
public interface IManifestReader
{
    /// <summary>Objects in the text; throws <see cref="FormatException"/> naming the document when it is not a mapping.</summary>
    IReadOnlyList<JsonObject> Read(string text, string sourceName);
}
