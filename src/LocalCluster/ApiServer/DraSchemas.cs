namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// Field structure of ResourceSlice, ResourceClaim, ResourceClaimTemplate and DeviceClass per served version and
/// Kubernetes release, from upstream staging/src/k8s.io/api/resource/{v1beta1,v1beta2,v1}/types.go of each release:
/// the strict decoder's field list and the OpenAPI v3 schemas kubectl explain reads. Descriptions are our own words.
/// </summary>
public sealed class DraSchemas
{
    private static readonly SchemaNode Any = SchemaNode.Any;
    private static readonly SchemaNode Str = SchemaNode.String;
    private static readonly SchemaNode Int = SchemaNode.Integer;
    private static readonly SchemaNode Bool = SchemaNode.Boolean;
    private static readonly SchemaNode Quantity = SchemaNode.Quantity;
    private static readonly SchemaNode Strings = SchemaNode.StringList;
    private readonly KubernetesVersionProfile _p;

    public DraSchemas(KubernetesVersionProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        _p = profile;
    }

    public static SchemaNode ObjectMeta { get; } = SchemaNode.Object(
        ("name", Str.Doc("Unique within a namespace (or the cluster, for cluster-scoped kinds); a DNS subdomain for most kinds.")),
        ("generateName", Str.Doc("Prefix the server completes with random characters when name is empty.")),
        ("namespace", Str.Doc("The namespace of a namespaced object.")),
        ("selfLink", Str), ("uid", Str.Doc("Set by the server on create; never reused.")),
        ("resourceVersion", Str.Doc("Opaque version the server changes on every write; a client sending it makes the write conditional.")),
        ("generation", Int.Doc("Counts changes of the desired state (not of metadata or status).")),
        ("creationTimestamp", SchemaNode.Time), ("deletionTimestamp", SchemaNode.Time),
        ("deletionGracePeriodSeconds", Int), ("labels", SchemaNode.StringMap), ("annotations", SchemaNode.StringMap),
        ("ownerReferences", SchemaNode.ObjectList), ("finalizers", Strings), ("managedFields", SchemaNode.ObjectList))
        .Doc("Standard object metadata.");

    public SchemaNode? For(string plural, string version) => plural switch
    {
        "resourceslices" => Top(Slice(version).Doc("The devices of one pool (or part of it) that a driver publishes."), null),
        "resourceclaims" => Top(ClaimSpec(version), ClaimStatus()),
        "resourceclaimtemplates" => Top(SchemaNode.Object(("metadata", ObjectMeta), ("spec", ClaimSpec(version))).Doc("The claim each pod referencing the template gets."), null),
        "deviceclasses" => Top(DeviceClassSpec(), null),
        "devicetaintrules" => Top(TaintRuleSpec(), _p.DeviceTaintRuleHasStatus ? SchemaNode.Object(("conditions", Any)) : null),
        _ => null,
    };

    private static SchemaNode Top(SchemaNode spec, SchemaNode? status)
    {
        var fields = new List<(string, SchemaNode)>
        {
            ("apiVersion", Str.Doc("The versioned schema of this representation of the object.")),
            ("kind", Str.Doc("The REST resource this object represents.")),
            ("metadata", ObjectMeta),
            ("spec", spec),
        };
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
            ("driver", Str.Doc("The DRA driver that publishes these devices; immutable.")),
            ("pool", SchemaNode.Object(
                ("name", Str.Doc("Pool name, unique per driver; immutable.")),
                ("generation", Int.Doc("Raised by the driver whenever the pool changes; slices of older generations are ignored.")),
                ("resourceSliceCount", Int.Doc("How many slices the pool has in this generation.")))
                .Doc("The pool the devices belong to.")),
            ("nodeName", Str.Doc("The node whose devices these are, when they are local to one node.")),
            ("nodeSelector", Any.Doc("The nodes that can reach the devices, when they are not local to one node.")),
            ("allNodes", Bool.Doc("Every node can reach the devices.")),
            ("devices", SchemaNode.ArrayOf(version == "v1beta1"
                ? SchemaNode.Object(("name", Str.Doc("Device name, unique in the pool.")), ("basic", SchemaNode.Object([.. DeviceFields()]).Doc("The device's attributes and capacity.")))
                : SchemaNode.Object([("name", Str.Doc("Device name, unique in the pool.")), .. DeviceFields()])).Doc("The devices in this slice.")),
        };
        if (_p.HasPartitionableDevices)
        {
            spec.Add(("perDeviceNodeSelection", Bool));
            spec.Add(("sharedCounters", SchemaNode.ArrayOf(SchemaNode.Object(("name", Str), ("counters", SchemaNode.MapOf(SchemaNode.Object(("value", Quantity))))))));
        }

