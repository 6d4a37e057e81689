using System.Text.Json;
using System.Text.Json.Nodes;
using SecureDra.Kube.Resources.Wire;

namespace SecureDra.Kube.Resources;

/// <summary>
/// ResourceClaim JSON (any served version) ⇄ <see cref="ResourceClaimModel"/>. v1beta1 keeps request
/// fields flat on the request; v1beta2 and v1 wrap them in <c>exactly</c> (or list
/// <c>firstAvailable</c>). Opaque parameters are kept as the JSON text the API server sent, read
/// without materializing the object, so duplicate keys and other oddities reach the strict validator
/// instead of disappearing. A malformed claim is a <see cref="KubeObjectFormatException"/> naming the
/// claim and the field, never a crash. Public so the admission webhook reads claims the same way.
/// </summary>
public static class ResourceClaimConverter
{
    private static readonly JsonDocumentOptions ParametersDocumentOptions = new() { MaxDepth = 1000 };

    /// <summary>Reads a claim; the shape follows <c>apiVersion</c> (by shape when it is absent, as in some embedded objects).</summary>
    public static ResourceClaimModel FromJson(JsonObject claim)
    {
        ArgumentNullException.ThrowIfNull(claim);
        string identity = "ResourceClaim";
        try
        {
            var metadata = JsonRead.Object(claim, "metadata", "metadata") ?? [];
            var ns = JsonRead.String(metadata, "namespace", "metadata") ?? "";
            var name = JsonRead.String(metadata, "name", "metadata") ?? "";
            identity = $"ResourceClaim {ns}/{name}";
            var apiVersion = JsonRead.String(claim, "apiVersion", "apiVersion");
            ResourceApiVersion? version = null;
            if (apiVersion is not null)
            {
                version = ResourceApiVersions.TryParse(apiVersion, out var parsed)
                    ? parsed
                    : throw new KubeObjectFormatException("apiVersion", $"{apiVersion} is not one of resource.k8s.io/v1, v1beta2, v1beta1");
            }

            var spec = JsonRead.Object(claim, "spec", "spec") ?? [];
            var devices = JsonRead.Object(spec, "devices", "spec") ?? [];
            var requests = new List<ClaimRequest>();
            foreach (var (request, path) in JsonRead.Objects(devices, "requests", "spec.devices"))
            {
                requests.Add(RequestFromJson(request, path, version));
            }

            var config = ReadConfigs(devices, "spec.devices", withSource: false);
            ClaimAllocation? allocation = null;
            if (JsonRead.Object(claim, "status", "status") is { } status
                && JsonRead.Object(status, "allocation", "status") is { } allocationObj)
            {
                allocation = AllocationFromJson(allocationObj);
            }

            return new ResourceClaimModel(
                ns,
                name,
                JsonRead.String(metadata, "uid", "metadata") ?? "",
                JsonRead.String(metadata, "resourceVersion", "metadata"),
                requests,
                config,
                allocation);
        }
        catch (KubeObjectFormatException ex)
        {
            throw new KubeObjectFormatException(ex.Field, $"{identity}: {ex.Message}", ex);
        }
    }

    private static ClaimRequest RequestFromJson(JsonObject request, string path, ResourceApiVersion? version)
    {
        var name = JsonRead.RequiredString(request, "name", path);
        var subRequests = new List<ClaimSubRequest>();
        foreach (var (sub, subPath) in JsonRead.Objects(request, "firstAvailable", path))
        {
            subRequests.Add(new ClaimSubRequest(JsonRead.RequiredString(sub, "name", subPath), JsonRead.RequiredString(sub, "deviceClassName", subPath)));
        }

        var exactly = JsonRead.Object(request, "exactly", path);
        var flat = version == ResourceApiVersion.V1Beta1 || (version is null && exactly is null);
        if (flat)
        {
            if (exactly is not null)
            {
                throw new KubeObjectFormatException($"{path}.exactly", "does not exist in resource.k8s.io/v1beta1 (request fields are flat)");
            }

            var className = JsonRead.String(request, "deviceClassName", path);
            if (className is null && subRequests.Count == 0)
            {
                throw new KubeObjectFormatException(path, "one of deviceClassName or firstAvailable is required");
            }

            return new ClaimRequest(name, className, JsonRead.Bool(request, "adminAccess", path), subRequests);
        }

        foreach (var flatField in (string[])["deviceClassName", "adminAccess", "selectors", "allocationMode", "count", "tolerations"])
        {
            if (JsonRead.Get(request, flatField, path) is not null)
            {
                throw new KubeObjectFormatException($"{path}.{flatField}", "belongs under exactly in resource.k8s.io/v1beta2 and v1");
            }
        }

        if (exactly is not null && subRequests.Count > 0)
        {
            throw new KubeObjectFormatException(path, "exactly and firstAvailable are mutually exclusive");
        }

        if (exactly is null)
        {
            return subRequests.Count > 0
                ? new ClaimRequest(name, null, false, subRequests)
                : throw new KubeObjectFormatException(path, "one of exactly or firstAvailable is required");
        }

        var exactlyPath = $"{path}.exactly";
        return new ClaimRequest(
            name,
            JsonRead.RequiredString(exactly, "deviceClassName", exactlyPath),
            JsonRead.Bool(exactly, "adminAccess", exactlyPath),
            []);
    }

