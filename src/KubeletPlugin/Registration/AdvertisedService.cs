namespace SecureDra.KubeletPlugin.Registration;

/// <summary>
/// One entry of <c>PluginInfo.supported_versions</c>, e.g. <c>v1.DRAPlugin</c>. Registered in DI as
/// singletons; GetInfo lists them in registration order (the kubelet 1.34+ picks the first it knows,
/// so v1 comes first). The health service adds <c>v1alpha1.DRAResourceHealth</c> only once it
/// streams real data.
/// </summary>
public sealed record AdvertisedService(string Name)
{
    public static AdvertisedService DraPluginV1 { get; } = new("v1.DRAPlugin");
    public static AdvertisedService DraPluginV1Beta1 { get; } = new("v1beta1.DRAPlugin");
    public static AdvertisedService DraResourceHealthV1Alpha1 { get; } = new("v1alpha1.DRAResourceHealth");
}
