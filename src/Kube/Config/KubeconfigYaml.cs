using System.Text;
using System.Text.Json.Nodes;
using SecureDra.Api.Manifests;

namespace SecureDra.Kube.Config;

/// <summary>
/// Turns a kubeconfig's text into JSON with the project's one strict YAML reader (<see cref="ManifestReader"/>):
/// bounded depth (so 20 000 nested <c>[</c> are refused after the 65th, in linear time), nodes and size,
/// no aliases or merge keys, no duplicate keys, and every YamlDotNet exception turned into an error.
/// </summary>
internal static class KubeconfigYaml
{
    /// <summary>kubectl has no limit; 4 MiB is far above any real kubeconfig (embedded CA bundles included).</summary>
    public const int MaxBytes = 4 * 1024 * 1024;

    /// <summary>A kubeconfig nests 5 levels (users[].user.exec.env[].value); extensions may nest more, never 32.</summary>
    public const int MaxDepth = 32;

    private static readonly ManifestReader Reader = new(new ManifestLimits { MaxBytes = MaxBytes, MaxDepth = MaxDepth, MaxNodes = 100_000, MaxDocuments = 2 });

    public static JsonObject Read(string yaml, string origin)
    {
        // A lone surrogate in the string becomes U+FFFD here; the text is the operator's file either way.
        var bytes = Encoding.UTF8.GetBytes(yaml);
        var result = Reader.Read(bytes);
        if (result.Errors.Count > 0)
        {
            throw new KubeConfigException($"kubeconfig {origin}: {OneLine(result.Errors[0].ToString())}");
        }

        if (result.Documents.Count == 0)
        {
            throw new KubeConfigException($"kubeconfig {origin}: expected a mapping at the top level (the file is empty)");
        }

        if (result.Documents.Count > 1)
        {
            throw new KubeConfigException($"kubeconfig {origin}: holds {result.Documents.Count} YAML documents; a kubeconfig is one");
        }

        return result.Documents[0].Object;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
