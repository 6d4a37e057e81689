namespace SecureDra.Api.Validation;

/// <summary>Where a config came from: a tenant's claim, or a platform team's DeviceClass.</summary>
public enum ConfigOrigin
{
    Claim,
    DeviceClass,
}
