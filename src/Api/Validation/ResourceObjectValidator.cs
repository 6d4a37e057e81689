using System.Text.Json.Nodes;

namespace SecureDra.Api.Validation;

/// <summary>
/// Validates every opaque config for <paramref name="driverName"/> inside a ResourceClaim,
/// ResourceClaimTemplate (at spec.spec) or DeviceClass, in resource.k8s.io v1, v1beta2 or v1beta1,
/// with paths such as <c>spec.devices.config[1].opaque.parameters.sharingTimeSliceMs</c>.
/// Configs for other drivers are skipped. Shared by the webhook and <c>securedra validate</c>.
/// (Contract stub: implemented by the config-API work.)
/// </summary>
public sealed class ResourceObjectValidator(IGpuConfigValidator configValidator, string driverName)
{
    public IGpuConfigValidator ConfigValidator { get; } = configValidator;
    public string DriverName { get; } = driverName;

    public IReadOnlyList<ValidationError> Validate(JsonObject resourceObject) => throw new NotImplementedException();
}
