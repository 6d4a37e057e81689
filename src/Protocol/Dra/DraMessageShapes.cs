using Google.Protobuf.Collections;

namespace SecureDra.Protocol.Dra;

// The kubelet's DRAPlugin v1 and v1beta1 messages have the same fields under the same names and numbers (v1 adds
// Device.share_id), but protoc generates unrelated C# types for them. These interfaces name that common shape, and
// the generated types take them on in V1Shapes.cs and V1Beta1Shapes.cs, so one mapping serves both versions and the
// compiler fails if a version's fields ever drift from it.

/// <summary>A claim the kubelet names: <c>namespace</c> (1), <c>name</c> (2), <c>uid</c> (3).</summary>
public interface IDraClaim
{
    string Namespace { get; }

    string Name { get; }

    string Uid { get; }
}

/// <summary>A NodePrepareResources or NodeUnprepareResources request: <c>claims</c> (1).</summary>
public interface IDraClaimsRequest<TClaim>
    where TClaim : IDraClaim
{
    RepeatedField<TClaim> Claims { get; }
}

/// <summary>A NodePrepareResources or NodeUnprepareResources response: <c>claims</c> (1), keyed by claim UID.</summary>
public interface IDraClaimsResponse<TEntry>
{
    MapField<string, TEntry> Claims { get; }
}

/// <summary>One claim's NodePrepareResourceResponse: <c>devices</c> (1) or <c>error</c> (2).</summary>
public interface IDraPrepareEntry<TDevice>
{
    RepeatedField<TDevice> Devices { get; }

    string Error { get; set; }
}

/// <summary>One claim's NodeUnprepareResourceResponse: <c>error</c> (1).</summary>
public interface IDraUnprepareEntry
{
    string Error { get; set; }
}

/// <summary>A prepared Device: <c>request_names</c> (1), <c>pool_name</c> (2), <c>device_name</c> (3), <c>cdi_device_ids</c> (4).</summary>
public interface IDraDevice
{
    RepeatedField<string> RequestNames { get; }

    string PoolName { get; set; }

    string DeviceName { get; set; }

    RepeatedField<string> CdiDeviceIds { get; }
}
