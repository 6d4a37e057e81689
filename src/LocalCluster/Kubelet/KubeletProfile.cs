namespace SecureDra.LocalCluster.Kubelet;

/// <summary>
/// Which DRA services an emulated kubelet speaks and how it chooses among those a plugin offers.
/// 1.32/1.33: v1beta1 (their legacy v1alpha3 fallback is not emulated), kubelet order.
/// 1.34+: v1 then v1beta1, first entry of the plugin's list the kubelet knows.
/// <see cref="HealthStreamFields"/> is the highest <c>DeviceHealth</c> field number that kubelet's
/// v1alpha1.DRAResourceHealth proto knows (0: no health stream; 3 in 1.34, 4 in 1.35, 5 = message in 1.36).
/// </summary>
public sealed record KubeletProfile(string Name, IReadOnlyList<string> SupportedDraServices, ServiceSelection Selection, int HealthStreamFields = 0)
{
    public static KubeletProfile V1_32 { get; } = new("1.32", ["v1beta1.DRAPlugin"], ServiceSelection.KubeletOrder);
    public static KubeletProfile V1_33 { get; } = new("1.33", ["v1beta1.DRAPlugin"], ServiceSelection.KubeletOrder);
    public static KubeletProfile V1_34 { get; } = new("1.34", ["v1.DRAPlugin", "v1beta1.DRAPlugin"], ServiceSelection.PluginOrder, HealthStreamFields: 3);
    public static KubeletProfile V1_35 { get; } = new("1.35", ["v1.DRAPlugin", "v1beta1.DRAPlugin"], ServiceSelection.PluginOrder, HealthStreamFields: 4);
    public static KubeletProfile V1_36 { get; } = new("1.36", ["v1.DRAPlugin", "v1beta1.DRAPlugin"], ServiceSelection.PluginOrder, HealthStreamFields: 5);

    /// <summary>Every emulated kubelet, oldest first.</summary>
    public static IReadOnlyList<KubeletProfile> All { get; } = [V1_32, V1_33, V1_34, V1_35, V1_36];

    /// <summary>The profile for "1.32" … "1.36" (a leading "v" and a patch part are ignored).</summary>
    public static KubeletProfile ForVersion(string version)
    {
        ArgumentNullException.ThrowIfNull(version);
        var parts = version.Trim().TrimStart('v').Split('.');
        var minor = parts.Length >= 2 ? $"{parts[0]}.{parts[1]}" : version;
        return All.FirstOrDefault(p => p.Name == minor)
            ?? throw new ArgumentException($"no kubelet profile for Kubernetes '{version}'; use one of {string.Join(", ", All.Select(p => p.Name))}", nameof(version));
    }

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
