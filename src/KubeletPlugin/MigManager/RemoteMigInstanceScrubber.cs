using System.Globalization;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Scrubbing;
using Wire = SecureDra.Protocol.MigManager.V1;

namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>
/// <see cref="IMigInstanceScrubber"/> through the MIG manager: the manager runs the <c>securedra scrub-worker</c> child
/// in its own container (which holds the instances' capability nodes) and answers with the result. This side still
/// decides: the answer must be about the instance asked for, a success must be device-verified and cover
/// <see cref="GpuBackendOptions.ScrubMinCoverage"/> of the instance's memory as the plugin knows it. A manager that
/// does not answer is a failed scrub (the slices stay dirty and withdrawn), never an exception. Every outcome is counted
/// in this process's <c>securedra_scrubs_total{target="mig_instance"}</c> too (the manager has no metrics port): verified, not
/// verified, an error reaching the manager, or rejected for an answer this side does not believe.
/// </summary>
public sealed class RemoteMigInstanceScrubber(MigManagerClient client, GpuBackendOptions backend, ScrubMetrics? metrics = null) : IMigInstanceScrubber
{
    private string BackendKind => backend.Kind == GpuBackendKind.Simulated ? "simulated" : "nvidia";

    public async Task<MigScrubResult> ScrubAsync(GpuDevice parent, MigInstance instance, ScrubTrigger trigger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(instance);
        if (instance.Uuid is null)
        {
            return Failed(parent, instance, trigger, ScrubVerdict.Error, "the instance has no compute instance, so no MIG device to scrub through; create its compute instance first");
        }

        Wire.ScrubResponse answer;
        try
        {
            var request = new Wire.ScrubInstanceRequest { GpuUuid = parent.Uuid, GpuInstanceId = instance.GpuInstanceId, InstanceUuid = instance.Uuid, Trigger = MigManagerWire.ToWire(trigger) };
            answer = await client.CallAsync("ScrubInstance", (c, o) => c.ScrubInstanceAsync(request, o), client.Options.ScrubTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (GpuBackendException e)
        {
            return Failed(parent, instance, trigger, ScrubVerdict.Error, e.Message);
        }

        if (answer.InstanceUuid != instance.Uuid)
        {
            return Failed(parent, instance, trigger, ScrubVerdict.Rejected, $"the MIG manager answered about {MigManagerErrors.Truncate(answer.InstanceUuid)}, not {instance.Uuid}");
        }

        var reason = answer.FailureReason.Length > 0 ? MigManagerErrors.Truncate(answer.FailureReason) : null;
        if (!answer.Succeeded || !answer.Verified)
        {
            return Failed(parent, instance, trigger, ScrubVerdict.NotVerified, reason ?? "the MIG manager's scrub did not verify", answer);
        }

        var required = (long)Math.Ceiling(backend.ScrubMinCoverage * instance.MemoryBytes);
        if (answer.BytesZeroed < required || answer.BytesZeroed > instance.MemoryBytes)
        {
            return Failed(parent, instance, trigger, ScrubVerdict.Rejected, string.Create(CultureInfo.InvariantCulture,
                $"the MIG manager reports {answer.BytesZeroed} bytes zeroed and verified; the instance's {instance.MemoryBytes} bytes need at least {required}"), answer);
        }

        metrics?.Record(BackendKind, ScrubMetrics.MigInstance, trigger, ScrubVerdict.Verified, answer.BytesZeroed, TimeSpan.FromMilliseconds(Math.Max(0, answer.DurationMs)));
        return new MigScrubResult(parent.Name, instance.GpuInstanceId, instance.Uuid, true, true, instance.MemoryBytes, answer.BytesZeroed,
            instance.MemoryBytes > 0 ? Math.Min(1, answer.BytesZeroed / (double)instance.MemoryBytes) : 0,
            TimeSpan.FromMilliseconds(Math.Max(0, answer.DurationMs)), MigManagerErrors.Truncate(answer.Method), null);
    }

    private MigScrubResult Failed(GpuDevice parent, MigInstance instance, ScrubTrigger trigger, ScrubVerdict verdict, string reason, Wire.ScrubResponse? answer = null)
    {
        metrics?.Record(BackendKind, ScrubMetrics.MigInstance, trigger, verdict, 0, TimeSpan.FromMilliseconds(Math.Max(0, answer?.DurationMs ?? 0)));
        return new(parent.Name, instance.GpuInstanceId, instance.Uuid ?? "", false, false, instance.MemoryBytes, 0, 0,
            TimeSpan.FromMilliseconds(Math.Max(0, answer?.DurationMs ?? 0)), MigManagerErrors.Truncate(answer?.Method), reason);
    }
}
