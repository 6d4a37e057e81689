using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// A minimal OpenAPI v3 surface: the /openapi/v3 index and one document per group-version listing each
/// resource's PATCH operation with its GVK and the fieldValidation parameter. kubectl reads exactly that to decide
/// it may leave field validation to the server (kubectl's queryParamVerifierV3); schemas are not served, so
/// kubectl apply falls back to its built-in patch metadata.
/// </summary>
public sealed class OpenApiDocuments
{
    private readonly ResourceCatalog _catalog;

    public OpenApiDocuments(ResourceCatalog catalog)
    {
        _catalog = catalog;
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
        var prefix = group.Length == 0 ? $"/api/{version}" : $"/apis/{group}/{version}";
        foreach (var type in _catalog.InGroupVersion(group, version))
        {
            var item = type.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{type.Plural}/{{name}}" : $"{prefix}/{type.Plural}/{{name}}";
            paths[item] = new JsonObject
            {
                ["patch"] = new JsonObject
                {
                    ["operationId"] = $"patch{type.Kind}",
                    ["parameters"] = new JsonArray(
                        new JsonObject { ["name"] = "dryRun", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } },
                        new JsonObject { ["name"] = "fieldManager", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } },
                        new JsonObject { ["name"] = "fieldValidation", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } },
                        new JsonObject { ["name"] = "force", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "boolean" } }),
                    ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
                    ["x-kubernetes-action"] = "patch",
                    ["x-kubernetes-group-version-kind"] = new JsonObject { ["group"] = group, ["version"] = version, ["kind"] = type.Kind },
                },
            };
        }

        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes (SecureDra local API server)", ["version"] = _catalog.Profile.GitVersion },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = new JsonObject() },
        };
    }

    private IEnumerable<(string Group, string Version)> GroupVersions() =>
        _catalog.Types.SelectMany(t => t.Versions.Select(v => (t.Group, v))).Distinct();
}
