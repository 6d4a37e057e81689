using System.Text.Json.Nodes;

namespace SecureDra.Kube.Config;

/// <summary>
/// One or more kubeconfig files merged with kubectl's rules (client-go's ClientConfigLoadingRules): the first file
/// to set a cluster, user or context name wins and later files never change it; current-context comes from the
/// first file that sets it. Each entry remembers its file, because relative paths resolve against that file's
/// directory.
/// </summary>
internal sealed class KubeconfigMerge
{
    private static readonly string[] TopLevel = ["apiVersion", "kind", "preferences", "clusters", "users", "contexts", "current-context", "extensions"];

    public Dictionary<string, NamedEntry> Clusters { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, NamedEntry> Users { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, NamedEntry> Contexts { get; } = new(StringComparer.Ordinal);

    public string? CurrentContext { get; private set; }

    public string? CurrentContextOrigin { get; private set; }

    public List<string> Origins { get; } = [];

    public void Add(JsonObject root, string origin)
    {
        var where = $"kubeconfig {origin}";
        KubeconfigFields.RejectUnknown(root, where + ":", TopLevel);
        var kind = KubeconfigFields.String(root, "kind", where);
        if (kind is not (null or "" or "Config"))
        {
            throw new KubeConfigException($"{where}: kind {KubeconfigFields.Quote(kind)} is not Config");
        }

        Origins.Add(origin);
        if (KubeconfigFields.String(root, "current-context", where) is { Length: > 0 } current && CurrentContext is null)
        {
            CurrentContext = current;
            CurrentContextOrigin = origin;
        }

        AddAll(root, "clusters", "cluster", origin, Clusters);
        AddAll(root, "users", "user", origin, Users);
        AddAll(root, "contexts", "context", origin, Contexts);
    }

    private static void AddAll(JsonObject root, string listKey, string innerKey, string origin, Dictionary<string, NamedEntry> into)
    {
        var where = $"kubeconfig {origin}";
        if (KubeconfigFields.Array(root, listKey, where) is not { } list)
        {
            return;
        }

        var inThisFile = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < list.Count; i++)
        {
            var at = $"{where}: {listKey}[{i}]";
            if (list[i] is not JsonObject entry)
            {
                throw new KubeConfigException($"{at}: must be a mapping with name and {innerKey}");
            }

            KubeconfigFields.RejectUnknown(entry, at, ["name", innerKey]);
            var name = KubeconfigFields.String(entry, "name", at);
            if (string.IsNullOrEmpty(name))
            {
                throw new KubeConfigException($"{at}.name is not set");
            }

            if (!inThisFile.Add(name))
            {
                throw new KubeConfigException($"{where}: {listKey} has two entries named {KubeconfigFields.Quote(name)}");
            }

            // An entry without its body is kept so that using it gives a precise error (and it still shadows later files, as in kubectl).
            var body = KubeconfigFields.Object(entry, innerKey, $"{where}: {listKey}[{KubeconfigFields.Quote(name)}]");
            into.TryAdd(name, new NamedEntry(name, body, origin));
        }
    }
}

/// <summary>A cluster, user or context and the file that defined it.</summary>
internal sealed record NamedEntry(string Name, JsonObject? Body, string Origin)
{
    public string BaseDirectory => Path.GetDirectoryName(Path.GetFullPath(Origin)) ?? "/";
}
