using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SecureDra.Kube.Client;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Observability.Changes;
using SecureDra.TestKit;

namespace SecureDra.KubeletPlugin.Tests.Pipeline;

/// <summary>
/// The slice publisher and its publication gate (node hardening with --require-node-hardening): a gate that opens
/// right after a pass read it closed must wake the publisher at once, not at the next resync. The clock is fake and
/// never advanced, so only the gate's signal can wake it.
/// </summary>
public sealed class PublicationGateWakeTests
{
    /// <summary>Closed at the first read, and opened (with its signal) right after it: inside the publisher's pass.</summary>
    private sealed class OpensAfterFirstRead : IDevicePublicationGate
    {
        private readonly ChangeSignal _changed = new();
        private int _reads;
        private volatile bool _allowed;

        public bool PublicationAllowed
        {
            get
            {
                var seen = _allowed;
                if (Interlocked.Increment(ref _reads) == 1)
                {
                    _allowed = true;
                    _changed.Signal();
                }

                return seen;
            }
        }

        public Task Changed => _changed.Next;

        public int Reads => Volatile.Read(ref _reads);
    }

    [Fact]
    public async Task A_gate_that_opens_during_a_pass_wakes_the_publisher_without_waiting_for_the_resync()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var h = PipelineHarness.Create(2, time: time);
        await h.StartAsync();
        var gate = new OpensAfterFirstRead();
        var publisher = new ResourceSlicePublisher(
            h.Api, h.Provider.GetRequiredService<IKubeApiClient>(), h.Inventory, h.Provider.GetRequiredService<SliceDeviceRenderer>(),
            h.Provider.GetRequiredService<PipelineContext>(), h.Startup, new SecureDra.Observability.Metrics.MetricsRegistry(), time,
            NullLogger<ResourceSlicePublisher>.Instance, gate: gate);

        await publisher.StartAsync(CancellationToken.None);
        try
        {
            await Poll.UntilAsync(() => h.Api.Slices.Any(s => s.Devices.Count == 2), "the publisher woke for the opened gate and published both GPUs",
                context: () => $"gate read {gate.Reads} times; slices: {string.Join("; ", h.Api.Slices.Select(s => s.Devices.Count))}");
            Assert.True(gate.Reads >= 2);
        }
        finally
        {
            await publisher.StopAsync(CancellationToken.None);
            publisher.Dispose();
        }
    }
}
