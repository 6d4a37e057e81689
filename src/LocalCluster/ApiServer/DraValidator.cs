using System.Text.Json;
using System.Text.Json.Nodes;
using static SecureDra.LocalCluster.ApiServer.Json.JsonFields;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// The important server-side rules of resource.k8s.io (upstream pkg/apis/resource/validation/validation.go),
/// applied to the stored shape. Field paths are reported in the request's version (v1beta1: devices[i].basic.*).
/// </summary>
public sealed class DraValidator
{
    private const int MaxAttributesAndCapacities = 32;
    private const int MaxAttributeValueLength = 64;
    private const int MaxRequests = 32;
    private const int MaxConfigs = 32;
    private const int MaxSelectors = 32;
    private const int OpaqueParametersMaxLength = 10 * 1024;
    private const int MaxReservedFor = 256;
    private const int MaxCounterSetsPerSlice = 8;
    private const int MaxCountersPerSet = 32;
    private const int MaxConsumptionsPerDevice = 2;
    private const int MaxSharedCountersBefore135 = 32;
    private const int MaxCountersPerDeviceBefore135 = 32;
    private const int MaxDeviceCountersPerSliceBefore135 = 1024;

    private readonly KubernetesVersionProfile _profile;

    public DraValidator(KubernetesVersionProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        _profile = profile;
    }

    public IReadOnlyList<StatusCause> Validate(ResourceType type, string version, JsonObject stored)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(stored);
        var errors = new FieldErrors();
        var v1beta1 = version == "v1beta1";
        switch (type.Plural)
        {
            case "resourceslices":
                ValidateSlice(stored["spec"] as JsonObject, errors, v1beta1);
                break;
            case "resourceclaims":
                ValidateClaimSpec(stored["spec"] as JsonObject, "spec", errors, v1beta1);
                ValidateClaimStatus(stored["status"] as JsonObject, errors);
                break;
            case "resourceclaimtemplates":
                ValidateClaimSpec(stored["spec"]?["spec"] as JsonObject, "spec.spec", errors, v1beta1);
                break;
            case "deviceclasses":
                ValidateSelectors(stored["spec"]?["selectors"], "spec.selectors", errors);
                ValidateConfigs(stored["spec"]?["config"], "spec.config", errors);
                break;
        }

