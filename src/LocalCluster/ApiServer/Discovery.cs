using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>Unaggregated discovery documents (/api, /api/v1, /apis, /apis/g, /apis/g/v) and /version.</summary>
public sealed class Discovery
{
    private readonly ResourceCatalog _catalog;

    public Discovery(ResourceCatalog catalog)
    {
        _catalog = catalog;
    }

    public JsonObject Version()
    {
        var p = _catalog.Profile;
        return new JsonObject
        {
            ["major"] = "1",
            ["minor"] = p.Minor.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["emulationMajor"] = "1",
            ["emulationMinor"] = p.Minor.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["gitVersion"] = p.GitVersion,
            ["gitCommit"] = "0000000000000000000000000000000000000000",
            ["gitTreeState"] = "clean",
            ["buildDate"] = "2026-01-01T00:00:00Z",
            ["goVersion"] = "go1.24.0",
            ["compiler"] = "gc",
            ["platform"] = "linux/amd64",
        };
    }

    public static JsonObject CoreVersions() => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = "127.0.0.1" }),
    };

    public JsonObject GroupList()
    {
        var groups = new JsonArray();
        foreach (var (group, versions) in _catalog.Groups)
        {
            groups.Add((JsonNode)Group(group, versions));
        }

        return new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = groups };
    }

    public JsonObject? GroupDocument(string group)
    {
        var found = _catalog.Groups.Where(g => g.Group == group).ToList();
        if (found.Count == 0)
        {
            return null;
        }

        var doc = Group(group, found[0].Versions);
        doc["kind"] = "APIGroup";
        doc["apiVersion"] = "v1";
        return doc;
    }

    public JsonObject? ResourceList(string group, string version)
    {
        if (!_catalog.ServesGroupVersion(group, version))
        {
            return null;
        }

        var resources = new JsonArray();
        foreach (var type in _catalog.InGroupVersion(group, version))
        {
            var entry = new JsonObject
            {
                ["name"] = type.Plural,
                ["singularName"] = type.Singular,
                ["namespaced"] = type.Namespaced,
                ["kind"] = type.Kind,
                ["verbs"] = new JsonArray([.. ResourceType.StandardVerbs.Select(v => (JsonNode)v)]),
            };
            if (type.ShortNames.Count > 0)
            {
                entry["shortNames"] = new JsonArray([.. type.ShortNames.Select(s => (JsonNode)s)]);
            }

            entry["storageVersionHash"] = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(type.Key))[..8]);
            resources.Add((JsonNode)entry);
            if (type.HasStatusSubresource)
            {
                resources.Add((JsonNode)new JsonObject
                {
                    ["name"] = type.Plural + "/status",
                    ["singularName"] = string.Empty,
                    ["namespaced"] = type.Namespaced,
                    ["kind"] = type.Kind,
                    ["verbs"] = new JsonArray("get", "patch", "update"),
                });
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = resources,
        };
    }

    private static JsonObject Group(string group, IReadOnlyList<string> versions)
    {
        var list = new JsonArray();
        foreach (var version in versions)
        {
            list.Add((JsonNode)new JsonObject { ["groupVersion"] = $"{group}/{version}", ["version"] = version });
        }

        return new JsonObject
        {
            ["name"] = group,
            ["versions"] = list,
            ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{group}/{versions[0]}", ["version"] = versions[0] },
        };
    }
}
