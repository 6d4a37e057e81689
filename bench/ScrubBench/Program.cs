using System.Diagnostics;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Nvidia;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Nvml.Scrubbing;
using SecureDra.Observability.Metrics;

// Scrub throughput.
//   dotnet run -c Release --project bench/ScrubBench -- [simulated|nvidia|all] [--memory 512Mi] [--iterations 5] [--dir /tmp] [--bandwidth-gbps N]
// simulated: VramScrubber over one memory-mapped VRAM file against a raw memset (NativeMemory.Clear) of the
//            same mapping, alternating in the same run after a warm-up that faults every page in.
// nvidia:    scrub all free memory of GPU 0 and split the time into context set-up, allocation, memset,
//            verification and free; memset/verify GB/s against the GPU's memory bandwidth.
var mode = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "all";
var memory = ParseSize(Arg("--memory") ?? "512Mi");
var iterations = int.Parse(Arg("--iterations") ?? "5", CultureInfo.InvariantCulture);
var baseDir = Arg("--dir") ?? Path.GetTempPath();
var bandwidthOverride = Arg("--bandwidth-gbps") is { } b ? double.Parse(b, CultureInfo.InvariantCulture) : (double?)null;

Console.WriteLine($"machine: {Environment.ProcessorCount} logical CPU(s), {RuntimeInformation.OSDescription}, .NET {Environment.Version}");
if (mode is "simulated" or "all")
{
    await Simulated(memory, iterations, baseDir);
}

if (mode is "nvidia" or "all")
{
    await Nvidia(iterations, bandwidthOverride);
}

return 0;

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static long ParseSize(string s) =>
    s.EndsWith("Gi", StringComparison.Ordinal) ? long.Parse(s[..^2], CultureInfo.InvariantCulture) << 30
    : s.EndsWith("Mi", StringComparison.Ordinal) ? long.Parse(s[..^2], CultureInfo.InvariantCulture) << 20
    : long.Parse(s, CultureInfo.InvariantCulture);

static double GBps(long bytes, TimeSpan t) => bytes / t.TotalSeconds / 1e9;

static VramScrubber Scrubber(IGpuBackend backend) =>
    new(backend, Options.Create(new ScrubberOptions { Deadline = TimeSpan.FromMinutes(5) }), TimeProvider.System, new ScrubMetrics(new MetricsRegistry()));

static async Task Simulated(long bytes, int iterations, string baseDir)
{
    var dir = Path.Combine(baseDir, "securedra-scrubbench-" + Environment.ProcessId);
    try
    {
        await using var backend = new SimulatedGpuBackend(new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = bytes, VramDirectory = dir }, TimeProvider.System);
        var device = (await backend.EnumerateAsync(CancellationToken.None))[0];
        var scrubber = Scrubber(backend);
        Console.WriteLine($"simulated: {bytes / (1 << 20)} MiB VRAM file in {baseDir}, {iterations} iteration(s) after one warm-up each");

        _ = await scrubber.ScrubAsync(device, ScrubTrigger.Cli, CancellationToken.None); // faults every page of the sparse file in
        _ = RawMemset(backend.VramPath(device.Name), bytes, populate: false);

        var zero = new List<double>();
        var total = new List<double>();
        var raw = new List<double>();
        var rawPopulated = new List<double>();
        var rawWhole = new List<double>();
        for (var i = 0; i < iterations; i++)
        {
            var report = await scrubber.ScrubAsync(device, ScrubTrigger.Cli, CancellationToken.None);
            if (!report.Succeeded)
            {
                throw new InvalidOperationException(report.FailureReason);
            }

            zero.Add(GBps(report.BytesZeroed, report.ZeroDuration));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    scrub {i + 1}: setup {report.SetupDuration.TotalMilliseconds:F1} ms, alloc {report.AllocateDuration.TotalMilliseconds:F1} ms, zero {report.ZeroDuration.TotalMilliseconds:F1} ms, verify {report.VerifyDuration.TotalMilliseconds:F1} ms, free {report.FreeDuration.TotalMilliseconds:F1} ms, total {report.TotalDuration.TotalMilliseconds:F1} ms"));
            total.Add(GBps(report.BytesZeroed, report.TotalDuration));
            raw.Add(GBps(bytes, RawMemset(backend.VramPath(device.Name), bytes, populate: false)));
            rawWhole.Add(GBps(bytes, RawMapMemsetUnmap(backend.VramPath(device.Name), bytes)));
            rawPopulated.Add(GBps(bytes, RawMemset(backend.VramPath(device.Name), bytes, populate: true)));
        }

        double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  raw memset (NativeMemory.Clear, one call over the mapping):  median {Median(raw):F2} GB/s  [{string.Join(", ", raw.Select(x => x.ToString("F2", CultureInfo.InvariantCulture)))}]"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  raw madvise(POPULATE_WRITE)+memset, timed together:          median {Median(rawPopulated):F2} GB/s  [{string.Join(", ", rawPopulated.Select(x => x.ToString("F2", CultureInfo.InvariantCulture)))}]"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  scrub zero pass (parallel span clears, mapping pre-faulted): median {Median(zero):F2} GB/s  ratio to raw {Median(zero) / Median(raw):F2}, to raw+populate {Median(zero) / Median(rawPopulated):F2}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  raw map+memset+unmap, timed together:                        median {Median(rawWhole):F2} GB/s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  scrub end to end (map+populate+alloc+zero+verify+free):     median {Median(total):F2} GB/s  ratio to raw {Median(total) / Median(raw):F2}, to raw+populate {Median(total) / Median(rawPopulated):F2}, to raw map+memset+unmap {Median(total) / Median(rawWhole):F2}"));
    }
    finally
    {
        Directory.Delete(dir, recursive: true);
    }
}

