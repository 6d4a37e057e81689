using System.Text.Json;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Nvml.Scrubbing;
using SecureDra.Observability.Metrics;

namespace SecureDra.Cli.Tests;

/// <summary>
/// The per-instance MIG scrub through the real <c>securedra scrub-worker</c> on simulated MIG: it clears exactly the
/// instance's memory slices, refuses anything but exactly the expected device, and the parent kills a hung worker and
/// rejects oversized or garbled reports.
/// </summary>
public sealed class MigScrubWorkerTests : IDisposable
{
    private const long Memory = 8L * 1024 * 1024;
    private const long Slice = Memory / 8;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "securedra-mig-worker-" + Guid.NewGuid().ToString("N"));
    private readonly SimulatedGpuOptions _simulated;
    private readonly SimulatedMigBackend _mig;
    private readonly GpuDevice _gpu;

    public MigScrubWorkerTests()
    {
        _simulated = new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = Memory, VramDirectory = _dir, FaultFiles = true };
        Directory.CreateDirectory(_dir);
        using (var vram = new FileStream(Path.Combine(_dir, "gpu-0.vram"), FileMode.Create))
        {
            vram.SetLength(Memory);
        }

        SimulatedFaultFile.Write(_dir, "gpu-0", new SimulatedFaults { MigEnabled = true });
        _mig = new SimulatedMigBackend(_simulated);
        _gpu = SimulatedDeviceCatalog.Device(0, Memory);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Scrub_ClearsExactlyTheInstancesSlices_AndTheNeighboursCanarySurvives()
    {
        var tenant = await InstanceAsync(SimulatedMigProfiles.Profile2g, new MigPlacement(2, 2));
        var neighbour = await InstanceAsync(SimulatedMigProfiles.Profile1g, new MigPlacement(4, 1));
        FillWholeFile(0x5A);

        var metrics = new MetricsRegistry();
        var result = await Scrubber(metrics).ScrubAsync(_gpu, tenant, ScrubTrigger.Cli, CancellationToken.None);

        Assert.True(result.Succeeded, result.FailureReason);
        Assert.True(result.Verified);
        Assert.Equal(2 * Slice, result.BytesZeroed);
        Assert.Equal(1.0, result.Coverage);
        Assert.Equal("mmap-parallel-clear+readback", result.Method);
        var bytes = await File.ReadAllBytesAsync(Path.Combine(_dir, "gpu-0.vram"));
        Assert.All(Enumerable.Range(0, 8), s =>
        {
            var slice = bytes.AsSpan((int)(s * Slice), (int)Slice);
            if (tenant.Placement.Contains(s))
            {
                Assert.True(slice.IndexOfAnyExcept((byte)0) < 0, $"slice {s} not cleared");
            }
            else
            {
                Assert.True(slice.IndexOfAnyExcept((byte)0x5A) < 0, $"slice {s} (neighbour {neighbour.Placement.Contains(s)}) was touched");
            }
        });
        Assert.Contains("securedra_scrubs_total{backend=\"simulated\",target=\"mig_instance\",trigger=\"cli\",outcome=\"verified\"} 1", metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_RefusesAnythingButExactlyTheExpectedInstance_AndTouchesNothing()
    {
        var expected = await InstanceAsync(SimulatedMigProfiles.Profile1g, new MigPlacement(0, 1));
        var other = await InstanceAsync(SimulatedMigProfiles.Profile1g, new MigPlacement(1, 1));
        FillWholeFile(0x33);

        foreach (var visible in new[] { other.Uuid!, $"{expected.Uuid},{other.Uuid}", "MIG-00000000-0000-0000-0000-000000000000", "" })
        {
            var (exit, stdout, stderr) = await CliProcess.RunAsync(
                new Dictionary<string, string?> { ["CUDA_VISIBLE_DEVICES"] = visible },
                WorkerArgs(expected));
            Assert.True(exit == 3, $"CUDA_VISIBLE_DEVICES={visible}: exit {exit}\n{stdout}\n{stderr}");
            var report = JsonSerializer.Deserialize(stdout, MigScrubWorkerReportJsonContext.Default.MigScrubWorkerReport)!;
            Assert.Equal("wrong-device", report.Outcome);
            Assert.Equal(expected.Uuid, report.InstanceUuid);
            Assert.NotNull(report.FailureReason);
        }

        // The right device but claimed to belong to another GPU instance: refused too.
        var (code, _, _) = await CliProcess.RunAsync(new Dictionary<string, string?> { ["CUDA_VISIBLE_DEVICES"] = expected.Uuid }, WorkerArgs(expected with { GpuInstanceId = other.GpuInstanceId }));
        Assert.Equal(3, code);
        Assert.Equal(Memory, await SimulatedVramFile.CountNonZeroBytesAsync(Path.Combine(_dir, "gpu-0.vram"), CancellationToken.None));
    }

    [Fact]
    public async Task Worker_BadFlags_ExitTwoWithOneLine()
    {
        var (exit, stdout, stderr) = await CliProcess.RunAsync(["scrub-worker", "--instance-uuid", "GPU-1234", "--parent-uuid", "GPU-x", "--gpu-instance-id", "1"]);
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Equal("scrub-worker: --instance-uuid: must be a MIG UUID (MIG-…, at most 96 characters), got \"GPU-1234\"", stderr.Trim());
        (exit, _, stderr) = await CliProcess.RunAsync(["scrub-worker", "--instance-uuid", "MIG-1", "--parent-uuid", "GPU-x", "--gpu-instance-id", "-1"]);
        Assert.Equal(2, exit);
        Assert.Contains("--gpu-instance-id", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HungWorker_IsKilledAtTheDeadline()
    {
        var tenant = await InstanceAsync(SimulatedMigProfiles.Profile1g, new MigPlacement(3, 1));
        SimulatedFaultFile.Write(_dir, "gpu-0", new SimulatedFaults { MigEnabled = true, MemoryDelayMs = 120_000 });
        var metrics = new MetricsRegistry();
        var started = DateTime.UtcNow;
        var result = await Scrubber(metrics, TimeSpan.FromSeconds(4), CliProcess.TestBuildDll).ScrubAsync(_gpu, tenant, ScrubTrigger.Cli, CancellationToken.None);
        Assert.False(result.Succeeded);
        Assert.Contains("ran past its deadline of 4 s and was killed", result.FailureReason, StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(60));
        Assert.Contains("target=\"mig_instance\",trigger=\"cli\",outcome=\"timeout\"} 1", metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyFailureOnOneSlice_FailsTheInstanceThatCoversIt()
    {
        var tenant = await InstanceAsync(SimulatedMigProfiles.Profile3g, new MigPlacement(4, 4));
        SimulatedFaultFile.Write(_dir, "gpu-0", new SimulatedFaults { MigEnabled = true, MigFailVerifySlice = 6 });
        var result = await Scrubber(new MetricsRegistry(), dll: CliProcess.TestBuildDll).ScrubAsync(_gpu, tenant, ScrubTrigger.Cli, CancellationToken.None);
        Assert.False(result.Succeeded);
        Assert.False(result.Verified);
        Assert.NotNull(result.FailureReason);

        // The shipped build reads no fault file: the same scrub passes there.
        result = await Scrubber(new MetricsRegistry()).ScrubAsync(_gpu, tenant, ScrubTrigger.Cli, CancellationToken.None);
        Assert.True(result.Succeeded, result.FailureReason);
    }

    [Fact]
    public async Task ProcessesOnTheInstance_RefuseWithoutStartingTheWorker()
    {
        var tenant = await InstanceAsync(SimulatedMigProfiles.Profile1g, new MigPlacement(0, 1));
        SimulatedFaultFile.Write(_dir, "gpu-0", new SimulatedFaults { MigEnabled = true, RunningProcesses = [new SimulatedProcess(4242, 1) { GpuInstanceId = tenant.GpuInstanceId }] });
        FillWholeFile(0x44);
        var metrics = new MetricsRegistry();
        var result = await Scrubber(metrics).ScrubAsync(_gpu, tenant, ScrubTrigger.Cli, CancellationToken.None);
        Assert.False(result.Succeeded);
        Assert.Contains("pids 4242", result.FailureReason, StringComparison.Ordinal);
        Assert.Equal(Memory, await SimulatedVramFile.CountNonZeroBytesAsync(Path.Combine(_dir, "gpu-0.vram"), CancellationToken.None));
        Assert.Contains("target=\"mig_instance\",trigger=\"cli\",outcome=\"refused\"} 1", metrics.Render(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("head -c 20000 /dev/zero | tr '\\0' x; exit 0", "more than 8192 bytes on stdout")]
    [InlineData("printf 'not json'; exit 0", "not a valid report")]
    [InlineData("printf '{\"outcome\":\"scrubbed\",\"instanceUuid\":\"%s\",\"verified\":true,\"extra\":1}' \"$UUID\"; exit 0", "not a valid report")]
    [InlineData("printf '{\"outcome\":\"scrubbed\",\"instanceUuid\":\"MIG-someone-else\",\"verified\":true}'; exit 0", "the report is about MIG-someone-else")]
    [InlineData("printf '{\"outcome\":\"scrubbed\",\"instanceUuid\":\"%s\",\"verified\":true,\"visibleUuids\":[\"%s\"],\"totalBytes\":1048576,\"bytesZeroed\":1048576,\"coverage\":1}' \"$UUID\" \"$UUID\"; exit 1", "outcome scrubbed with exit code 1")]
    [InlineData("printf '{\"outcome\":\"scrubbed\",\"instanceUuid\":\"%s\",\"verified\":true,\"visibleUuids\":[\"%s\"],\"totalBytes\":10,\"bytesZeroed\":20,\"coverage\":1}' \"$UUID\" \"$UUID\"; exit 0", "numbers out of range")]
    [InlineData("printf '{\"outcome\":\"scrubbed\",\"instanceUuid\":\"%s\",\"verified\":false,\"visibleUuids\":[\"%s\"]}' \"$UUID\" \"$UUID\"; exit 0", "must be device-verified")]
    [InlineData("exit 0", "no report on stdout")]
    public async Task BadReports_AreRejected(string script, string expected)
    {
        var tenant = await InstanceAsync(SimulatedMigProfiles.Profile1g, new MigPlacement(5, 1));
        var metrics = new MetricsRegistry();
        var scrubber = new MigInstanceScrubber(Backend(), new MigInstanceScrubberOptions
        {
            WorkerPath = "/bin/sh",
            WorkerPrefixArguments = ["-c", $"UUID={tenant.Uuid}; {script}", "fake-worker"],
            Deadline = TimeSpan.FromSeconds(60),
        }, _mig, TimeProvider.System, new ScrubMetrics(metrics));
        var result = await scrubber.ScrubAsync(_gpu, tenant, ScrubTrigger.Cli, CancellationToken.None);
        Assert.False(result.Succeeded);
        Assert.Contains(expected, result.FailureReason, StringComparison.Ordinal);
        Assert.Contains("target=\"mig_instance\",trigger=\"cli\",outcome=\"rejected\"} 1", metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALyingWorkerThatReportsTooFewBytes_FailsTheCoverageOfTheInstance()
    {
        var tenant = await InstanceAsync(SimulatedMigProfiles.Profile1g, new MigPlacement(6, 1));
        var script = "printf '{\"outcome\":\"scrubbed\",\"instanceUuid\":\"%s\",\"verified\":true,\"visibleUuids\":[\"%s\"],\"totalBytes\":4096,\"bytesZeroed\":4096,\"coverage\":1,\"method\":\"x\"}' \"$UUID\" \"$UUID\"";
        var scrubber = new MigInstanceScrubber(Backend(), new MigInstanceScrubberOptions
        {
            WorkerPath = "/bin/sh",
            WorkerPrefixArguments = ["-c", $"UUID={tenant.Uuid}; {script}", "fake-worker"],
        }, _mig, TimeProvider.System, new ScrubMetrics(new MetricsRegistry()));
        var result = await scrubber.ScrubAsync(_gpu, tenant, ScrubTrigger.Cli, CancellationToken.None);
        Assert.False(result.Succeeded);
        Assert.Contains($"less than 0.99 of the instance's {Slice} bytes", result.FailureReason, StringComparison.Ordinal);
    }

    private async Task<MigInstance> InstanceAsync(int profileId, MigPlacement placement)
    {
        var gi = await _mig.CreateGpuInstanceAsync(_gpu, profileId, placement, CancellationToken.None);
        return await _mig.CreateComputeInstanceAsync(_gpu, gi.GpuInstanceId, CancellationToken.None);
    }

    private GpuBackendOptions Backend() => new() { Kind = GpuBackendKind.Simulated, Simulated = _simulated };

    private MigInstanceScrubber Scrubber(MetricsRegistry metrics, TimeSpan? deadline = null, string? dll = null) => new(
        Backend(),
        new MigInstanceScrubberOptions
        {
            WorkerPath = "dotnet",
            WorkerPrefixArguments = [dll ?? CliProcess.ProductDll],
            Deadline = deadline ?? TimeSpan.FromSeconds(100),
        },
        _mig,
        TimeProvider.System,
        new ScrubMetrics(metrics));

    private string[] WorkerArgs(MigInstance instance) =>
    [
        "scrub-worker", "--instance-uuid", instance.Uuid!, "--parent-uuid", _gpu.Uuid, "--gpu-instance-id", instance.GpuInstanceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--gpu-backend", "simulated", "--simulated-gpus", "1", "--simulated-memory", Memory.ToString(System.Globalization.CultureInfo.InvariantCulture), "--simulated-vram-dir", _dir,
    ];

    private void FillWholeFile(byte value)
    {
        var bytes = new byte[Memory];
        Array.Fill(bytes, value);
        File.WriteAllBytes(Path.Combine(_dir, "gpu-0.vram"), bytes);
    }
}
