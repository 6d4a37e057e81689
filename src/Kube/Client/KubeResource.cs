namespace SecureDra.Kube.Client;

/// <summary>A REST resource: group ("" for core), version and plural, e.g. resource.k8s.io/v1 resourceslices.</summary>
public sealed record KubeResource(string Group, string Version, string Plural, bool Namespaced)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public static KubeResource Nodes { get; } = new("", "v1", "nodes", false);
    public static KubeResource Namespaces { get; } = new("", "v1", "namespaces", false);
    public static KubeResource Events { get; } = new("", "v1", "events", true);
    public static KubeResource Leases { get; } = new("coordination.k8s.io", "v1", "leases", true);

    public static KubeResource ResourceSlices(string version) => new("resource.k8s.io", version, "resourceslices", false);
    public static KubeResource ResourceClaims(string version) => new("resource.k8s.io", version, "resourceclaims", true);
    public static KubeResource ResourceClaimTemplates(string version) => new("resource.k8s.io", version, "resourceclaimtemplates", true);
    public static KubeResource DeviceClasses(string version) => new("resource.k8s.io", version, "deviceclasses", false);
    public static KubeResource DeviceTaintRules(string version) => new("resource.k8s.io", version, "devicetaintrules", false);
}
