using System.Text.Json.Nodes;

namespace SecureDra.Deploy.Tests.Infrastructure;

/// <summary>The chart rendered once with its default values (as deploy/render.sh does), parsed to JSON.</summary>
public sealed class RenderedChart : IDisposable
{
    public const string Namespace = "securedra-system";

    private readonly string _dir = Directory.CreateTempSubdirectory("securedra-deploy-").FullName;

    public RenderedChart()
    {
        Yaml = Render(Namespace);
        File = Path.Combine(_dir, "rendered.yaml");
        System.IO.File.WriteAllText(File, Yaml);
        Objects = Parse(File);
        _policyResults = new Lazy<IReadOnlyList<JsonNode>>(() =>
            JsonNode.Parse(Tool.Node("eval-policies.mjs", File))!.AsArray().Select(n => n!).ToList());
    }

    private readonly Lazy<IReadOnlyList<JsonNode>> _policyResults;

    /// <summary>The admission corpus evaluated against the rendered policies (js/eval-policies.mjs), run once.</summary>
    public IReadOnlyList<JsonNode> PolicyResults => _policyResults.Value;

    /// <summary>helm template output (default values).</summary>
    public string Yaml { get; }

    /// <summary>The same output on disk, for the node scripts.</summary>
    public string File { get; }

    public IReadOnlyList<JsonObject> Objects { get; }

    public static string Render(string @namespace, params string[] extra) =>
        Tool.Helm(["template", "securedra", RepoPaths.Chart, "--namespace", @namespace, .. extra]);

    public static IReadOnlyList<JsonObject> Parse(string yamlFile) =>
        JsonNode.Parse(Tool.Node("yaml-to-json.mjs", yamlFile))!.AsArray().Select(n => n!.AsObject()).ToList();

    /// <summary>
    /// The chart rendered with <paramref name="extra"/> into a file of the run's directory (a test class may cache it and
    /// several tests read it, the policy evaluation among them, so it lives as long as the run), and parsed.
    /// </summary>
    public static (string File, IReadOnlyList<JsonObject> Objects) RenderToRunFile(string name, params string[] extra)
    {
        var file = SecureDra.TestKit.TestRunDirectory.File($"securedra-{name}-{Guid.NewGuid():N}.yaml");
        System.IO.File.WriteAllText(file, Render(Namespace, extra));
        return (file, Parse(file));
    }

    public IReadOnlyList<JsonObject> OfKind(string kind) => Objects.Where(o => (string?)o["kind"] == kind).ToList();

    public JsonObject Single(string kind) => Assert.Single(OfKind(kind));

    public JsonObject Get(string kind, string name) =>
        OfKind(kind).SingleOrDefault(o => (string?)o["metadata"]!["name"] == name)
        ?? throw new Xunit.Sdk.XunitException($"no {kind} named {name} in the rendered chart");

    public string TempFile(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ChartCollection : ICollectionFixture<RenderedChart>
{
    public const string Name = "rendered chart";
}
