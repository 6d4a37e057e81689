namespace SecureDra.Cli.Demo;

/// <summary>What the demo puts on the node: SecureDra's own kubelet plugin, the driver proxy in front of a simulated vendor plugin, or the plugin on a MIG-partitioned GPU.</summary>
internal enum DemoMode
{
    Plugin,
    Proxy,

    /// <summary>The kubelet plugin with --mig-mode static on one simulated GPU in MIG mode, two tenants on two of its instances.</summary>
    Mig,
}
