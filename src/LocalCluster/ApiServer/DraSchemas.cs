namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// Field structure of ResourceSlice, ResourceClaim, ResourceClaimTemplate and DeviceClass per served version and
/// Kubernetes release, from upstream staging/src/k8s.io/api/resource/{v1beta1,v1beta2,v1}/types.go of each release.
/// </summary>
public sealed class DraSchemas
{
    private static readonly SchemaNode Any = SchemaNode.Any;
    private readonly KubernetesVersionProfile _p;

    public DraSchemas(KubernetesVersionProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        _p = profile;
    }

    public static SchemaNode ObjectMeta { get; } = SchemaNode.Object(
        ("name", Any), ("generateName", Any), ("namespace", Any), ("selfLink", Any), ("uid", Any),
        ("resourceVersion", Any), ("generation", Any), ("creationTimestamp", Any), ("deletionTimestamp", Any),
        ("deletionGracePeriodSeconds", Any), ("labels", Any), ("annotations", Any), ("ownerReferences", Any),
        ("finalizers", Any), ("managedFields", Any));

    public SchemaNode? For(string plural, string version) => plural switch
    {
        "resourceslices" => Top(Slice(version), null),
        "resourceclaims" => Top(ClaimSpec(version), ClaimStatus()),
        "resourceclaimtemplates" => Top(SchemaNode.Object(("metadata", ObjectMeta), ("spec", ClaimSpec(version))), null),
        "deviceclasses" => Top(DeviceClassSpec(), null),
        "devicetaintrules" => Top(TaintRuleSpec(), _p.DeviceTaintRuleHasStatus ? SchemaNode.Object(("conditions", Any)) : null),
        _ => null,
    };

    private static SchemaNode Top(SchemaNode spec, SchemaNode? status)
    {
        var fields = new List<(string, SchemaNode)> { ("apiVersion", Any), ("kind", Any), ("metadata", ObjectMeta), ("spec", spec) };
        if (status is not null)
        {
            fields.Add(("status", status));
        }

        return SchemaNode.Object([.. fields]);
    }

    private SchemaNode Slice(string version)
    {
        var spec = new List<(string, SchemaNode)>
        {
            ("driver", Any),
            ("pool", SchemaNode.Object(("name", Any), ("generation", Any), ("resourceSliceCount", Any))),
            ("nodeName", Any), ("nodeSelector", Any), ("allNodes", Any),
            ("devices", SchemaNode.ArrayOf(version == "v1beta1"
                ? SchemaNode.Object(("name", Any), ("basic", SchemaNode.Object([.. DeviceFields()])))
                : SchemaNode.Object([("name", Any), .. DeviceFields()]))),
        };
        if (_p.HasPartitionableDevices)
        {
            spec.Add(("perDeviceNodeSelection", Any));
            spec.Add(("sharedCounters", SchemaNode.ArrayOf(SchemaNode.Object(("name", Any), ("counters", SchemaNode.MapOf(SchemaNode.Object(("value", Any))))))));
        }

        return SchemaNode.Object([.. spec]);
    }

    private List<(string, SchemaNode)> DeviceFields()
    {
        var attribute = new List<(string, SchemaNode)> { ("int", Any), ("bool", Any), ("string", Any), ("version", Any) };
        if (_p.Has136Fields)
        {
            attribute.AddRange([("ints", Any), ("bools", Any), ("strings", Any), ("versions", Any)]);
        }

        var capacity = new List<(string, SchemaNode)> { ("value", Any) };
        if (_p.Has134Fields)
        {
            capacity.Add(("requestPolicy", SchemaNode.Object(("default", Any), ("validValues", Any), ("validRange", SchemaNode.Object(("min", Any), ("max", Any), ("step", Any))))));
        }

        var fields = new List<(string, SchemaNode)>
        {
            ("attributes", SchemaNode.MapOf(SchemaNode.Object([.. attribute]))),
            ("capacity", SchemaNode.MapOf(SchemaNode.Object([.. capacity]))),
        };
        if (_p.HasPartitionableDevices)
        {
            fields.Add(("consumesCounters", SchemaNode.ArrayOf(SchemaNode.Object(("counterSet", Any), ("counters", SchemaNode.MapOf(SchemaNode.Object(("value", Any))))))));
            fields.Add(("nodeName", Any));
            fields.Add(("nodeSelector", Any));
            fields.Add(("allNodes", Any));
        }

        if (_p.HasDeviceTaintsField)
        {
            fields.Add(("taints", SchemaNode.ArrayOf(SchemaNode.Object(("key", Any), ("value", Any), ("effect", Any), ("timeAdded", Any)))));
        }

        if (_p.Has134Fields)
        {
            fields.AddRange([("bindsToNode", Any), ("bindingConditions", Any), ("bindingFailureConditions", Any), ("allowMultipleAllocations", Any)]);
        }

        if (_p.Has136Fields)
        {
            fields.Add(("nodeAllocatableResourceMappings", Any));
        }

        return fields;
    }

