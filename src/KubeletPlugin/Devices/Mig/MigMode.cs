namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// <c>--mig-mode</c>: what the plugin does with GPUs in MIG mode. Off (the default) keeps them
/// withdrawn (MigModeEnabled); Static publishes the instances an administrator created and never
/// creates or destroys one; Dynamic publishes every placement as a partitionable device (KEP 4815)
/// where the API server keeps counters, and falls back to Static where it does not.
/// </summary>
public enum MigMode
{
    Off,
    Static,
    Dynamic,
}
