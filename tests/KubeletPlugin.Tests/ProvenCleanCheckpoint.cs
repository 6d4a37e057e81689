using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;

namespace SecureDra.KubeletPlugin.Tests;

/// <summary>
/// The checkpoint a node that has been running this build leaves behind with no claims: every
/// device recorded Clean. Tests whose subject is not start-up seed it, so that their first start
/// behaves like a restart of such a node instead of a first install (which scrubs every GPU).
/// </summary>
public static class ProvenCleanCheckpoint
{
    public static Task WriteAsync(string dataDirectory, IEnumerable<GpuDevice> devices, string? bootId = null)
    {
        var data = new CheckpointData
        {
            BootId = bootId,
            Devices = devices.ToDictionary(d => d.Name, d => new CheckpointDeviceRecord { Uuid = d.Uuid, State = DurableDeviceState.Clean }, StringComparer.Ordinal),
        };
        return new CheckpointFile(dataDirectory, "checkpoint.json", 1 << 20).WriteAsync(data, CancellationToken.None);
    }
}
