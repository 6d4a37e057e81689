using System.Globalization;
using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.Tests;

/// <summary>Test objects in each wire shape.</summary>
public static class Objects
{
    public static string ResourcePath(string version, string plural) => $"/apis/resource.k8s.io/{version}/{plural}";

    public static JsonObject Device(string version, string name, JsonObject? extra = null)
    {
        var fields = new JsonObject
        {
            ["attributes"] = new JsonObject
            {
                ["productName"] = new JsonObject { ["string"] = "NVIDIA H100" },
                ["driverVersion"] = new JsonObject { ["version"] = "550.54.15" },
                ["index"] = new JsonObject { ["int"] = 0 },
            },
            ["capacity"] = new JsonObject { ["memory"] = new JsonObject { ["value"] = "80Gi" } },
        };
        foreach (var (key, value) in extra ?? [])
        {
            fields[key] = value?.DeepClone();
        }

        if (version == "v1beta1")
        {
            return new JsonObject { ["name"] = name, ["basic"] = fields };
        }

        fields.Insert(0, "name", name);
        return fields;
    }

    public static JsonObject Slice(string version, string name, string node = "node-a", int devices = 1, Func<int, JsonObject?>? extra = null, string driver = "gpu.nvidia.com")
    {
        var list = new JsonArray();
        for (var i = 0; i < devices; i++)
        {
            list.Add((JsonNode)Device(version, "gpu-" + i.ToString(CultureInfo.InvariantCulture), extra?.Invoke(i)));
        }

        return new JsonObject
        {
            ["apiVersion"] = "resource.k8s.io/" + version,
            ["kind"] = "ResourceSlice",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["node"] = node } },
            ["spec"] = new JsonObject
            {
                ["driver"] = driver,
                ["nodeName"] = node,
                ["pool"] = new JsonObject { ["name"] = node, ["generation"] = 1, ["resourceSliceCount"] = 1 },
                ["devices"] = list,
            },
        };
    }

    public static JsonObject Claim(string version, string name)
    {
        var request = version == "v1beta1"
            ? new JsonObject { ["name"] = "gpu", ["deviceClassName"] = "gpu.nvidia.com" }
            : new JsonObject { ["name"] = "gpu", ["exactly"] = new JsonObject { ["deviceClassName"] = "gpu.nvidia.com" } };
        return new JsonObject
        {
            ["apiVersion"] = "resource.k8s.io/" + version,
            ["kind"] = "ResourceClaim",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = new JsonObject
            {
                ["devices"] = new JsonObject
                {
                    ["requests"] = new JsonArray(request),
                    ["config"] = new JsonArray(new JsonObject
                    {
                        ["requests"] = new JsonArray("gpu"),
                        ["opaque"] = new JsonObject
                        {
                            ["driver"] = "gpu.nvidia.com",
                            ["parameters"] = new JsonObject { ["apiVersion"] = "resource.securedra.io/v1alpha1", ["kind"] = "GpuConfig" },
                        },
                    }),
                },
            },
        };
    }

    public static JsonObject Allocation() => new()
    {
        ["allocation"] = new JsonObject
        {
            ["devices"] = new JsonObject
            {
                ["results"] = new JsonArray(new JsonObject { ["request"] = "gpu", ["driver"] = "gpu.nvidia.com", ["pool"] = "node-a", ["device"] = "gpu-0" }),
            },
        },
    };
}
