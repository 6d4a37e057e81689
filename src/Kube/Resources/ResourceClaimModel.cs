namespace SecureDra.Kube.Resources;

/// <summary>
/// The parts of a ResourceClaim the driver and the webhook read, independent of wire version.
/// Opaque parameters stay as the exact JSON text the API server returned, so the strict
/// validator sees what was stored, not a re-serialization.
/// </summary>
public sealed record ResourceClaimModel(
    string Namespace,
    string Name,
    string Uid,
    string? ResourceVersion,
    IReadOnlyList<ClaimRequest> Requests,
    IReadOnlyList<ClaimConfig> Config,
    ClaimAllocation? Allocation);

/// <summary>A request: either exactly one device class (<see cref="DeviceClassName"/>) or a list of alternatives.</summary>
public sealed record ClaimRequest(
    string Name,
    string? DeviceClassName,
    bool AdminAccess,
    IReadOnlyList<ClaimSubRequest> FirstAvailable);

public sealed record ClaimSubRequest(string Name, string DeviceClassName);

/// <summary>A config entry in the claim spec, or in status.allocation.devices.config (with <see cref="Source"/>).</summary>
public sealed record ClaimConfig(
    IReadOnlyList<string> Requests,
    string? OpaqueDriver,
    string? OpaqueParametersJson,
    string? Source = null);

public sealed record ClaimAllocation(
    IReadOnlyList<AllocationResult> Results,
    IReadOnlyList<ClaimConfig> Config);

/// <summary><see cref="Request"/> is "req" or "req/sub".</summary>
public sealed record AllocationResult(
    string Request,
    string Driver,
    string Pool,
    string Device,
    bool AdminAccess,
    string? ShareId);
