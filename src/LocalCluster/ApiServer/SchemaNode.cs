using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// The field structure of one API shape, enough to find unknown fields the way the real server's strict decoder
/// does. Leaves (scalars, quantities, free-form objects such as opaque parameters) are <see cref="Any"/>.
/// </summary>
public abstract record SchemaNode
{
    public static readonly SchemaNode Any = new AnyNode();

    public static SchemaNode Object(params (string Name, SchemaNode Node)[] fields) =>
        new ObjectNode(fields.ToDictionary(f => f.Name, f => f.Node, StringComparer.Ordinal));

    public static SchemaNode ArrayOf(SchemaNode item) => new ArrayNode(item);

    public static SchemaNode MapOf(SchemaNode value) => new MapNode(value);

    /// <summary>Appends the paths of unknown fields in <paramref name="value"/> (e.g. spec.devices[0].basic).</summary>
    public abstract void FindUnknown(JsonNode? value, string path, List<string> unknown);

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private sealed record AnyNode : SchemaNode
    {
        public override void FindUnknown(JsonNode? value, string path, List<string> unknown)
        {
        }
    }

    private sealed record ObjectNode(Dictionary<string, SchemaNode> Fields) : SchemaNode
    {
        public override void FindUnknown(JsonNode? value, string path, List<string> unknown)
        {
            if (value is not JsonObject obj)
            {
                return;
            }

            foreach (var (name, child) in obj)
            {
                if (Fields.TryGetValue(name, out var node))
                {
                    node.FindUnknown(child, Join(path, name), unknown);
                }
                else
                {
                    unknown.Add(Join(path, name));
                }
            }
        }
    }

    private sealed record ArrayNode(SchemaNode Item) : SchemaNode
    {
        public override void FindUnknown(JsonNode? value, string path, List<string> unknown)
        {
            if (value is not JsonArray array)
            {
                return;
            }

            for (var i = 0; i < array.Count; i++)
            {
                Item.FindUnknown(array[i], $"{path}[{i}]", unknown);
            }
        }
    }

    private sealed record MapNode(SchemaNode Value) : SchemaNode
    {
        public override void FindUnknown(JsonNode? value, string path, List<string> unknown)
        {
            if (value is not JsonObject obj)
            {
                return;
            }

            foreach (var (name, child) in obj)
            {
                Value.FindUnknown(child, $"{path}[{name}]", unknown);
            }
        }
    }
}
