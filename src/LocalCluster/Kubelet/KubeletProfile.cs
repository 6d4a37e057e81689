namespace SecureDra.LocalCluster.Kubelet;

/// <summary>
/// Which DRA services an emulated kubelet speaks and how it chooses among those a plugin offers.
/// 1.32/1.33: v1beta1 (their legacy v1alpha3 fallback is not emulated), kubelet order.
/// 1.34+: v1 then v1beta1, first entry of the plugin's list the kubelet knows.
/// </summary>
public sealed record KubeletProfile(string Name, IReadOnlyList<string> SupportedDraServices, ServiceSelection Selection)
{
    public static KubeletProfile V1_32 { get; } = new("1.32", ["v1beta1.DRAPlugin"], ServiceSelection.KubeletOrder);
    public static KubeletProfile V1_33 { get; } = new("1.33", ["v1beta1.DRAPlugin"], ServiceSelection.KubeletOrder);
    public static KubeletProfile V1_34 { get; } = new("1.34", ["v1.DRAPlugin", "v1beta1.DRAPlugin"], ServiceSelection.PluginOrder);
    public static KubeletProfile V1_35 { get; } = new("1.35", ["v1.DRAPlugin", "v1beta1.DRAPlugin"], ServiceSelection.PluginOrder);

    /// <summary>The service the kubelet would use, or null when none matches (registration is rejected).</summary>
    public string? Choose(IReadOnlyList<string> offeredByPlugin)
    {
        ArgumentNullException.ThrowIfNull(offeredByPlugin);
        return Selection == ServiceSelection.PluginOrder
            ? offeredByPlugin.FirstOrDefault(s => SupportedDraServices.Contains(s, StringComparer.Ordinal))
            : SupportedDraServices.FirstOrDefault(s => offeredByPlugin.Contains(s, StringComparer.Ordinal));
    }
}

public enum ServiceSelection
{
    /// <summary>First service of the kubelet's own list that the plugin offers (1.32, 1.33).</summary>
    KubeletOrder,

    /// <summary>First service of the plugin's list that the kubelet supports (1.34+).</summary>
    PluginOrder,
}
