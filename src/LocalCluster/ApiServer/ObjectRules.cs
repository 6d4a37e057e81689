using System.Text.Json.Nodes;
using SecureDra.LocalCluster.ApiServer.Json;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// Per-resource write strategy (the real server's PrepareForCreate/PrepareForUpdate, defaulting and validation):
/// status vs. spec ownership, DRA request defaults, dropping gated-off fields, immutability and name formats.
/// </summary>
public sealed class ObjectRules
{
    private static readonly HashSet<string> StatusClearedOnCreate = new(StringComparer.Ordinal) { "resourceclaims", "daemonsets", "validatingadmissionpolicies" };

    private readonly KubernetesVersionProfile _profile;
    private readonly DraValidator _validator;
    private readonly bool _deviceTaints;
    private readonly bool _partitionable;
    private readonly TimeProvider _time;

    public ObjectRules(KubernetesVersionProfile profile, bool deviceTaints, TimeProvider time, bool partitionableDevices = false)
    {
        _profile = profile;
        _time = time;
        _deviceTaints = deviceTaints;
        _partitionable = partitionableDevices && profile.HasPartitionableDevices;
        _validator = new DraValidator(profile);
    }

    public void PrepareForCreate(ResourceType type, JsonObject obj)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(obj);
        if (type.HasStatusSubresource && StatusClearedOnCreate.Contains(type.Plural))
        {
            obj.Remove("status");
        }

        if (type.Plural == "namespaces")
        {
            obj["status"] = new JsonObject { ["phase"] = "Active" };
        }

        ApplyDraDefaults(type, obj);
    }

    /// <summary>Builds the object to store from the current one and the client's new version (main resource or /status).</summary>
    public JsonObject PrepareForUpdate(ResourceType type, JsonObject current, JsonObject updated, string? subresource)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(updated);
        if (subresource == "status")
        {
            // A status write changes status only (spec and metadata stay), as with the real status strategy.
            var result = (JsonObject)current.DeepClone();
            result["status"] = updated["status"]?.DeepClone();
            if (result["status"] is null)
            {
                result.Remove("status");
            }

            result["metadata"]!["resourceVersion"] = updated["metadata"]?["resourceVersion"]?.DeepClone();
            return result;
        }

        if (type.HasStatusSubresource)
        {
            updated["status"] = current["status"]?.DeepClone();
            if (updated["status"] is null)
            {
                updated.Remove("status");
            }
        }

        ApplyDraDefaults(type, updated);
        return updated;
    }

    public IReadOnlyList<StatusCause> Validate(ResourceType type, string version, JsonObject obj, JsonObject? old)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(obj);
        var errors = new FieldErrors();
        var name = JsonFields.Str(obj["metadata"]?["name"]);
        var generateName = JsonFields.Str(obj["metadata"]?["generateName"]);
        if (string.IsNullOrEmpty(name) && string.IsNullOrEmpty(generateName))
        {
            errors.Required("metadata.name", "name or generateName is required");
        }
        else if (!string.IsNullOrEmpty(name) && NameError(type, name) is { } error)
        {
            errors.Invalid("metadata.name", name, error);
        }

        var causes = new List<StatusCause>(errors.Causes);
        if (type.IsResourceApi)
        {
            causes.AddRange(_validator.Validate(type, version, obj));
            if (old is not null)
            {
                causes.AddRange(Immutability(type, obj, old));
            }
        }

        return causes;
    }

    private static List<StatusCause> Immutability(ResourceType type, JsonObject obj, JsonObject old)
    {
        var errors = new FieldErrors();
        switch (type.Plural)
        {
            case "resourceslices":
                if (!JsonNode.DeepEquals(obj["spec"]?["driver"], old["spec"]?["driver"]))
                {
                    errors.Invalid("spec.driver", obj["spec"]?["driver"]?.DeepClone(), "field is immutable");
                }

                if (!JsonNode.DeepEquals(obj["spec"]?["pool"]?["name"], old["spec"]?["pool"]?["name"]))
                {
                    errors.Invalid("spec.pool.name", obj["spec"]?["pool"]?["name"]?.DeepClone(), "field is immutable");
                }

                break;
            case "resourceclaims" or "resourceclaimtemplates":
                if (!JsonNode.DeepEquals(obj["spec"], old["spec"]))
                {
                    errors.Invalid("spec", "<value omitted>", "field is immutable");
                }

                // Once allocated, an allocation may only be removed (deallocation), never rewritten.
                var oldAllocation = old["status"]?["allocation"];
                var newAllocation = obj["status"]?["allocation"];
                if (oldAllocation is not null && newAllocation is not null && !JsonNode.DeepEquals(oldAllocation, newAllocation))
                {
                    errors.Invalid("status.allocation", "<value omitted>", "field is immutable");
                }

                break;
        }

        return [.. errors.Causes];
    }

    private static string? NameError(ResourceType type, string name) => type.Plural switch
    {
        "namespaces" => NameRules.IsDnsLabel(name) ? null : "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
        "clusterroles" or "clusterrolebindings" or "roles" or "rolebindings" =>
            name is "." or ".." || name.Contains('/', StringComparison.Ordinal) || name.Contains('%', StringComparison.Ordinal) ? "may not contain '/' or '%' and may not be '.' or '..'" : null,
        _ => NameRules.IsDnsSubdomain(name) ? null : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
    };

    private void ApplyDraDefaults(ResourceType type, JsonObject obj)
    {
        if (!type.IsResourceApi)
        {
            return;
        }

        switch (type.Plural)
        {
            case "resourceslices":
                if (!_partitionable && obj["spec"] is JsonObject sliceSpec)
                {
                    // DRAPartitionableDevices off: dropped silently, as the real server's dropDisabledFields does.
                    sliceSpec.Remove("sharedCounters");
                }

                foreach (var device in (obj["spec"]?["devices"] as JsonArray)?.OfType<JsonObject>() ?? [])
                {
                    if (!_partitionable)
                    {
                        device.Remove("consumesCounters");
                    }

                    if (!_deviceTaints || !_profile.HasDeviceTaintsField)
                    {
                        // A gated-off field is dropped silently, as the real server's PrepareForCreate does.
                        device.Remove("taints");
                    }
                    else if (device["taints"] is JsonArray taints)
                    {
                        foreach (var taint in taints.OfType<JsonObject>().Where(t => t["timeAdded"] is null))
                        {
                            taint["timeAdded"] = _time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
                        }
                    }
                }

                break;
            case "resourceclaims":
                DefaultRequests(obj["spec"]?["devices"]?["requests"]);
                break;
            case "resourceclaimtemplates":
                DefaultRequests(obj["spec"]?["spec"]?["devices"]?["requests"]);
                break;
        }
    }

    private static void DefaultRequests(JsonNode? requests)
    {
        foreach (var request in (requests as JsonArray)?.OfType<JsonObject>() ?? [])
        {
            DefaultExact(request["exactly"] as JsonObject);
            foreach (var sub in (request["firstAvailable"] as JsonArray)?.OfType<JsonObject>() ?? [])
            {
                DefaultExact(sub);
            }
        }
    }

    private static void DefaultExact(JsonObject? exact)
    {
        if (exact is null)
        {
            return;
        }

        exact["allocationMode"] ??= "ExactCount";
        if (JsonFields.Str(exact["allocationMode"]) == "ExactCount")
        {
            exact["count"] ??= 1;
        }
    }
}
