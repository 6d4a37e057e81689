using Microsoft.Extensions.Options;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.Nvml.Tests;

/// <summary>
/// The GPU layer is the one place a scrub's failures are caught, counted and logged: every way a scrub ends (verified,
/// not verified, refused, a backend error outside the phases, the caller's deadline) is a report with its verdict,
/// exactly one log event and exactly one sample of securedra_scrubs_total carrying the caller's trigger.
/// </summary>
public class ScrubVerdictTests
{
    private static readonly string[] ScrubEvents = ["VramScrubbed", "VramScrubFailed", "VramScrubRefused"];

    [Fact]
    public async Task A_verification_mismatch_is_not_verified_with_one_failed_event()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: 1024 * 1024);
        var device = await node.DeviceAsync(0);
        node.Backend.SetFaults(device.Name, new() { FailVerification = true });

        var report = await node.Scrubber.ScrubAsync(device, ScrubTrigger.Retry, CancellationToken.None);

        AssertOne(node, report, ScrubVerdict.NotVerified, "retry", "not_verified", "VramScrubFailed");
    }

    [Fact]
    public async Task A_refusal_is_a_failed_report_with_one_refused_event()
    {
        var probe = new Probe { Processes = [new GpuProcess(4242, 1024)] };
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: 1024 * 1024, wrap: probe);
        probe.Inner = node.Backend;

        var report = await node.Scrubber.ScrubAsync(await node.DeviceAsync(0), ScrubTrigger.Release, CancellationToken.None);

        Assert.True(report.Refused);
        Assert.Contains("4242", report.FailureReason, StringComparison.Ordinal);
        AssertOne(node, report, ScrubVerdict.Refused, "release", "refused", "VramScrubRefused");
    }

    [Fact]
    public async Task An_unexpected_exception_outside_the_phases_is_an_error_report_not_an_escape()
    {
        var probe = new Probe { OpenThrows = new InvalidOperationException("driver state corrupted") };
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: 1024 * 1024, wrap: probe);
        probe.Inner = node.Backend;

        var report = await node.Scrubber.ScrubAsync(await node.DeviceAsync(0), ScrubTrigger.Startup, CancellationToken.None);

        Assert.Equal("scrub failed: InvalidOperationException: driver state corrupted", report.FailureReason);
        AssertOne(node, report, ScrubVerdict.Error, "startup", "error", "VramScrubFailed");
    }

    [Fact]
    public async Task No_process_list_is_an_error_report()
    {
        var probe = new Probe { ProcessesThrow = new GpuBackendException("nvmlDeviceGetComputeRunningProcesses: GPU is lost") };
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: 1024 * 1024, wrap: probe);
        probe.Inner = node.Backend;

        var report = await node.Scrubber.ScrubAsync(await node.DeviceAsync(0), ScrubTrigger.Health, CancellationToken.None);

        Assert.StartsWith("could not list compute processes", report.FailureReason, StringComparison.Ordinal);
        AssertOne(node, report, ScrubVerdict.Error, "health", "error", "VramScrubFailed");
    }

    [Fact]
    public async Task The_callers_deadline_is_a_timeout_report_not_an_exception()
    {
        // A barrier, not a sleep: the backend holds the scrub until the caller's token fires.
        var probe = new Probe { HoldProcesses = true };
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: 1024 * 1024, wrap: probe);
        probe.Inner = node.Backend;
        using var deadline = new CancellationTokenSource();

        var scrub = node.Scrubber.ScrubAsync(await node.DeviceAsync(0), ScrubTrigger.Release, deadline.Token);
        await probe.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await deadline.CancelAsync();
        var report = await scrub.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.StartsWith("scrub timed out after", report.FailureReason, StringComparison.Ordinal);
        AssertOne(node, report, ScrubVerdict.Timeout, "release", "timeout", "VramScrubFailed");
    }

    [Fact]
    public async Task The_wait_for_the_devices_previous_scrub_counts_toward_the_callers_deadline()
    {
        var probe = new Probe { HoldProcesses = true };
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: 1024 * 1024, wrap: probe);
        probe.Inner = node.Backend;
        var device = await node.DeviceAsync(0);
        using var first = new CancellationTokenSource();
        var running = node.Scrubber.ScrubAsync(device, ScrubTrigger.Retry, first.Token);
        await probe.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The second caller never gets the device: its deadline fires while it waits at the gate.
        using var second = new CancellationTokenSource();
        var waiting = node.Scrubber.ScrubAsync(device, ScrubTrigger.Release, second.Token);
        await second.CancelAsync();
        var report = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        await first.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ScrubVerdict.Timeout, report.Verdict);
        Assert.Equal(1, probe.Calls);
        Assert.Contains("securedra_scrubs_total{backend=\"simulated\",target=\"gpu\",trigger=\"release\",outcome=\"timeout\"} 1", node.Metrics.Render(), StringComparison.Ordinal);
    }

    private static void AssertOne(SimulatedNode node, ScrubReport report, ScrubVerdict verdict, string trigger, string outcome, string eventName)
    {
        Assert.False(report.Succeeded);
        Assert.False(report.Verified);
        Assert.Equal(verdict, report.Verdict);
        var text = node.Metrics.Render();
        Assert.Contains($"securedra_scrubs_total{{backend=\"simulated\",target=\"gpu\",trigger=\"{trigger}\",outcome=\"{outcome}\"}} 1", text, StringComparison.Ordinal);
        Assert.Single(text.Split('\n'), l => l.StartsWith("securedra_scrubs_total{", StringComparison.Ordinal));
        Assert.Contains($"securedra_scrub_bytes_total{{backend=\"simulated\",target=\"gpu\",trigger=\"{trigger}\"}} 0", text, StringComparison.Ordinal);
        var logged = Assert.Single(node.Logger.Events, e => ScrubEvents.Contains(e.EventName));
        Assert.Equal(eventName, logged.EventName);
        Assert.Equal(trigger, logged.Properties["Trigger"]);
        if (eventName == "VramScrubFailed")
        {
            Assert.Equal(outcome, logged.Properties["Outcome"]);
        }
    }

    /// <summary>The simulated backend with one misbehaviour at a time.</summary>
    private sealed class Probe : IGpuBackend
    {
        private int _calls;

        public IGpuBackend Inner { get; set; } = null!;
        public IReadOnlyList<GpuProcess>? Processes { get; init; }
        public Exception? ProcessesThrow { get; init; }
        public Exception? OpenThrows { get; init; }
        public bool HoldProcesses { get; init; }
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Calls => Volatile.Read(ref _calls);

        public string Kind => Inner.Kind;

        public Task<IReadOnlyList<GpuDevice>> EnumerateAsync(CancellationToken cancellationToken) => Inner.EnumerateAsync(cancellationToken);

        public async Task<IReadOnlyList<GpuProcess>> GetRunningProcessesAsync(GpuDevice device, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            if (HoldProcesses)
            {
                Entered.TrySetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return ProcessesThrow is not null ? throw ProcessesThrow : Processes ?? await Inner.GetRunningProcessesAsync(device, cancellationToken);
        }

        public IAsyncEnumerable<GpuHealthEvent> WatchHealthAsync(CancellationToken cancellationToken) => Inner.WatchHealthAsync(cancellationToken);

        public Task<IDeviceMemorySession> OpenMemorySessionAsync(GpuDevice device, CancellationToken cancellationToken) =>
            OpenThrows is not null ? throw OpenThrows : Inner.OpenMemorySessionAsync(device, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
