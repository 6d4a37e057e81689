using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SecureDra.LocalCluster.ApiServer.Json;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// Server-side printing (a meta.k8s.io Table instead of objects when the client asks with
/// <c>Accept: application/json;as=Table;v=v1;g=meta.k8s.io</c>, as kubectl get does). The columns are the real API
/// server's printers' (pkg/printers/internalversion): NAME NODE DRIVER POOL AGE for slices, NAME STATE AGE for
/// claims, NAME AGE for device classes and claim templates, NAME STATUS AGE for namespaces, NAME STATUS ROLES AGE
/// VERSION for nodes, and the default NAME / CREATED AT for the rest.
/// </summary>
public sealed class TableConverter
{
    private static readonly Column NameColumn = new("Name", "string", "name", "Name must be unique within a namespace.");
    private static readonly Column AgeColumn = new("Age", "string", null, "The time since the object was created.");

    private readonly TimeProvider _time;

    public TableConverter(TimeProvider time)
    {
        _time = time;
    }

    /// <summary>The Table version the Accept header asks for ("v1" or "v1beta1"), or null when it asks for objects.</summary>
    public static string? Requested(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        foreach (var accept in request.Headers.Accept.SelectMany(h => (h ?? string.Empty).Split(',')))
        {
            var parts = accept.Split(';').Select(p => p.Trim()).ToList();
            if (parts[0] is not ("application/json" or "*/*" or "application/*"))
            {
                continue;
            }

            var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in parts.Skip(1).Select(p => p.Split('=', 2)).Where(p => p.Length == 2))
            {
                parameters.TryAdd(pair[0], pair[1]);
            }

            if (!parameters.TryGetValue("as", out var asKind))
            {
                // A plain JSON entry before any Table entry: the client prefers objects.
                return null;
            }

            if (asKind == "Table" && parameters.GetValueOrDefault("g") == "meta.k8s.io" && parameters.GetValueOrDefault("v") is "v1" or "v1beta1")
            {
                return parameters["v"];
            }
        }