    /// <summary>DeviceTaintRule: deviceSelector {driver, pool, device} (plus deviceClassName and selectors up to 1.34) and one taint.</summary>
    private SchemaNode TaintRuleSpec()
    {
        var selector = new List<(string, SchemaNode)> { ("driver", Any), ("pool", Any), ("device", Any) };
        if (_p.DeviceTaintRuleHasClassAndSelectors)
        {
            selector.Add(("deviceClassName", Any));
            selector.Add(("selectors", Selectors()));
        }

        return SchemaNode.Object(
            ("deviceSelector", SchemaNode.Object([.. selector])),
            ("taint", SchemaNode.Object(("key", Any), ("value", Any), ("effect", Any), ("timeAdded", Any))));
    }

    private SchemaNode Selectors() => SchemaNode.ArrayOf(SchemaNode.Object(("cel", SchemaNode.Object(("expression", Any)))));

    private SchemaNode Tolerations() => SchemaNode.ArrayOf(SchemaNode.Object(("key", Any), ("operator", Any), ("value", Any), ("effect", Any), ("tolerationSeconds", Any)));

    private List<(string, SchemaNode)> ExactFields(bool withAdminAccess)
    {
        var fields = new List<(string, SchemaNode)> { ("deviceClassName", Any), ("selectors", Selectors()), ("allocationMode", Any), ("count", Any) };
        if (withAdminAccess)
        {
            fields.Add(("adminAccess", Any));
        }

        if (_p.HasPrioritizedList)
        {
            fields.Add(("tolerations", Tolerations()));
        }

        if (_p.Has134Fields)
        {
            fields.Add(("capacity", SchemaNode.Object(("requests", Any))));
        }

        return fields;
    }

    private SchemaNode ClaimSpec(string version)
    {
        var request = new List<(string, SchemaNode)> { ("name", Any) };
        if (version == "v1beta1")
        {
            request.AddRange(ExactFields(withAdminAccess: true));
        }
        else
        {
            request.Add(("exactly", SchemaNode.Object([.. ExactFields(withAdminAccess: true)])));
        }

        if (_p.HasPrioritizedList)
        {
            request.Add(("firstAvailable", SchemaNode.ArrayOf(SchemaNode.Object([("name", Any), .. ExactFields(withAdminAccess: false)]))));
        }

        var constraint = new List<(string, SchemaNode)> { ("requests", Any), ("matchAttribute", Any) };
        if (_p.Has134Fields)
        {
            constraint.Add(("distinctAttribute", Any));
        }

        return SchemaNode.Object(("devices", SchemaNode.Object(
            ("requests", SchemaNode.ArrayOf(SchemaNode.Object([.. request]))),
            ("constraints", SchemaNode.ArrayOf(SchemaNode.Object([.. constraint]))),
            ("config", SchemaNode.ArrayOf(SchemaNode.Object(("requests", Any), ("opaque", Opaque())))))));
    }

    private static SchemaNode Opaque() => SchemaNode.Object(("driver", Any), ("parameters", Any));

    private SchemaNode ClaimStatus()
    {
        var result = new List<(string, SchemaNode)> { ("request", Any), ("driver", Any), ("pool", Any), ("device", Any), ("adminAccess", Any) };
        if (_p.HasPrioritizedList)
        {
            result.Add(("tolerations", Tolerations()));
        }

        if (_p.Has134Fields)
        {
            result.AddRange([("bindingConditions", Any), ("bindingFailureConditions", Any), ("shareID", Any), ("consumedCapacity", Any)]);
        }

        var allocation = new List<(string, SchemaNode)>
        {
            ("devices", SchemaNode.Object(
                ("results", SchemaNode.ArrayOf(SchemaNode.Object([.. result]))),
                ("config", SchemaNode.ArrayOf(SchemaNode.Object(("source", Any), ("requests", Any), ("opaque", Opaque())))))),
            ("nodeSelector", Any),
        };
        if (_p.Has134Fields)
        {
            allocation.Add(("allocationTimestamp", Any));
        }

        var device = new List<(string, SchemaNode)>
        {
            ("driver", Any), ("pool", Any), ("device", Any), ("conditions", Any), ("data", Any),
            ("networkData", SchemaNode.Object(("interfaceName", Any), ("ips", Any), ("hardwareAddress", Any))),
        };
        if (_p.Has134Fields)
        {
            device.Add(("shareID", Any));
        }

        return SchemaNode.Object(
            ("allocation", SchemaNode.Object([.. allocation])),
            ("reservedFor", SchemaNode.ArrayOf(SchemaNode.Object(("apiGroup", Any), ("resource", Any), ("name", Any), ("uid", Any)))),
            ("devices", SchemaNode.ArrayOf(SchemaNode.Object([.. device]))));
    }

    private SchemaNode DeviceClassSpec()
    {
        var fields = new List<(string, SchemaNode)>
        {
            ("selectors", Selectors()),
            ("config", SchemaNode.ArrayOf(SchemaNode.Object(("opaque", Opaque())))),
        };
        if (_p.Has134Fields)
        {
            fields.Add(("extendedResourceName", Any));
        }

        return SchemaNode.Object([.. fields]);
    }
}
