using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.KubeletPlugin.Tests.Mig;

/// <summary>
/// Passes every call to a real (simulated) MIG backend and records the state-changing ones in order, with the scrubs
/// of <see cref="Wrap"/>ped scrubbers in the same log ("create-gi START+SIZE", "create-ci gi=N", "scrub gi=N",
/// "destroy-ci gi=N", "destroy-gi gi=N"), and what the checkpoint file held at each GPU-instance create.
/// </summary>
public sealed class RecordingMigBackend(IMigBackend inner, Func<string> readCheckpoint) : IMigBackend
{
    private readonly List<string> _operations = [];

    public IReadOnlyList<string> Operations
    {
        get { lock (_operations) { return [.. _operations]; } }
    }

    public Dictionary<MigPlacement, string> CheckpointAtCreate { get; } = [];

    public IMigInstanceScrubber Wrap(IMigInstanceScrubber scrubber) => new Scrubber(this, scrubber);

    private void Record(string operation)
    {
        lock (_operations)
        {
            _operations.Add(operation);
        }
    }

    public Task<MigModeState> GetMigModeAsync(GpuDevice device, CancellationToken cancellationToken) => inner.GetMigModeAsync(device, cancellationToken);

    public Task<IReadOnlyList<MigProfile>> GetProfilesAsync(GpuDevice device, CancellationToken cancellationToken) => inner.GetProfilesAsync(device, cancellationToken);

    public Task<IReadOnlyList<MigInstance>> GetInstancesAsync(GpuDevice device, CancellationToken cancellationToken) => inner.GetInstancesAsync(device, cancellationToken);

    public Task<MigInstance> CreateGpuInstanceAsync(GpuDevice device, int profileId, MigPlacement placement, CancellationToken cancellationToken)
    {
        lock (CheckpointAtCreate)
        {
            CheckpointAtCreate[placement] = readCheckpoint();
        }

        Record($"create-gi {placement.Start}+{placement.Size}");
        return inner.CreateGpuInstanceAsync(device, profileId, placement, cancellationToken);
    }

    public Task<MigInstance> CreateComputeInstanceAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken)
    {
        Record($"create-ci gi={gpuInstanceId}");
        return inner.CreateComputeInstanceAsync(device, gpuInstanceId, cancellationToken);
    }

    public Task DestroyComputeInstanceAsync(GpuDevice device, int gpuInstanceId, int computeInstanceId, CancellationToken cancellationToken)
    {
        Record($"destroy-ci gi={gpuInstanceId}");
        return inner.DestroyComputeInstanceAsync(device, gpuInstanceId, computeInstanceId, cancellationToken);
    }

    public Task DestroyGpuInstanceAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken)
    {
        Record($"destroy-gi gi={gpuInstanceId}");
        return inner.DestroyGpuInstanceAsync(device, gpuInstanceId, cancellationToken);
    }

    public Task<IReadOnlyList<GpuProcess>> GetInstanceProcessesAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken) =>
        inner.GetInstanceProcessesAsync(device, gpuInstanceId, cancellationToken);

    private sealed class Scrubber(RecordingMigBackend log, IMigInstanceScrubber inner) : IMigInstanceScrubber
    {
        public Task<MigScrubResult> ScrubAsync(GpuDevice parent, MigInstance instance, ScrubTrigger trigger, CancellationToken cancellationToken)
        {
            log.Record($"scrub gi={instance.GpuInstanceId}");
            return inner.ScrubAsync(parent, instance, trigger, cancellationToken);
        }
    }
}
