namespace SecureDra.LocalCluster.VendorPlugin;

/// <summary>One GPU as the simulated vendor publishes it: NVIDIA's device name, <c>uuid</c> and <c>resource.kubernetes.io/pciBusID</c>.</summary>
public sealed record VendorGpu(string Name, string Uuid, string PciBusId, string ProductName, string Memory);
