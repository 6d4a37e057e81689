namespace SecureDra.Kube.Resources;

/// <summary>Wire names and preference order of <see cref="ResourceApiVersion"/>.</summary>
public static class ResourceApiVersions
{
    public const string Group = "resource.k8s.io";

    /// <summary>Newest first: the order negotiation tries them in.</summary>
    public static IReadOnlyList<ResourceApiVersion> Preference { get; } = [ResourceApiVersion.V1, ResourceApiVersion.V1Beta2, ResourceApiVersion.V1Beta1];

    public static string ToWire(this ResourceApiVersion version) => version switch
    {
        ResourceApiVersion.V1 => "v1",
        ResourceApiVersion.V1Beta2 => "v1beta2",
        ResourceApiVersion.V1Beta1 => "v1beta1",
        _ => throw new ArgumentOutOfRangeException(nameof(version), version, "unknown resource.k8s.io version"),
    };

    /// <summary>"resource.k8s.io/v1" etc.</summary>
    public static string ToApiVersion(this ResourceApiVersion version) => $"{Group}/{version.ToWire()}";

    public static bool TryParse(string? wire, out ResourceApiVersion version)
    {
        switch (wire)
        {
            case "v1" or Group + "/v1":
                version = ResourceApiVersion.V1;
                return true;
            case "v1beta2" or Group + "/v1beta2":
                version = ResourceApiVersion.V1Beta2;
                return true;
            case "v1beta1" or Group + "/v1beta1":
                version = ResourceApiVersion.V1Beta1;
                return true;
            default:
                version = default;
                return false;
        }
    }
}