    private static ClaimAllocation AllocationFromJson(JsonObject allocation)
    {
        const string Path = "status.allocation";
        var devices = JsonRead.Object(allocation, "devices", Path) ?? [];
        var results = new List<AllocationResult>();
        foreach (var (result, path) in JsonRead.Objects(devices, "results", $"{Path}.devices"))
        {
            results.Add(new AllocationResult(
                JsonRead.RequiredString(result, "request", path),
                JsonRead.RequiredString(result, "driver", path),
                JsonRead.RequiredString(result, "pool", path),
                JsonRead.RequiredString(result, "device", path),
                JsonRead.Bool(result, "adminAccess", path),
                JsonRead.String(result, "shareID", path)));
        }

        return new ClaimAllocation(results, ReadConfigs(devices, $"{Path}.devices", withSource: true));
    }

    private static List<ClaimConfig> ReadConfigs(JsonObject devices, string path, bool withSource)
    {
        var configs = new List<ClaimConfig>();
        foreach (var (config, configPath) in JsonRead.Objects(devices, "config", path))
        {
            string? driver = null;
            string? parameters = null;
            if (JsonRead.Object(config, "opaque", configPath) is { } opaque)
            {
                driver = JsonRead.RequiredString(opaque, "driver", $"{configPath}.opaque");
                parameters = JsonRead.RawText(opaque, "parameters", $"{configPath}.opaque");
            }

            configs.Add(new ClaimConfig(
                JsonRead.Strings(config, "requests", configPath),
                driver,
                parameters,
                withSource ? JsonRead.String(config, "source", configPath) : null));
        }

        return configs;
    }

    /// <summary>A claim in the given version's shape (for creating claims in tests and the demo); status.allocation when set.</summary>
    public static JsonObject ToJson(ResourceClaimModel claim, ResourceApiVersion version)
    {
        ArgumentNullException.ThrowIfNull(claim);
        var metadata = new JsonObject { ["name"] = claim.Name, ["namespace"] = claim.Namespace };
        if (!string.IsNullOrEmpty(claim.Uid))
        {
            metadata["uid"] = claim.Uid;
        }

        if (!string.IsNullOrEmpty(claim.ResourceVersion))
        {
            metadata["resourceVersion"] = claim.ResourceVersion;
        }

        var requests = new JsonArray();
        foreach (var request in claim.Requests)
        {
            requests.Add((JsonNode)RequestToJson(request, version));
        }

        var devices = new JsonObject { ["requests"] = requests };
        if (claim.Config.Count > 0)
        {
            devices["config"] = ConfigsToJson(claim.Config, withSource: false);
        }

        var result = new JsonObject
        {
            ["apiVersion"] = version.ToApiVersion(),
            ["kind"] = "ResourceClaim",
            ["metadata"] = metadata,
            ["spec"] = new JsonObject { ["devices"] = devices },
        };

        if (claim.Allocation is { } allocation)
        {
            var results = new JsonArray();
            foreach (var r in allocation.Results)
            {
                var item = new JsonObject { ["request"] = r.Request, ["driver"] = r.Driver, ["pool"] = r.Pool, ["device"] = r.Device };
                if (r.AdminAccess)
                {
                    item["adminAccess"] = true;
                }

                if (r.ShareId is not null)
                {
                    item["shareID"] = r.ShareId;
                }

                results.Add((JsonNode)item);
            }

            var allocationDevices = new JsonObject { ["results"] = results };
            if (allocation.Config.Count > 0)
            {
                allocationDevices["config"] = ConfigsToJson(allocation.Config, withSource: true);
            }

            result["status"] = new JsonObject { ["allocation"] = new JsonObject { ["devices"] = allocationDevices } };
        }

        return result;
    }

    private static JsonObject RequestToJson(ClaimRequest request, ResourceApiVersion version)
    {
        var json = new JsonObject { ["name"] = request.Name };
        if (request.FirstAvailable.Count > 0)
        {
            var subs = new JsonArray();
            foreach (var sub in request.FirstAvailable)
            {
                subs.Add((JsonNode)new JsonObject { ["name"] = sub.Name, ["deviceClassName"] = sub.DeviceClassName });
            }

            json["firstAvailable"] = subs;
            return json;
        }

        var target = version == ResourceApiVersion.V1Beta1 ? json : new JsonObject();
        target["deviceClassName"] = request.DeviceClassName;
        if (request.AdminAccess)
        {
            target["adminAccess"] = true;
        }

        if (version != ResourceApiVersion.V1Beta1)
        {
            json["exactly"] = target;
        }

        return json;
    }

    private static JsonArray ConfigsToJson(IReadOnlyList<ClaimConfig> configs, bool withSource)
    {
        var array = new JsonArray();
        foreach (var config in configs)
        {
            var item = new JsonObject();
            if (withSource && config.Source is not null)
            {
                item["source"] = config.Source;
            }

            if (config.Requests.Count > 0)
            {
                var requests = new JsonArray();
                foreach (var r in config.Requests)
                {
                    requests.Add((JsonNode?)r);
                }

                item["requests"] = requests;
            }

            if (config.OpaqueDriver is not null)
            {
                var opaque = new JsonObject { ["driver"] = config.OpaqueDriver };
                if (config.OpaqueParametersJson is not null)
                {
                    try
                    {
                        // Parsed lazily: the text (duplicate keys included) is written back as it is. The depth limit is the
                        // client's (1000): text that came from the API server must convert back, however deep it nests.
                        opaque["parameters"] = JsonNode.Parse(config.OpaqueParametersJson, documentOptions: ParametersDocumentOptions);
                    }
                    catch (JsonException ex)
                    {
                        throw new ArgumentException($"config opaque.parameters for driver {config.OpaqueDriver} is not JSON: {ex.Message}", nameof(configs), ex);
                    }
                }

                item["opaque"] = opaque;
            }

            array.Add((JsonNode)item);
        }

        return array;
    }
}