        return SchemaNode.Object([.. spec]);
    }

    private List<(string, SchemaNode)> DeviceFields()
    {
        var attribute = new List<(string, SchemaNode)> { ("int", Int), ("bool", Bool), ("string", Str), ("version", Str.Doc("A semantic version (semver 2.0.0).")) };
        if (_p.Has136Fields)
        {
            attribute.AddRange([("ints", Any), ("bools", Any), ("strings", Any), ("versions", Any)]);
        }

        var capacity = new List<(string, SchemaNode)> { ("value", Quantity) };
        if (_p.Has134Fields)
        {
            capacity.Add(("requestPolicy", SchemaNode.Object(("default", Quantity), ("validValues", Any), ("validRange", SchemaNode.Object(("min", Quantity), ("max", Quantity), ("step", Quantity))))));
        }

        var fields = new List<(string, SchemaNode)>
        {
            ("attributes", SchemaNode.MapOf(SchemaNode.Object([.. attribute])).Doc("Named values CEL selectors match on; exactly one of int, bool, string or version each.")),
            ("capacity", SchemaNode.MapOf(SchemaNode.Object([.. capacity])).Doc("Named quantities the device provides (memory, for example).")),
        };
        if (_p.HasPartitionableDevices)
        {
            fields.Add(("consumesCounters", SchemaNode.ArrayOf(SchemaNode.Object(("counterSet", Str), ("counters", SchemaNode.MapOf(SchemaNode.Object(("value", Quantity))))))));
            fields.Add(("nodeName", Str));
            fields.Add(("nodeSelector", Any));
            fields.Add(("allNodes", Bool));
        }

        if (_p.HasDeviceTaintsField)
        {
            fields.Add(("taints", SchemaNode.ArrayOf(SchemaNode.Object(("key", Str), ("value", Str), ("effect", Str), ("timeAdded", SchemaNode.Time))).Doc("Taints keep pods without a matching toleration off the device.")));
        }

        if (_p.Has134Fields)
        {
            fields.AddRange([("bindsToNode", Bool), ("bindingConditions", Strings), ("bindingFailureConditions", Strings), ("allowMultipleAllocations", Bool)]);
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

    private static SchemaNode Selectors() =>
        SchemaNode.ArrayOf(SchemaNode.Object(("cel", SchemaNode.Object(("expression", Str.Doc("A CEL expression over `device` that must be true for the device to match.")))))).Doc("Every selector must match a device for it to be chosen.");

    private static SchemaNode Tolerations() =>
        SchemaNode.ArrayOf(SchemaNode.Object(("key", Str), ("operator", SchemaNode.Enum("Exists", "Equal")), ("value", Str), ("effect", Str), ("tolerationSeconds", Int))).Doc("Device taints this request tolerates.");

    private List<(string, SchemaNode)> ExactFields(bool withAdminAccess)
    {
        var fields = new List<(string, SchemaNode)>
        {
            ("deviceClassName", Str.Doc("The DeviceClass whose selectors and configuration apply to this request.")),
            ("selectors", Selectors()),
            ("allocationMode", SchemaNode.Enum("ExactCount", "All").Doc("ExactCount (the default) allocates count devices; All allocates every matching device.")),
            ("count", Int.Doc("How many devices to allocate with ExactCount; defaults to 1.")),
        };
        if (withAdminAccess)
        {
            fields.Add(("adminAccess", Bool.Doc("Monitoring access to devices already in use; needs a namespace labelled for admin access.")));
        }

        if (_p.HasPrioritizedList)
        {
            fields.Add(("tolerations", Tolerations()));
        }

        if (_p.Has134Fields)
        {
            fields.Add(("capacity", SchemaNode.Object(("requests", SchemaNode.MapOf(Quantity)))));
        }

        return fields;
    }

    private SchemaNode ClaimSpec(string version)
    {
        var request = new List<(string, SchemaNode)> { ("name", Str.Doc("Request name, referenced by constraints, config and the pod's container resources.")) };
        if (version == "v1beta1")
        {
            request.AddRange(ExactFields(withAdminAccess: true));
        }
        else
        {
            request.Add(("exactly", SchemaNode.Object([.. ExactFields(withAdminAccess: true)]).Doc("A request for devices of one class.")));
        }

        if (_p.HasPrioritizedList)
        {
            request.Add(("firstAvailable", SchemaNode.ArrayOf(SchemaNode.Object([("name", Str), .. ExactFields(withAdminAccess: false)])).Doc("Alternatives in order of preference; the first that can be satisfied is allocated.")));
        }

        var constraint = new List<(string, SchemaNode)>
        {
            ("requests", Strings.Doc("The requests the constraint applies to; all when empty.")),
            ("matchAttribute", Str.Doc("An attribute every chosen device must have with the same value.")),
        };
        if (_p.Has134Fields)
        {
            constraint.Add(("distinctAttribute", Str));
        }

        return SchemaNode.Object(("devices", SchemaNode.Object(
            ("requests", SchemaNode.ArrayOf(SchemaNode.Object([.. request])).Doc("The devices this claim asks for.")),
            ("constraints", SchemaNode.ArrayOf(SchemaNode.Object([.. constraint])).Doc("Conditions across the devices of several requests.")),
            ("config", SchemaNode.ArrayOf(SchemaNode.Object(("requests", Strings), ("opaque", Opaque()))).Doc("Driver configuration for the allocated devices.")))
            .Doc("What devices the claim needs and how to configure them.")))
            .Doc("What the claim asks for; immutable once created.");
    }

    private static SchemaNode Opaque() =>
        SchemaNode.Object(("driver", Str.Doc("The driver the parameters are for.")), ("parameters", Any.Doc("The driver's own configuration object (apiVersion and kind inside), checked by the driver.")))
            .Doc("Configuration in the driver's own format.");

    private SchemaNode ClaimStatus()
    {
        var result = new List<(string, SchemaNode)> { ("request", Str), ("driver", Str), ("pool", Str), ("device", Str), ("adminAccess", Bool) };
        if (_p.HasPrioritizedList)
        {
            result.Add(("tolerations", Tolerations()));
        }

        if (_p.Has134Fields)
        {
            result.AddRange([("bindingConditions", Strings), ("bindingFailureConditions", Strings), ("shareID", Str), ("consumedCapacity", SchemaNode.MapOf(Quantity))]);
        }

        var allocation = new List<(string, SchemaNode)>
        {
            ("devices", SchemaNode.Object(
                ("results", SchemaNode.ArrayOf(SchemaNode.Object([.. result])).Doc("One entry per allocated device.")),
                ("config", SchemaNode.ArrayOf(SchemaNode.Object(("source", SchemaNode.Enum("FromClass", "FromClaim")), ("requests", Strings), ("opaque", Opaque())))))),
            ("nodeSelector", Any.Doc("The nodes where the allocated devices are available.")),
        };
        if (_p.Has134Fields)
        {
            allocation.Add(("allocationTimestamp", SchemaNode.Time));
        }

        var device = new List<(string, SchemaNode)>
        {
            ("driver", Str), ("pool", Str), ("device", Str), ("conditions", SchemaNode.ObjectList), ("data", Any),
            ("networkData", SchemaNode.Object(("interfaceName", Str), ("ips", Strings), ("hardwareAddress", Str))),
        };
        if (_p.Has134Fields)
        {
            device.Add(("shareID", Str));
        }

        return SchemaNode.Object(
            ("allocation", SchemaNode.Object([.. allocation]).Doc("Set by the scheduler when the claim is allocated.")),
            ("reservedFor", SchemaNode.ArrayOf(SchemaNode.Object(("apiGroup", Str), ("resource", Str), ("name", Str), ("uid", Str))).Doc("The pods using the claim.")),
            ("devices", SchemaNode.ArrayOf(SchemaNode.Object([.. device])).Doc("Status the drivers report per allocated device.")))
            .Doc("Allocation and use of the claim, written by the scheduler and the drivers.");
    }

    private SchemaNode DeviceClassSpec()
    {
        var fields = new List<(string, SchemaNode)>
        {
            ("selectors", Selectors()),
            ("config", SchemaNode.ArrayOf(SchemaNode.Object(("opaque", Opaque()))).Doc("Driver configuration applied to every device allocated through this class.")),
        };
        if (_p.Has134Fields)
        {
            fields.Add(("extendedResourceName", Str));
        }

        return SchemaNode.Object([.. fields]).Doc("Which devices belong to the class and how they are configured.");
    }
}
