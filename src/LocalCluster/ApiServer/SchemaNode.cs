using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// The field structure of one API shape: enough to find unknown fields the way the real server's strict decoder
/// does, and to publish the shape as an OpenAPI v3 schema (types, enums, descriptions) for kubectl explain.
/// Leaves (scalars, quantities, free-form objects such as opaque parameters) accept any value: strictness stops there.
/// </summary>
public abstract record SchemaNode
{
    /// <summary>Anything (free-form object, RawExtension, a selector the strict check does not descend into).</summary>
    public static readonly SchemaNode Any = new LeafNode(null, null, null);

    public static readonly SchemaNode String = new LeafNode("string", null, null);

    public static readonly SchemaNode Integer = new LeafNode("integer", "int64", null);

    public static readonly SchemaNode Boolean = new LeafNode("boolean", null, null);

    /// <summary>A resource quantity ("80Gi", "1"), written as a string.</summary>
    public static readonly SchemaNode Quantity = new LeafNode("string", "quantity", null);

    /// <summary>An RFC 3339 time, written as a string.</summary>
    public static readonly SchemaNode Time = new LeafNode("string", "date-time", null);

    public static readonly SchemaNode StringMap = new LeafNode("object", null, null) { MapValueType = "string" };

    public static readonly SchemaNode StringList = new LeafNode("array", null, null) { ItemType = "string" };

    /// <summary>A list of objects whose fields the strict check does not descend into (conditions, managed fields).</summary>
    public static readonly SchemaNode ObjectList = new LeafNode("array", null, null) { ItemType = "object" };

    /// <summary>What kubectl explain prints for the field; null: "no description".</summary>
    public string? Description { get; init; }

    public static SchemaNode Object(params (string Name, SchemaNode Node)[] fields) =>
        new ObjectNode(fields.ToDictionary(f => f.Name, f => f.Node, StringComparer.Ordinal));

    public static SchemaNode ArrayOf(SchemaNode item) => new ArrayNode(item);

    public static SchemaNode MapOf(SchemaNode value) => new MapNode(value);

    /// <summary>A string with these allowed values (kubectl explain lists them as ENUM).</summary>
    public static SchemaNode Enum(params string[] values) => new LeafNode("string", null, values);

    /// <summary>This node with a description.</summary>
    public SchemaNode Doc(string description) => this with { Description = description };

    /// <summary>Appends the paths of unknown fields in <paramref name="value"/> (e.g. spec.devices[0].basic).</summary>
    public abstract void FindUnknown(JsonNode? value, string path, List<string> unknown);

    /// <summary>This node as an OpenAPI v3 schema object.</summary>
    public JsonObject ToOpenApi()
    {
        var schema = OpenApiBody();
        if (Description is not null)
        {
            schema["description"] = Description;
        }

        return schema;
    }

    protected abstract JsonObject OpenApiBody();

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private sealed record LeafNode(string? Type, string? Format, IReadOnlyList<string>? Values) : SchemaNode
    {
        public string? MapValueType { get; init; }

        public string? ItemType { get; init; }

        public override void FindUnknown(JsonNode? value, string path, List<string> unknown)
        {
        }

        protected override JsonObject OpenApiBody()
        {
            if (Type is null)
            {
                return new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true };
            }

            var schema = new JsonObject { ["type"] = Type };
            if (Format is not null)
            {
                schema["format"] = Format;
            }

            if (Values is not null)
            {
                schema["enum"] = new JsonArray([.. Values.Select(v => (JsonNode?)JsonValue.Create(v))]);
            }

            if (MapValueType is not null)
            {
                schema["additionalProperties"] = new JsonObject { ["type"] = MapValueType };
            }

            if (ItemType is not null)
            {
                schema["items"] = new JsonObject { ["type"] = ItemType };
                schema["x-kubernetes-list-type"] = "atomic";
            }

            return schema;
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

        protected override JsonObject OpenApiBody()
        {
            var properties = new JsonObject();
            foreach (var (name, node) in Fields.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                properties[name] = node.ToOpenApi();
            }

            return new JsonObject { ["type"] = "object", ["properties"] = properties };
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

        // Atomic: the server's strategic merge patch is a JSON merge patch, which replaces lists whole.
        protected override JsonObject OpenApiBody() =>
            new() { ["type"] = "array", ["items"] = Item.ToOpenApi(), ["x-kubernetes-list-type"] = "atomic" };
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

        protected override JsonObject OpenApiBody() =>
            new() { ["type"] = "object", ["additionalProperties"] = Value.ToOpenApi() };
    }
}
