using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// The OpenAPI v3 surface kubectl reads: the /openapi/v3 index and one document per group-version. Each resource
/// has its list and item paths (get, patch with the fieldValidation parameter, which is what lets kubectl leave field
/// validation to the server) and a component schema carrying x-kubernetes-group-version-kind, which is how
/// <c>kubectl explain</c> finds it. resource.k8s.io kinds get their full field schema (<see cref="DraSchemas"/>); the
/// other kinds, stored but not modelled field by field, get metadata only and say so.
/// The PATCH request body lists JSON, merge and apply patches but not strategic merge: this server applies a
/// strategic merge patch as a JSON merge patch, so kubectl must not compute one from these schemas. There is no
/// OpenAPI v2 (/openapi/v2 is a 404, which kubectl treats as "not published" and falls back from).
/// </summary>
public sealed class OpenApiDocuments
{
    private readonly ResourceCatalog _catalog;
    private readonly DraSchemas _schemas;

    public OpenApiDocuments(ResourceCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        _catalog = catalog;
        _schemas = new DraSchemas(catalog.Profile);
    }

    public JsonObject Index()
    {
        var paths = new JsonObject();
        foreach (var (group, version) in GroupVersions())
        {
            var key = group.Length == 0 ? $"api/{version}" : $"apis/{group}/{version}";
            paths[key] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{key}?hash={_catalog.Profile.GitVersion}" };
        }

        return new JsonObject { ["paths"] = paths };
    }

    /// <summary>The document for "api/v1" or "apis/{group}/{version}"; null when not served.</summary>
    public JsonObject? GroupVersion(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var parts = key.Trim('/').Split('/');
        var (group, version) = parts switch
        {
            ["api", var v] => (string.Empty, v),
            ["apis", var g, var v] => (g, v),
            _ => (null!, null!),
        };
        if (group is null || !_catalog.ServesGroupVersion(group, version))
        {
            return null;
        }

        var paths = new JsonObject();
        var schemas = new JsonObject();
        var prefix = group.Length == 0 ? $"/api/{version}" : $"/apis/{group}/{version}";
        foreach (var type in _catalog.InGroupVersion(group, version))
        {
            var gvk = new JsonObject { ["group"] = group, ["version"] = version, ["kind"] = type.Kind };
            var collection = type.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{type.Plural}" : $"{prefix}/{type.Plural}";
            paths[collection] = new JsonObject { ["get"] = Operation($"list{type.Kind}", "list", gvk, [], null) };
            paths[$"{collection}/{{name}}"] = new JsonObject
            {
                ["get"] = Operation($"read{type.Kind}", "get", gvk, [], null),
                ["patch"] = Operation($"patch{type.Kind}", "patch", gvk, ["dryRun", "fieldManager", "fieldValidation", "force"],
                    new JsonArray("application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml")),
            };
            schemas[SchemaName(type, version)] = KindSchema(type, version, gvk);
        }

        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes (SecureDra local API server)", ["version"] = _catalog.Profile.GitVersion },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = schemas },
        };
    }

    /// <summary>The real server's component name, e.g. io.k8s.api.resource.v1.ResourceClaim or io.k8s.api.core.v1.Node.</summary>
    public static string SchemaName(ResourceType type, string version)
    {
        ArgumentNullException.ThrowIfNull(type);
        var package = type.Group.Length == 0 ? "core" : type.Group.Split('.')[0];
        return $"io.k8s.api.{package}.{version}.{type.Kind}";
    }

    private JsonObject KindSchema(ResourceType type, string version, JsonObject gvk)
    {
        JsonObject schema;
        if (type.IsResourceApi && _schemas.For(type.Plural, version) is { } node)
        {
            schema = node.ToOpenApi();
            schema["description"] = $"{type.Kind} ({type.ApiVersion(version)}) as served by the SecureDra local API server, field by field as the Kubernetes {_catalog.Profile.GitVersion} API server has it.";
        }
        else
        {
            schema = SchemaNode.Object(
                ("apiVersion", SchemaNode.String),
                ("kind", SchemaNode.String),
                ("metadata", DraSchemas.ObjectMeta)).ToOpenApi();
            schema["x-kubernetes-preserve-unknown-fields"] = true;
            schema["description"] = $"{type.Kind} ({type.ApiVersion(version)}): stored by the SecureDra local API server as sent; only its metadata is described here.";
        }

        schema["x-kubernetes-group-version-kind"] = new JsonArray(gvk.DeepClone());
        return schema;
    }

    private static JsonObject Operation(string id, string action, JsonObject gvk, IReadOnlyList<string> parameters, JsonArray? bodyTypes)
    {
        var list = new JsonArray();
        foreach (var name in parameters)
        {
            list.Add((JsonNode)new JsonObject { ["name"] = name, ["in"] = "query", ["schema"] = new JsonObject { ["type"] = name == "force" ? "boolean" : "string" } });
        }

        var operation = new JsonObject
        {
            ["operationId"] = id,
            ["parameters"] = list,
            ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
            ["x-kubernetes-action"] = action,
            ["x-kubernetes-group-version-kind"] = gvk.DeepClone(),
        };
        if (bodyTypes is not null)
        {
            var content = new JsonObject();
            foreach (var mediaType in bodyTypes)
            {
                content[mediaType!.GetValue<string>()] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "object" } };
            }

            operation["requestBody"] = new JsonObject { ["content"] = content, ["required"] = true };
        }

        return operation;
    }

    private IEnumerable<(string Group, string Version)> GroupVersions() =>
        _catalog.Types.SelectMany(t => t.Versions.Select(v => (t.Group, v))).Distinct();
}