// Map, memset, unmap: the same fixed costs a scrub session pays, without allocation or verification.
static TimeSpan RawMapMemsetUnmap(string path, long bytes)
{
    var start = Stopwatch.GetTimestamp();
    _ = RawMemset(path, bytes, populate: false);
    return Stopwatch.GetElapsedTime(start);
}

static unsafe TimeSpan RawMemset(string path, long bytes, bool populate)
{
    using var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
    using var view = file.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.ReadWrite);
    byte* p = null;
    view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
    try
    {
        var start = Stopwatch.GetTimestamp();
        if (populate)
        {
            _ = Libc.Madvise(p, (nuint)(bytes + view.PointerOffset), 23 /* MADV_POPULATE_WRITE */);
        }

        NativeMemory.Clear(p + view.PointerOffset, (nuint)bytes);
        return Stopwatch.GetElapsedTime(start);
    }
    finally
    {
        view.SafeMemoryMappedViewHandle.ReleasePointer();
    }
}

static async Task Nvidia(int iterations, double? bandwidthOverride)
{
    await using var backend = new NvidiaGpuBackend(new NvidiaBackendOptions(), TimeProvider.System);
    IReadOnlyList<GpuDevice> devices;
    try
    {
        devices = await backend.EnumerateAsync(CancellationToken.None);
    }
    catch (GpuBackendException e)
    {
        Console.WriteLine($"nvidia: no GPU available ({e.Message})");
        return;
    }

    if (devices.Count == 0)
    {
        Console.WriteLine("nvidia: no GPU available (the driver reports 0 devices)");
        return;
    }

    var device = devices[0];
    var bandwidth = bandwidthOverride ?? PeakBandwidthGBps(device.ProductName);
    Console.WriteLine($"nvidia: {device.ProductName} ({device.Uuid}, {device.PciBusId}), driver {device.DriverVersion}, CUDA {device.CudaDriverVersion}, " +
        $"peak bandwidth {(bandwidth is { } bw ? bw.ToString("F0", CultureInfo.InvariantCulture) + " GB/s" : "unknown (pass --bandwidth-gbps)")}");
    var scrubber = Scrubber(backend);
    for (var i = 0; i <= iterations; i++)
    {
        var r = await scrubber.ScrubAsync(device, ScrubTrigger.Cli, CancellationToken.None);
        var memset = GBps(r.BytesZeroed, r.ZeroDuration);
        var verify = GBps(r.BytesZeroed, r.VerifyDuration);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {(i == 0 ? "warm-up" : $"run {i}")}: {(r.Succeeded ? "ok" : "FAILED " + r.FailureReason)} zeroed {r.BytesZeroed / 1e9:F2} GB of {r.TotalBytes / 1e9:F2} GB total ({r.FreeBytesBefore / 1e9:F2} GB free at start) " +
            $"(coverage of total {r.Coverage:P2}; reserved baseline {r.BaselineReservedBytes / 1e6:F1} MB, not allocatable {r.UnallocatableBytes / 1e6:F1} MB); set-up {r.SetupDuration.TotalMilliseconds:F1} ms, alloc {r.AllocateDuration.TotalMilliseconds:F1} ms, " +
            $"memset {r.ZeroDuration.TotalMilliseconds:F1} ms ({memset:F0} GB/s{Pct(memset, bandwidth)}), verify {r.VerifyDuration.TotalMilliseconds:F1} ms ({verify:F0} GB/s{Pct(verify, bandwidth)}), " +
            $"free {r.FreeDuration.TotalMilliseconds:F1} ms, total {r.TotalDuration.TotalMilliseconds:F1} ms"));
    }

    static string Pct(double gbps, double? peak) => peak is { } p ? string.Create(CultureInfo.InvariantCulture, $", {gbps / p:P0} of peak") : "";
}

// Published peak DRAM bandwidth by product (NVML does not report it directly).
static double? PeakBandwidthGBps(string product) => product switch
{
    _ when product.Contains("H200", StringComparison.Ordinal) => 4800,
    _ when product.Contains("H100", StringComparison.Ordinal) && product.Contains("PCIe", StringComparison.Ordinal) => 2000,
    _ when product.Contains("H100", StringComparison.Ordinal) => 3350,
    _ when product.Contains("A100", StringComparison.Ordinal) && product.Contains("80GB", StringComparison.Ordinal) => 2039,
    _ when product.Contains("A100", StringComparison.Ordinal) => 1555,
    _ when product.Contains("L40S", StringComparison.Ordinal) => 864,
    _ => null,
};

internal static unsafe partial class Libc
{
    [LibraryImport("libc", EntryPoint = "madvise")]
    public static partial int Madvise(void* address, nuint length, int advice);
}