        return errors.Causes;
    }

    private void ValidateSlice(JsonObject? spec, FieldErrors errors, bool v1beta1)
    {
        if (spec is null)
        {
            errors.Required("spec");
            return;
        }

        var driver = Str(spec["driver"]);
        if (string.IsNullOrEmpty(driver))
        {
            errors.Required("spec.driver");
        }
        else if (!NameRules.IsDnsSubdomain(driver, 63))
        {
            errors.Invalid("spec.driver", driver, "a driver name must be a lowercase DNS subdomain of at most 63 characters");
        }

        ValidatePool(spec["pool"] as JsonObject, errors);

        var nodeName = Str(spec["nodeName"]);
        var selectors = new List<string>();
        if (!string.IsNullOrEmpty(nodeName))
        {
            selectors.Add("nodeName");
            if (!NameRules.IsDnsSubdomain(nodeName))
            {
                errors.Invalid("spec.nodeName", nodeName, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'");
            }
        }

        if (spec["nodeSelector"] is JsonObject nodeSelector)
        {
            selectors.Add("nodeSelector");
            if (nodeSelector["nodeSelectorTerms"] is not JsonArray { Count: 1 })
            {
                errors.Invalid("spec.nodeSelector.nodeSelectorTerms", nodeSelector["nodeSelectorTerms"]?.DeepClone(), "must have exactly one node selector term");
            }
        }

        if (Bool(spec["allNodes"]))
        {
            selectors.Add("allNodes");
        }

        if (_profile.HasPartitionableDevices && Bool(spec["perDeviceNodeSelection"]))
        {
            selectors.Add("perDeviceNodeSelection");
        }

        var choices = _profile.HasPartitionableDevices ? "`nodeName`, `nodeSelector`, `allNodes`, `perDeviceNodeSelection`" : "`nodeName`, `nodeSelector`, `allNodes`";
        if (selectors.Count == 0)
        {
            errors.Required("spec", $"exactly one of {choices} is required");
        }
        else if (selectors.Count > 1)
        {
            errors.Invalid("spec", $"{{{string.Join(", ", selectors)}}}", $"exactly one of {choices} is required, but multiple fields are set");
        }

        var counterSets = ValidateSharedCounters(spec, errors);
        if (spec["devices"] is not JsonArray devices)
        {
            return;
        }

        if (_profile.SplitCounterSlices && counterSets.Count > 0 && devices.Count > 0)
        {
            errors.Invalid("spec", "{devices, sharedCounters}", "only one of `devices` or `sharedCounters` may be set in a ResourceSlice");
        }

        ValidateConsumption(devices, counterSets, errors, v1beta1);

        var advanced = devices.OfType<JsonObject>().Any(d => d["taints"] is JsonArray { Count: > 0 } || d["consumesCounters"] is JsonArray { Count: > 0 });
        var max = advanced && _profile.MaxDevicesPerSliceWithAdvancedFeatures is { } lower ? lower : KubernetesVersionProfile.MaxDevicesPerSlice;
        if (devices.Count > max)
        {
            errors.TooMany("spec.devices", devices.Count, max);
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < devices.Count; i++)
        {
            var path = FieldErrors.Index("spec.devices", i);
            var fields = v1beta1 ? path + ".basic" : path;
            if (devices[i] is not JsonObject device)
            {
                errors.Required(path);
                continue;
            }

            var name = Str(device["name"]);
            if (string.IsNullOrEmpty(name))
            {
                errors.Required(path + ".name");
            }
            else if (!NameRules.IsDnsLabel(name))
            {
                errors.Invalid(path + ".name", name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character");
            }
            else if (!names.Add(name))
            {
                errors.Duplicate(path + ".name", name);
            }

            ValidateDevice(device, fields, errors);
        }
    }

    /// <summary>spec.sharedCounters: names, per-version limits; returns set name → counter names.</summary>
    private Dictionary<string, HashSet<string>> ValidateSharedCounters(JsonObject spec, FieldErrors errors)
    {
        var sets = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        if (spec["sharedCounters"] is not JsonArray shared)
        {
            return sets;
        }

        if (_profile.SplitCounterSlices && shared.Count > MaxCounterSetsPerSlice)
        {
            errors.TooMany("spec.sharedCounters", shared.Count, MaxCounterSetsPerSlice);
        }

        var total = 0;
        for (var i = 0; i < shared.Count; i++)
        {
            var path = FieldErrors.Index("spec.sharedCounters", i);
            var name = Str(shared[i]?["name"]);
            if (string.IsNullOrEmpty(name))
            {
                errors.Required(path + ".name");
                continue;
            }

            if (!NameRules.IsDnsLabel(name))
            {
                errors.Invalid(path + ".name", name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character");
            }

            var counters = shared[i]?["counters"] as JsonObject;
            if (counters is null || counters.Count == 0)
            {
                errors.Required(path + ".counters");
            }
            else if (_profile.SplitCounterSlices && counters.Count > MaxCountersPerSet)
            {
                errors.TooMany(path + ".counters", counters.Count, MaxCountersPerSet);
            }

            total += counters?.Count ?? 0;
            ValidateCounterNames(counters, path + ".counters", errors);
            if (!sets.TryAdd(name, [.. (counters ?? []).Select(c => c.Key)]))
            {
                errors.Duplicate(path + ".name", name);
            }
        }

        if (!_profile.SplitCounterSlices && total > MaxSharedCountersBefore135)
        {
            errors.TooMany("spec.sharedCounters", total, MaxSharedCountersBefore135);
        }

        return sets;
    }

    /// <summary>devices[].consumesCounters: per-version limits; before 1.35 only counter sets of this slice.</summary>
    private void ValidateConsumption(JsonArray devices, Dictionary<string, HashSet<string>> counterSets, FieldErrors errors, bool v1beta1)
    {
        var perSlice = 0;
        for (var i = 0; i < devices.Count; i++)
        {
            if (devices[i]?["consumesCounters"] is not JsonArray consumes)
            {
                continue;
            }

            var path = FieldErrors.Index("spec.devices", i) + (v1beta1 ? ".basic" : "") + ".consumesCounters";
            if (_profile.SplitCounterSlices && consumes.Count > MaxConsumptionsPerDevice)
            {
                errors.TooMany(path, consumes.Count, MaxConsumptionsPerDevice);
            }

            var perDevice = 0;
            for (var c = 0; c < consumes.Count; c++)
            {
                var entryPath = FieldErrors.Index(path, c);
                var set = Str(consumes[c]?["counterSet"]);
                var counters = consumes[c]?["counters"] as JsonObject;
                perDevice += counters?.Count ?? 0;
                if (string.IsNullOrEmpty(set))
                {
                    errors.Required(entryPath + ".counterSet");
                }
                else if (!_profile.SplitCounterSlices)
                {
                    if (!counterSets.TryGetValue(set, out var known))
                    {
                        errors.Invalid(entryPath + ".counterSet", set, "must reference a counter set defined in the same ResourceSlice");
                    }
                    else
                    {
                        foreach (var counter in (counters ?? []).Select(k => k.Key).Where(k => !known.Contains(k)))
                        {
                            errors.Invalid($"{entryPath}.counters[{counter}]", counter, "must reference a counter defined in the counter set");
                        }
                    }
                }

                if (counters is null || counters.Count == 0)
                {
                    errors.Required(entryPath + ".counters");
                }
                else if (_profile.SplitCounterSlices && counters.Count > MaxCountersPerSet)
                {
                    errors.TooMany(entryPath + ".counters", counters.Count, MaxCountersPerSet);
                }

                ValidateCounterNames(counters, entryPath + ".counters", errors);
            }

            if (!_profile.SplitCounterSlices && perDevice > MaxCountersPerDeviceBefore135)
            {
                errors.TooMany(path, perDevice, MaxCountersPerDeviceBefore135);
            }

            perSlice += perDevice;
        }

        if (!_profile.SplitCounterSlices && perSlice > MaxDeviceCountersPerSliceBefore135)
        {
            errors.TooMany("spec.devices", perSlice, MaxDeviceCountersPerSliceBefore135);
        }
    }

    private static void ValidateCounterNames(JsonObject? counters, string path, FieldErrors errors)
    {
        foreach (var (name, value) in counters ?? [])
        {
            if (!NameRules.IsDnsLabel(name))
            {
                errors.Invalid($"{path}[{name}]", name, "a counter name must be a lowercase RFC 1123 label");
            }

            if (value?["value"] is null)
            {
                errors.Required($"{path}[{name}].value");
            }
        }
    }

    private static void ValidatePool(JsonObject? pool, FieldErrors errors)
    {
        if (pool is null)
        {
            errors.Required("spec.pool");
            return;
        }

        var name = Str(pool["name"]);
        if (string.IsNullOrEmpty(name))
        {
            errors.Required("spec.pool.name");
        }
        else if (name.Length > 253)
        {
            errors.TooLong("spec.pool.name", 253);
        }
        else if (name.Split('/').Any(part => !NameRules.IsDnsSubdomain(part)))
        {
            errors.Invalid("spec.pool.name", name, "a pool name must be one or more DNS subdomains separated by slashes");
        }

        var count = Long(pool["resourceSliceCount"]);
        if (count is null or <= 0)
        {
            errors.Invalid("spec.pool.resourceSliceCount", pool["resourceSliceCount"]?.DeepClone() ?? JsonValue.Create(0), "must be greater than zero");
        }

        if (Long(pool["generation"]) is < 0)
        {
            errors.Invalid("spec.pool.generation", pool["generation"]?.DeepClone(), "must be greater than or equal to zero");
        }
    }

    private void ValidateDevice(JsonObject device, string path, FieldErrors errors)
    {
        var attributes = device["attributes"] as JsonObject;
        var capacity = device["capacity"] as JsonObject;
        var total = (attributes?.Count ?? 0) + (capacity?.Count ?? 0);
        if (total > MaxAttributesAndCapacities)
        {
            errors.Invalid(path + ".attributes", JsonValue.Create(total), $"the total number of attributes and capacities must not exceed {MaxAttributesAndCapacities}");
        }

        foreach (var (name, value) in attributes ?? [])
        {
            var attrPath = $"{path}.attributes[{name}]";
            if (NameRules.QualifiedNameError(name) is { } nameError)
            {
                errors.Invalid(attrPath, name, nameError);
            }

            ValidateAttributeValue(value as JsonObject, attrPath, errors);
        }

        foreach (var (name, value) in capacity ?? [])
        {
            var capPath = $"{path}.capacity[{name}]";
            if (NameRules.QualifiedNameError(name) is { } nameError)
            {
                errors.Invalid(capPath, name, nameError);
            }

            if (value?["value"] is null)
            {
                errors.Required(capPath + ".value");
            }
        }

        if (device["taints"] is JsonArray taints)
        {
            if (taints.Count > _profile.MaxTaintsPerDevice)
            {
                errors.TooMany(path + ".taints", taints.Count, _profile.MaxTaintsPerDevice);
            }

            string[] effects = _profile.Minor >= 36 ? ["NoSchedule", "NoExecute", "None"] : ["NoSchedule", "NoExecute"];
            for (var t = 0; t < taints.Count; t++)
            {
                var taintPath = FieldErrors.Index(path + ".taints", t);
                var key = Str(taints[t]?["key"]);
                if (string.IsNullOrEmpty(key))
                {
                    errors.Required(taintPath + ".key");
                }
                else if (!IsLabelKey(key))
                {
                    errors.Invalid(taintPath + ".key", key, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
                }

                if (Str(taints[t]?["value"]) is { Length: > 63 })
                {
                    errors.TooLong(taintPath + ".value", 63);
                }

                var effect = Str(taints[t]?["effect"]);
                if (string.IsNullOrEmpty(effect))
                {
                    errors.Required(taintPath + ".effect");
                }
                else if (!effects.Contains(effect))
                {
                    errors.NotSupported(taintPath + ".effect", effect, effects);
                }
            }
        }
    }

    private void ValidateAttributeValue(JsonObject? value, string path, FieldErrors errors)
    {
        if (value is null)
        {
            errors.Required(path, "exactly one value must be specified");
            return;
        }

        string[] kinds = _profile.Has136Fields ? ["int", "bool", "string", "version", "ints", "bools", "strings", "versions"] : ["int", "bool", "string", "version"];
        var set = kinds.Where(k => value[k] is not null).ToList();
        if (set.Count != 1)
        {
            errors.Invalid(path, value.DeepClone(), "exactly one value must be specified");
            return;
        }

        var kind = set[0];
        var node = value[kind]!;
        var items = node is JsonArray array ? array.ToList() : [node];
        for (var i = 0; i < items.Count; i++)
        {
            var itemPath = node is JsonArray ? FieldErrors.Index($"{path}.{kind}", i) : $"{path}.{kind}";
            var item = items[i];
            switch (kind)
            {
                case "int" or "ints":
                    if (Long(item) is null)
                    {
                        errors.Invalid(itemPath, item?.DeepClone(), "must be an integer");
                    }

                    break;
                case "bool" or "bools":
                    if (item is not JsonValue b || b.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        errors.Invalid(itemPath, item?.DeepClone(), "must be a boolean");
                    }

                    break;
                case "string" or "strings":
                    if (Str(item) is not { } s)
                    {
                        errors.Invalid(itemPath, item?.DeepClone(), "must be a string");
                    }
                    else if (s.Length > MaxAttributeValueLength)
                    {
                        errors.TooLong(itemPath, MaxAttributeValueLength);
                    }

                    break;
                default:
                    if (Str(item) is not { } version)
                    {
                        errors.Invalid(itemPath, item?.DeepClone(), "must be a string");
                    }
                    else if (version.Length > MaxAttributeValueLength)
                    {
                        errors.TooLong(itemPath, MaxAttributeValueLength);
                    }
                    else if (!NameRules.IsSemver(version))
                    {
                        errors.Invalid(itemPath, version, "must be a string compatible with semver.org spec 2.0.0");
                    }

                    break;
            }
        }
    }

    private void ValidateClaimSpec(JsonObject? spec, string path, FieldErrors errors, bool v1beta1)
    {
        var devices = spec?["devices"] as JsonObject;
        if (devices?["requests"] is JsonArray requests)
        {
            if (requests.Count > MaxRequests)
            {
                errors.TooMany($"{path}.devices.requests", requests.Count, MaxRequests);
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < requests.Count; i++)
            {
                var requestPath = FieldErrors.Index($"{path}.devices.requests", i);
                var request = requests[i] as JsonObject;
                var name = Str(request?["name"]);
                if (string.IsNullOrEmpty(name))
                {
                    errors.Required(requestPath + ".name");
                }
                else if (!NameRules.IsDnsLabel(name))
                {
                    errors.Invalid(requestPath + ".name", name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'");
                }
                else if (!names.Add(name))
                {
                    errors.Duplicate(requestPath + ".name", name);
                }

                var exactly = request?["exactly"] as JsonObject;
                var firstAvailable = request?["firstAvailable"] as JsonArray;
                if (exactly is not null && firstAvailable is not null)
                {
                    errors.Forbidden(requestPath, "exactly one of `exactly` or `firstAvailable` is required, but multiple fields are set");
                }
                else if (exactly is null && firstAvailable is null)
                {
                    errors.Required(v1beta1 ? requestPath + ".deviceClassName" : requestPath, "exactly one of `exactly` or `firstAvailable` is required");
                }
                else if (exactly is not null)
                {
                    ValidateExact(exactly, v1beta1 ? requestPath : requestPath + ".exactly", errors);
                }
                else
                {
                    for (var s = 0; s < firstAvailable!.Count; s++)
                    {
                        ValidateExact(firstAvailable[s] as JsonObject, FieldErrors.Index(requestPath + ".firstAvailable", s), errors);
                    }
                }
            }
        }

        ValidateConfigs(devices?["config"], $"{path}.devices.config", errors);
    }

    private static void ValidateExact(JsonObject? exact, string path, FieldErrors errors)
    {
        if (string.IsNullOrEmpty(Str(exact?["deviceClassName"])))
        {
            errors.Required(path + ".deviceClassName");
        }
        else if (!NameRules.IsDnsSubdomain(Str(exact?["deviceClassName"])))
        {
            errors.Invalid(path + ".deviceClassName", Str(exact?["deviceClassName"])!, "must be a DNS subdomain");
        }

        var mode = Str(exact?["allocationMode"]) ?? "ExactCount";
        if (mode is not ("ExactCount" or "All"))
        {
            errors.NotSupported(path + ".allocationMode", mode, ["All", "ExactCount"]);
        }
        else if (mode == "ExactCount" && Long(exact?["count"]) is <= 0)
        {
            errors.Invalid(path + ".count", exact?["count"]?.DeepClone(), "must be greater than zero");
        }
        else if (mode == "All" && exact?["count"] is not null && Long(exact["count"]) != 0)
        {
            errors.Invalid(path + ".count", exact["count"]?.DeepClone(), "must not be specified when allocationMode is 'All'");
        }

        ValidateSelectors(exact?["selectors"], path + ".selectors", errors);
    }

    private static void ValidateSelectors(JsonNode? selectors, string path, FieldErrors errors)
    {
        if (selectors is JsonArray array && array.Count > MaxSelectors)
        {
            errors.TooMany(path, array.Count, MaxSelectors);
        }
    }

    private static void ValidateConfigs(JsonNode? configs, string path, FieldErrors errors)
    {
        if (configs is not JsonArray array)
        {
            return;
        }

        if (array.Count > MaxConfigs)
        {
            errors.TooMany(path, array.Count, MaxConfigs);
        }

        for (var i = 0; i < array.Count; i++)
        {
            var configPath = FieldErrors.Index(path, i);
            var opaque = array[i]?["opaque"] as JsonObject;
            if (opaque is null)
            {
                errors.Required(configPath + ".opaque");
                continue;
            }

            if (!NameRules.IsDnsSubdomain(Str(opaque["driver"]), 63))
            {
                errors.Required(configPath + ".opaque.driver", "a driver name must be a DNS subdomain");
            }

            var parameters = opaque["parameters"];
            if (parameters is not JsonObject)
            {
                errors.Invalid(configPath + ".opaque.parameters", "<value omitted>", "parameters must be a valid JSON object");
            }
            else if (parameters.ToJsonString().Length > OpaqueParametersMaxLength)
            {
                errors.TooLong(configPath + ".opaque.parameters", OpaqueParametersMaxLength);
            }
        }
    }

    private static void ValidateClaimStatus(JsonObject? status, FieldErrors errors)
    {
        if (status?["reservedFor"] is JsonArray { Count: > MaxReservedFor } reservedFor)
        {
            errors.TooMany("status.reservedFor", reservedFor.Count, MaxReservedFor);
        }

        if (status?["allocation"]?["devices"]?["results"] is JsonArray { Count: > MaxRequests } results)
        {
            errors.TooMany("status.allocation.devices.results", results.Count, MaxRequests);
        }

        if (status?["devices"] is not JsonArray devices)
        {
            return;
        }

        var allocated = (status["allocation"]?["devices"]?["results"] as JsonArray)?.OfType<JsonObject>()
            .Select(r => (Str(r["driver"]), Str(r["pool"]), Str(r["device"]))).ToHashSet() ?? [];
        for (var i = 0; i < devices.Count; i++)
        {
            var key = (Str(devices[i]?["driver"]), Str(devices[i]?["pool"]), Str(devices[i]?["device"]));
            if (!allocated.Contains(key))
            {
                errors.Invalid(FieldErrors.Index("status.devices", i), $"{key.Item1}/{key.Item2}/{key.Item3}", "must be an allocated device in the claim");
            }
        }
    }

    private static bool IsLabelKey(string key)
    {
        var parts = key.Split('/');
        if (parts.Length > 2 || (parts.Length == 2 && !NameRules.IsDnsSubdomain(parts[0])))
        {
            return false;
        }

        var name = parts[^1];
        return name.Length is > 0 and <= 63 && char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1])
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
    }
}
