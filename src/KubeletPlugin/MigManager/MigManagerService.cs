using Grpc.Core;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Scrubbing;
using Wire = SecureDra.Protocol.MigManager.V1;

namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>
/// The MIG manager's calls, each a thin, checked pass-through to the manager's own <see cref="IMigBackend"/> and
/// <see cref="IMigInstanceScrubber"/>. A GPU is resolved from the manager's own enumeration by UUID (never a device
/// record from the caller); a scrub is of the instance the manager finds at that GPU-instance id, and only when its
/// MIG UUID is the one the caller expects. State changes run one at a time, scrubs one at a time; waiting for a turn
/// counts against the call's deadline. Field checks, unknown fields and error mapping are
/// <see cref="StrictRequestInterceptor"/>'s job.
/// </summary>
public sealed class MigManagerService(
    IGpuBackend gpus,
    IMigBackend mig,
    IMigInstanceScrubber scrubber,
    MigManagerOptions options,
    MigInstanceScrubberOptions scrubOptions) : Wire.MigManager.MigManagerBase, IDisposable
{
    private readonly SemaphoreSlim _mutate = new(1, 1);
    private readonly SemaphoreSlim _scrub = new(1, 1);
    private readonly SemaphoreSlim _enumerate = new(1, 1);
    private IReadOnlyList<GpuDevice>? _devices;

    public override async Task<Wire.PingResponse> Ping(Wire.PingRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        using var deadline = Deadline(context, options.CallTimeout);
        var response = new Wire.PingResponse();
        response.GpuUuids.AddRange((await DevicesAsync(refresh: false, deadline.Token).ConfigureAwait(false)).Take(MigManagerWire.MaxGpus).Select(d => d.Uuid));
        return response;
    }

    public override async Task<Wire.MigModeResponse> GetMigMode(Wire.DeviceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        using var deadline = Deadline(context, options.CallTimeout);
        var gpu = await ResolveAsync(request.GpuUuid, deadline.Token).ConfigureAwait(false);
        return MigManagerWire.ToWire(await mig.GetMigModeAsync(gpu, deadline.Token).ConfigureAwait(false));
    }

    public override async Task<Wire.ProfilesResponse> GetProfiles(Wire.DeviceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        using var deadline = Deadline(context, options.CallTimeout);
        var gpu = await ResolveAsync(request.GpuUuid, deadline.Token).ConfigureAwait(false);
        var response = new Wire.ProfilesResponse();
        response.Profiles.AddRange((await mig.GetProfilesAsync(gpu, deadline.Token).ConfigureAwait(false)).Select(MigManagerWire.ToWire));
        return response;
    }

    public override async Task<Wire.InstancesResponse> GetInstances(Wire.DeviceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        using var deadline = Deadline(context, options.CallTimeout);
        var gpu = await ResolveAsync(request.GpuUuid, deadline.Token).ConfigureAwait(false);
        var response = new Wire.InstancesResponse();
        response.Instances.AddRange((await mig.GetInstancesAsync(gpu, deadline.Token).ConfigureAwait(false)).Select(MigManagerWire.ToWire));
        return response;
    }

    public override async Task<Wire.ProcessesResponse> GetInstanceProcesses(Wire.GpuInstanceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        using var deadline = Deadline(context, options.CallTimeout);
        var id = MigManagerWire.Id(request.GpuInstanceId, "gpu_instance_id");
        var gpu = await ResolveAsync(request.GpuUuid, deadline.Token).ConfigureAwait(false);
        var response = new Wire.ProcessesResponse();
        response.Processes.AddRange((await mig.GetInstanceProcessesAsync(gpu, id, deadline.Token).ConfigureAwait(false))
            .Take(MigManagerWire.MaxProcesses).Select(p => new Wire.Process { Pid = p.Pid, UsedMemoryBytes = p.UsedMemoryBytes }));
        return response;
    }

    public override async Task<Wire.Instance> CreateGpuInstance(Wire.CreateGpuInstanceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        using var deadline = Deadline(context, options.CallTimeout);
        var profile = MigManagerWire.Id(request.ProfileId, "profile_id");
        var placement = MigManagerWire.Placement(request.Placement, "placement");
        var gpu = await ResolveAsync(request.GpuUuid, deadline.Token).ConfigureAwait(false);
        return await ExclusiveAsync(_mutate, async ct => MigManagerWire.ToWire(await mig.CreateGpuInstanceAsync(gpu, profile, placement, ct).ConfigureAwait(false)), deadline.Token).ConfigureAwait(false);
    }

    public override async Task<Wire.Instance> CreateComputeInstance(Wire.GpuInstanceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        using var deadline = Deadline(context, options.CallTimeout);
        var id = MigManagerWire.Id(request.GpuInstanceId, "gpu_instance_id");
        var gpu = await ResolveAsync(request.GpuUuid, deadline.Token).ConfigureAwait(false);
        return await ExclusiveAsync(_mutate, async ct => MigManagerWire.ToWire(await mig.CreateComputeInstanceAsync(gpu, id, ct).ConfigureAwait(false)), deadline.Token).ConfigureAwait(false);
    }

    public override async Task<Wire.Empty> DestroyComputeInstance(Wire.DestroyComputeInstanceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        using var deadline = Deadline(context, options.CallTimeout);
        var gi = MigManagerWire.Id(request.GpuInstanceId, "gpu_instance_id");
        var ci = MigManagerWire.Id(request.ComputeInstanceId, "compute_instance_id");
        var gpu = await ResolveAsync(request.GpuUuid, deadline.Token).ConfigureAwait(false);
        return await ExclusiveAsync(_mutate, async ct =>
        {
            await mig.DestroyComputeInstanceAsync(gpu, gi, ci, ct).ConfigureAwait(false);
            return new Wire.Empty();
        }, deadline.Token).ConfigureAwait(false);
    }

    public override async Task<Wire.Empty> DestroyGpuInstance(Wire.GpuInstanceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        using var deadline = Deadline(context, options.CallTimeout);
        var gi = MigManagerWire.Id(request.GpuInstanceId, "gpu_instance_id");
        var gpu = await ResolveAsync(request.GpuUuid, deadline.Token).ConfigureAwait(false);
        return await ExclusiveAsync(_mutate, async ct =>
        {
            await mig.DestroyGpuInstanceAsync(gpu, gi, ct).ConfigureAwait(false);
            return new Wire.Empty();
        }, deadline.Token).ConfigureAwait(false);
    }

    public override async Task<Wire.ScrubResponse> ScrubInstance(Wire.ScrubInstanceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        // The worker's own deadline plus room to start it and read its report.
        using var deadline = Deadline(context, scrubOptions.Deadline + TimeSpan.FromSeconds(30));
        var gi = MigManagerWire.Id(request.GpuInstanceId, "gpu_instance_id");
        var expected = MigManagerWire.InstanceUuid(request.InstanceUuid);
        var trigger = MigManagerWire.Trigger(request.Trigger, "trigger");
        var gpu = await ResolveAsync(request.GpuUuid, deadline.Token).ConfigureAwait(false);
        return await ExclusiveAsync(_scrub, async ct =>
        {
            var instance = (await mig.GetInstancesAsync(gpu, ct).ConfigureAwait(false)).SingleOrDefault(i => i.GpuInstanceId == gi);
            if (instance is null || instance.Uuid != expected)
            {
                // Re-created behind the caller's back (new UUID) or gone: scrubbing whatever is there now would not be
                // the memory the caller means. Refused; the caller keeps the instance's slices dirty.
                return MigManagerWire.ToWire(new MigScrubResult(gpu.Name, gi, expected, false, false, 0, 0, 0, TimeSpan.Zero, "",
                    instance is null ? $"no GPU instance {gi} on {gpu.Name}" : $"GPU instance {gi} on {gpu.Name} is {instance.Uuid ?? "without a compute instance"}, not {expected}"));
            }

            return MigManagerWire.ToWire(await scrubber.ScrubAsync(gpu, instance, trigger, ct).ConfigureAwait(false));
        }, deadline.Token).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _mutate.Dispose();
        _scrub.Dispose();
        _enumerate.Dispose();
    }

    private static CancellationTokenSource Deadline(ServerCallContext context, TimeSpan limit)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        cts.CancelAfter(limit);
        return cts;
    }

    private static async Task<T> ExclusiveAsync<T>(SemaphoreSlim gate, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await work(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<GpuDevice> ResolveAsync(string uuid, CancellationToken cancellationToken)
    {
        MigManagerWire.GpuUuid(uuid);
        var found = (await DevicesAsync(refresh: false, cancellationToken).ConfigureAwait(false)).FirstOrDefault(d => d.Uuid == uuid)
            ?? (await DevicesAsync(refresh: true, cancellationToken).ConfigureAwait(false)).FirstOrDefault(d => d.Uuid == uuid);
        return found ?? throw new GpuBackendException($"gpu_uuid {uuid} is not a GPU this MIG manager sees");
    }

    private async Task<IReadOnlyList<GpuDevice>> DevicesAsync(bool refresh, CancellationToken cancellationToken)
    {
        await _enumerate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_devices is null || refresh)
            {
                _devices = await gpus.EnumerateAsync(cancellationToken).ConfigureAwait(false);
            }

            return _devices;
        }
        finally
        {
            _enumerate.Release();
        }
    }
}