        return null;
    }

    /// <summary>
    /// A Table of <paramref name="items"/> (wire shape). Each row carries the object as the request's includeObject
    /// asks: Metadata (default: a PartialObjectMetadata), Object (the whole object) or None.
    /// </summary>
    public JsonObject ToTable(ResourceType type, string tableVersion, IReadOnlyList<JsonObject> items, string? resourceVersion, HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(request);
        var include = request.Query["includeObject"].ToString() switch
        {
            "" or "Metadata" => "Metadata",
            "Object" => "Object",
            "None" => "None",
            var other => throw ApiError.BadRequest($"includeObject: Unsupported value: \"{other}\": supported values: \"None\", \"Metadata\", \"Object\""),
        };
        var columns = Columns(type);
        var definitions = new JsonArray();
        foreach (var column in columns)
        {
            var definition = new JsonObject { ["name"] = column.Name, ["type"] = column.Type, ["format"] = column.Format ?? string.Empty, ["description"] = column.Description, ["priority"] = 0 };
            definitions.Add((JsonNode)definition);
        }

        var rows = new JsonArray();
        foreach (var item in items)
        {
            var row = new JsonObject { ["cells"] = Cells(type, item) };
            if (include != "None")
            {
                row["object"] = include == "Object" ? item.DeepClone() : PartialMetadata(item, tableVersion);
            }

            rows.Add((JsonNode)row);
        }

        var metadata = new JsonObject();
        if (resourceVersion is not null)
        {
            metadata["resourceVersion"] = resourceVersion;
        }

        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = $"meta.k8s.io/{tableVersion}",
            ["metadata"] = metadata,
            ["columnDefinitions"] = definitions,
            ["rows"] = rows,
        };
    }

    private static List<Column> Columns(ResourceType type) => (type.IsResourceApi, type.Plural) switch
    {
        (true, "resourceslices") =>
        [
            NameColumn,
            new("Node", "string", null, "The node whose devices this slice lists, when it lists one node's."),
            new("Driver", "string", null, "The DRA driver that publishes the slice."),
            new("Pool", "string", null, "The name of the pool the slice belongs to."),
            AgeColumn,
        ],
        (true, "resourceclaims") => [NameColumn, new("State", "string", null, "A summary of the current state (allocated, pending, reserved, etc.)."), AgeColumn],
        (true, "deviceclasses" or "resourceclaimtemplates") => [NameColumn, AgeColumn],
        (false, "namespaces") when type.Group.Length == 0 => [NameColumn, new("Status", "string", null, "The lifecycle phase of the namespace."), AgeColumn],
        (false, "nodes") when type.Group.Length == 0 =>
        [
            NameColumn,
            new("Status", "string", null, "The status of the node"),
            new("Roles", "string", null, "The roles of the node"),
            AgeColumn,
            new("Version", "string", null, "The kubelet version the node reports."),
        ],
        _ => [NameColumn, new("Created At", "date", null, "The time the object was created.")],
    };

    private JsonArray Cells(ResourceType type, JsonObject item)
    {
        var metadata = item["metadata"];
        var name = JsonFields.Str(metadata?["name"]) ?? string.Empty;
        var created = JsonFields.Str(metadata?["creationTimestamp"]);
        return (type.IsResourceApi, type.Plural) switch
        {
            (true, "resourceslices") => new JsonArray(
                name,
                JsonFields.Str(item["spec"]?["nodeName"]) ?? string.Empty,
                JsonFields.Str(item["spec"]?["driver"]) ?? string.Empty,
                JsonFields.Str(item["spec"]?["pool"]?["name"]) ?? string.Empty,
                Age(created)),
            (true, "resourceclaims") => new JsonArray(name, ClaimState(item), Age(created)),
            (true, "deviceclasses" or "resourceclaimtemplates") => new JsonArray(name, Age(created)),
            (false, "namespaces") when type.Group.Length == 0 => new JsonArray(name, JsonFields.Str(item["status"]?["phase"]) ?? string.Empty, Age(created)),
            (false, "nodes") when type.Group.Length == 0 => new JsonArray(
                name,
                NodeStatus(item),
                NodeRoles(item),
                Age(created),
                JsonFields.Str(item["status"]?["nodeInfo"]?["kubeletVersion"]) ?? string.Empty),
            _ => new JsonArray(name, created),
        };
    }

    /// <summary>deleted / pending / allocated / reserved, comma-joined, as the real claim printer summarises a claim.</summary>
    private static string ClaimState(JsonObject claim)
    {
        var states = new List<string>();
        var deleting = claim["metadata"]?["deletionTimestamp"] is not null;
        if (deleting)
        {
            states.Add("deleted");
        }

        if (claim["status"]?["allocation"] is null)
        {
            if (!deleting)
            {
                states.Add("pending");
            }
        }
        else
        {
            states.Add("allocated");
            if (claim["status"]?["reservedFor"] is JsonArray { Count: > 0 })
            {
                states.Add("reserved");
            }
        }

        return string.Join(',', states);
    }

    /// <summary>Ready or NotReady from the Ready condition (Unknown without one), plus SchedulingDisabled when cordoned.</summary>
    private static string NodeStatus(JsonObject node)
    {
        var states = new List<string>();
        var ready = (node["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => JsonFields.Str(c["type"]) == "Ready");
        if (ready is not null)
        {
            states.Add(JsonFields.Str(ready["status"]) == "True" ? "Ready" : "NotReady");
        }
        else
        {
            states.Add("Unknown");
        }

        if (JsonFields.Bool(node["spec"]?["unschedulable"]))
        {
            states.Add("SchedulingDisabled");
        }

        return string.Join(',', states);
    }

    /// <summary>The node-role.kubernetes.io/ROLE labels (and kubernetes.io/role), sorted; &lt;none&gt; without any.</summary>
    private static string NodeRoles(JsonObject node)
    {
        const string RolePrefix = "node-role.kubernetes.io/";
        var roles = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in node["metadata"]?["labels"] as JsonObject ?? [])
        {
            if (key.StartsWith(RolePrefix, StringComparison.Ordinal) && key.Length > RolePrefix.Length)
            {
                roles.Add(key[RolePrefix.Length..]);
            }
            else if (key == "kubernetes.io/role" && JsonFields.Str(value) is { Length: > 0 } role)
            {
                roles.Add(role);
            }
        }

        return roles.Count == 0 ? "<none>" : string.Join(',', roles);
    }

    private string Age(string? created) =>
        DateTimeOffset.TryParse(created, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? HumanDuration.Format(_time.GetUtcNow() - at)
            : "<unknown>";

    private static JsonObject PartialMetadata(JsonObject item, string tableVersion) => new()
    {
        ["kind"] = "PartialObjectMetadata",
        ["apiVersion"] = $"meta.k8s.io/{tableVersion}",
        ["metadata"] = item["metadata"]?.DeepClone(),
    };

    private sealed record Column(string Name, string Type, string? Format, string Description);
}
