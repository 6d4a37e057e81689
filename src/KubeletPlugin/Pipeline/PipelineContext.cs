using SecureDra.KubeletPlugin.Hosting;

namespace SecureDra.KubeletPlugin.Pipeline;

/// <summary>The two option sets every pipeline component reads, resolved once.</summary>
public sealed record PipelineContext(KubeletPluginOptions Plugin, ClaimPipelineOptions Options)
{
    /// <summary>CDI vendor: <c>k8s.&lt;driver&gt;</c>, as NVIDIA's and the example driver name it.</summary>
    public string CdiVendor => "k8s." + Plugin.DriverName;

    /// <summary>Kind of every per-claim spec: <c>k8s.&lt;driver&gt;/claim</c> (the same class NVIDIA's driver uses for claim specs).</summary>
    public string CdiKind => CdiVendor + "/claim";
}
