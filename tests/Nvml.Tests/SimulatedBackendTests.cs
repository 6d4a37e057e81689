using System.Text.RegularExpressions;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.Nvml.Tests;

public class SimulatedBackendTests
{
    [Fact]
    public async Task Enumerate_GivesStableIdentitiesAndBackingFilesOfExactSize()
    {
        await using var node = new SimulatedNode(gpus: 3, memoryBytes: 1024 * 1024);
        var devices = await node.Backend.EnumerateAsync(CancellationToken.None);

        Assert.Equal(["gpu-0", "gpu-1", "gpu-2"], devices.Select(d => d.Name));
        Assert.Equal(3, devices.Select(d => d.Uuid).Distinct().Count());
        foreach (var d in devices)
        {
            Assert.Matches(new Regex("^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"), d.Uuid);
            Assert.Matches(new Regex("^0000:[0-9A-F]{2}:00\\.0$"), d.PciBusId!);
            Assert.Equal([$"/dev/nvidia{d.Index}"], d.DeviceNodePaths);
            Assert.Equal(1024 * 1024, new FileInfo(node.Backend.VramPath(d.Name)).Length);
            Assert.Contains("simulated", d.ProductName, StringComparison.Ordinal);
        }

        // Deterministic across instances (and processes): identity derives from the index only.
        Assert.Equal(SimulatedDeviceCatalog.Uuid(1), devices[1].Uuid);
        await using var other = new SimulatedNode(gpus: 3, memoryBytes: 1024 * 1024);
        Assert.Equal(devices.Select(d => d.Uuid), (await other.Backend.EnumerateAsync(CancellationToken.None)).Select(d => d.Uuid));
    }

