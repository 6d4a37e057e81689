namespace SecureDra.Cli.Demo;

/// <summary>What the demo puts on the node: SecureDra's own kubelet plugin, or the driver proxy in front of a simulated vendor plugin.</summary>
internal enum DemoMode
{
    Plugin,
    Proxy,
}