    [Fact]
    public void Options_RejectOutOfRangeValuesNamingTheFlag()
    {
        var e = Assert.Throws<ArgumentException>(() => new SimulatedGpuOptions { DeviceCount = 0 }.Validate());
        Assert.Contains("simulated-gpus", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => new SimulatedGpuOptions { MemoryBytes = 1000 }.Validate());
        Assert.Contains("simulated-memory", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FaultFiles_Off_ByDefault_AFaultFileInTheDirectoryIsNeverRead()
    {
        // The shipped securedra never turns fault files on: whoever can write into the VRAM directory cannot inject failures.
        using var dir = new TempDir();
        await using var backend = new SimulatedGpuBackend(new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = 1024 * 1024, VramDirectory = dir.Path }, TimeProvider.System);
        var device = (await backend.EnumerateAsync(CancellationToken.None))[0];
        await File.WriteAllTextAsync(Path.Combine(dir.Path, "gpu-0.faults.json"), """
            { "runningProcesses": [ { "pid": 4242, "usedMemoryBytes": 1 } ], "failSession": true, "migEnabled": true,
              "healthEvents": [ { "kind": "xid", "data": 79, "description": "injected" } ] }
            """);

        Assert.Empty(await backend.GetRunningProcessesAsync(device, CancellationToken.None));
        Assert.False((await backend.EnumerateAsync(CancellationToken.None))[0].MigEnabled);
        await using (await backend.OpenMemorySessionAsync(device, CancellationToken.None))
        {
        }

        var e = Assert.Throws<InvalidOperationException>(() => backend.SetFaults("gpu-0", new SimulatedFaults { FailSession = true }));
        Assert.Contains("SimulatedGpuOptions.FaultFiles", e.Message, StringComparison.Ordinal);

        using var cts = new CancellationTokenSource();
        var events = backend.WatchHealthAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        var next = events.MoveNextAsync().AsTask();
        backend.InjectHealthEvent(new GpuHealthEvent(device.Name, GpuHealthEventKind.Xid, 13, DateTimeOffset.UnixEpoch, "in-process"));
        Assert.True(await next);
        Assert.Equal("in-process", events.Current.Description);
        await cts.CancelAsync();
        await events.DisposeAsync();
    }

    [Fact]
    public async Task FaultFile_HandWrittenDocumentedFormat_IsReadByAnotherBackendInstance()
    {
        await using var node = new SimulatedNode(gpus: 2);
        var device = await node.DeviceAsync(1);
        await File.WriteAllTextAsync(Path.Combine(node.Directory, "gpu-1.faults.json"), """
            {
              "runningProcesses": [ { "pid": 4242, "usedMemoryBytes": 1048576 } ],
              "failAllocations": false,
              "allocatableFraction": 0.5,
              "memoryDelayMs": 0,
              "failVerification": false,
              "failSession": false,
              "healthEvents": [ { "kind": "xid", "data": 79, "description": "fell off the bus" } ]
            }
            """);

        var processes = await node.Backend.GetRunningProcessesAsync(device, CancellationToken.None);
        Assert.Equal([new GpuProcess(4242, 1048576)], processes);
        Assert.Empty(await node.Backend.GetRunningProcessesAsync(await node.DeviceAsync(0), CancellationToken.None));
    }

    [Fact]
    public async Task FaultFile_UnknownFieldOrBadValue_IsAClearErrorNamingTheFile()
    {
        await using var node = new SimulatedNode(gpus: 1);
        var device = await node.DeviceAsync(0);
        var path = Path.Combine(node.Directory, "gpu-0.faults.json");

        await File.WriteAllTextAsync(path, """{ "failAlocations": true }""");
        var e = await Assert.ThrowsAsync<GpuBackendException>(() => node.Backend.GetRunningProcessesAsync(device, CancellationToken.None));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("failAlocations", e.Message, StringComparison.Ordinal);

        await File.WriteAllTextAsync(path, """{ "allocatableFraction": 1.5 }""");
        e = await Assert.ThrowsAsync<GpuBackendException>(() => node.Backend.GetRunningProcessesAsync(device, CancellationToken.None));
        Assert.Contains("allocatableFraction must be between 0 and 1", e.Message, StringComparison.Ordinal);

        await File.WriteAllTextAsync(path, """{ "healthEvents": [ { "kind": "meltdown" } ] }""");
        e = await Assert.ThrowsAsync<GpuBackendException>(() => node.Backend.GetRunningProcessesAsync(device, CancellationToken.None));
        Assert.Contains("meltdown", e.Message, StringComparison.Ordinal);

        await File.WriteAllBytesAsync(path, new byte[SimulatedFaultFile.MaxBytes + 1]);
        e = await Assert.ThrowsAsync<GpuBackendException>(() => node.Backend.GetRunningProcessesAsync(device, CancellationToken.None));
        Assert.Contains($"exceeds the limit of {SimulatedFaultFile.MaxBytes}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_XidWrittenToFaultFile_IsYieldedOnce()
    {
        await using var node = new SimulatedNode(gpus: 2);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await using var watch = node.Backend.WatchHealthAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        var next = watch.MoveNextAsync();

        node.Backend.SetFaults("gpu-1", new SimulatedFaults { HealthEvents = [new SimulatedHealthEventSpec("xid", 79)] });

        Assert.True(await next);
        Assert.Equal("gpu-1", watch.Current.DeviceName);
        Assert.Equal(GpuHealthEventKind.Xid, watch.Current.Kind);
        Assert.Equal(79UL, watch.Current.EventData);

        // Appending emits only the new entry.
        node.Backend.SetFaults("gpu-1", new SimulatedFaults { HealthEvents = [new SimulatedHealthEventSpec("xid", 79), new SimulatedHealthEventSpec("gpuLost")] });
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal(GpuHealthEventKind.GpuLost, watch.Current.Kind);
    }

    [Fact]
    public async Task Health_InProcessInjection_IsYielded()
    {
        await using var node = new SimulatedNode(gpus: 1);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await using var watch = node.Backend.WatchHealthAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        // The first MoveNextAsync subscribes synchronously, so an injection right after it is seen.
        var next = watch.MoveNextAsync().AsTask();
        node.Backend.InjectHealthEvent(new GpuHealthEvent("gpu-0", GpuHealthEventKind.DoubleBitEcc, 0, DateTimeOffset.UtcNow, "injected"));

        Assert.True(await next);
        Assert.Equal(GpuHealthEventKind.DoubleBitEcc, watch.Current.Kind);
    }

    [Fact]
    public async Task Health_Cancellation_EndsTheStream()
    {
        await using var node = new SimulatedNode(gpus: 1);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var count = 0;
        await foreach (var _ in node.Backend.WatchHealthAsync(cts.Token))
        {
            count++;
        }

        Assert.Equal(0, count);
    }
}
