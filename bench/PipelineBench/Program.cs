using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using SecureDra.KubeletPlugin.Memory;
using SecureDra.KubeletPlugin.State;
using SecureDra.LocalCluster.ApiServer;
using SecureDra.LocalCluster.Kubelet;

// Claim pipeline benchmark (issue 4), measuring the real thing: the in-process local API server,
// the real `securedra kubelet-plugin` process on simulated GPUs, and the kubelet emulator over the
// real Unix sockets. Every Prepare uses a fresh ResourceClaim created in the API server and
// allocated with PUT .../status, so the plugin does its full path (GET claim, validate, reserve,
// checkpoint, CDI spec, checkpoint).
//
// Usage: dotnet run -c Release --project bench/PipelineBench -- [--jit dll] [--aot binary]
//        [--state-dir /tmp|/dev/shm] [--vram-dir /dev/shm] [--iterations 300] [--batches 5]
//        [--starts 5] [--steady-seconds 30] [--calls 10000] [--only start|latency|slices]
//        [--plugin-env NAME=VALUE]... (extra environment for the plugin, e.g. DOTNET_GCgen0size=400000: Native AOT
//        reads GC settings as hexadecimal WITHOUT a 0x prefix and ignores a value that has one)
//        [--simulated-memory 64Mi] (VRAM per simulated GPU) [--latency-gpus 50] (GPUs of the latency phase's node)
//        [--smaps-copy PREFIX] (keep the plugin's raw /proc/PID/smaps and status at each memory breakdown)
//        (after the steady calls it waits for the plugin's idle trim, --trim-memory-when-idle, and reads RSS again)
//        [--pageout-probe N] (after the steady calls, ask the kernel to reclaim the plugin's clean file-backed pages with
//        process_madvise(MADV_PAGEOUT), then make N more calls: what RSS comes back is the hot working set; needs root)
//        (the plugin trims itself once ready unless --plugin-env SECUREDRA_TRIM_MEMORY_AFTER_START=false: one binary, both ways)
var jit = Arg("--jit") ?? FindJitDll();
var aot = Arg("--aot") ?? (File.Exists("/tmp/securedra-aot/securedra") ? "/tmp/securedra-aot/securedra" : null);
var useAot = args.Contains("--use-aot");
var stateBase = Arg("--state-dir") ?? "/tmp";
var vramBase = Arg("--vram-dir") ?? "/dev/shm";
var iterations = Int("--iterations", 300);
var batches = Int("--batches", 5);
var starts = Int("--starts", 5);
var steadySeconds = Int("--steady-seconds", 30);
var calls = Int("--calls", 10_000);
var pageoutProbe = Int("--pageout-probe", 0);
var only = Arg("--only");
PluginRun.DataBase = Arg("--data-dir");
PluginRun.SmapsCopy = Arg("--smaps-copy");
PluginRun.SimulatedMemory = Arg("--simulated-memory") ?? "64Mi";
PluginRun.ExtraEnvironment = [.. args.Select((a, i) => (a, i)).Where(x => x.a == "--plugin-env" && x.i + 1 < args.Length).Select(x => args[x.i + 1])];
if (PluginRun.ExtraEnvironment.Count > 0)
{
    Console.WriteLine($"plugin environment: {string.Join(' ', PluginRun.ExtraEnvironment)}");
}

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, load {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine($"state dir base {stateBase} ({FsType(stateBase)}), checkpoint + CDI base {Arg("--data-dir") ?? stateBase} ({FsType(Arg("--data-dir") ?? stateBase)}), vram dir base {vramBase} ({FsType(vramBase)})");

await using var api = await LocalApiServer.StartAsync(new LocalApiServerOptions { Listen = "127.0.0.1:0", KubernetesVersion = "1.34" }, CancellationToken.None);
using var http = new HttpClient { BaseAddress = api.BaseAddress };
var runner = useAot && aot is not null ? new Runner(aot, []) : new Runner("dotnet", [jit ?? throw new InvalidOperationException("securedra.dll not found; build tests/TestBuild -c Release")]);
Console.WriteLine($"plugin: {(useAot ? "Native AOT " + aot : "JIT " + jit)}");

if (only is null or "start")
{
    foreach (var (name, r) in new[] { ("JIT", jit is null ? null : new Runner("dotnet", [jit])), ("AOT", aot is null ? null : new Runner(aot, [])) })
    {
        if (r is null)
        {
            Console.WriteLine($"{name}: skipped (binary not found)");
            continue;
        }

        var registered = new List<double>();
        var published = new List<double>();
        for (var i = 0; i < starts; i++)
        {
            await using var p = await PluginRun.StartAsync(r, api, http, $"start-{name.ToLowerInvariant()}-{i}", gpus: 8, stateBase, vramBase);
            registered.Add(p.RegisteredMs);
            published.Add(p.PublishedMs);
            await p.DeleteSlicesAsync();
        }

        Console.WriteLine($"{name}: start → registered median {Median(registered):F0} ms ({Min(registered):F0}–{Max(registered):F0}); start → registered and slices published median {Median(published):F0} ms ({Min(published):F0}–{Max(published):F0}), n={starts}, 8 GPUs");
    }
}

if (only is null or "latency")
{
    // `--simulated-gpus` allows at most 64, so 100 claims run as two sequential batches of 50 claims on 50 GPUs.
    // --latency-gpus sets another count (the node's size: what the slice publisher renders on every device change).
    var nodeGpus = Int("--latency-gpus", 50);
    await using var p = await PluginRun.StartAsync(runner, api, http, "lat", gpus: nodeGpus, stateBase, vramBase);
    Console.WriteLine($"start → registered {p.RegisteredMs:F0} ms, slices published {p.PublishedMs:F0} ms ({nodeGpus} GPUs × {PluginRun.SimulatedMemory}), RSS {p.RssMiB():F1} MiB");
    Console.WriteLine($"  memory after start: {await p.MemoryBreakdownAsync()}");
    var claims = new ClaimFactory(http, p.NodeName);

    // 1. One claim per call. After each, the durable-write floor: the two fsync'd atomic writes a Prepare needs
    // (its CDI spec and the checkpoint commit), done with the product's AtomicFile, with the same bytes, on the
    // same filesystem, interleaved with the Prepare calls so both see the same load.
    var prepare = new List<double>();
    var unprepare = new List<double>();
    var floor = new List<double>();
    var floorConcurrent = new List<double>();
    var claimGet = new List<double>();
    byte[]? cdiBytes = null;
    byte[]? checkpointBytes = null;
    var emptyCall = new List<double>();
    var prepareCpu = 0.0;
    var prepareBenchCpu = 0.0;
    var phaseCpu0 = 0.0;
    string? cdiDir = null;
    string? checkpointDir = null;
    double[]? serverBefore = null;
    long requestsBefore = 0;
    for (var i = 0; i < iterations + 20; i++)
    {
        if (i == 20)
        {
            serverBefore = await p.ServerSideSecondsAsync();
            requestsBefore = api.RequestLog.Entries.LastOrDefault()?.Sequence ?? 0;
            phaseCpu0 = p.CpuSeconds();
        }

        var claim = await claims.CreateAllocatedAsync($"single-{i}", $"gpu-{i % nodeGpus}");
        var cpu0 = p.CpuSeconds();
        var benchCpu0 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        var sw = Stopwatch.StartNew();
        var result = await p.Kubelet.PrepareAsync([claim]);
        var prepared = sw.Elapsed.TotalMilliseconds;
        if (i >= 20)
        {
            // CPU while the Prepare ran, both processes (clock ticks: summed over the iterations, not per call).
            prepareCpu += p.CpuSeconds() - cpu0;
            prepareBenchCpu += Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - benchCpu0;
        }

        Check(result[claim.Uid].Error, claim);
        if (cdiBytes is null)
        {
            (cdiBytes, checkpointBytes, cdiDir, checkpointDir) = p.PreparedFiles(claim.Uid);
            Console.WriteLine($"a Prepare writes durably: CDI spec {cdiBytes.Length} B in {cdiDir}, checkpoint {checkpointBytes.Length} B in {checkpointDir}");
        }

        sw.Restart();
        var released = await p.Kubelet.UnprepareAsync([claim]);
        var unprepared = sw.Elapsed.TotalMilliseconds;
        Check(released[claim.Uid], claim);
        // The floor writes into the very directories the plugin writes them to (its CDI root and its checkpoint's
        // directory), under names the plugin ignores (no claim UID, not its checkpoint's name), in the same order.
        sw.Restart();
        await AtomicFile.WriteAsync(cdiDir!, "floor-cdi.json", cdiBytes, CancellationToken.None);
        await AtomicFile.WriteAsync(checkpointDir!, "floor-checkpoint.json", checkpointBytes!, AtomicFile.OwnerOnly, CancellationToken.None);
        var floorMs = sw.Elapsed.TotalMilliseconds;
        // The same two writes issued at once, as the plugin now issues them (the spec on a pool thread, the checkpoint
        // on this one): the floor of a Prepare that overlaps them.
        sw.Restart();
        var floorSpec = Task.Run(() => AtomicFile.WriteAsync(cdiDir!, "floor-cdi.json", cdiBytes, CancellationToken.None));
        var floorCheckpoint = AtomicFile.WriteAsync(checkpointDir!, "floor-checkpoint.json", checkpointBytes!, AtomicFile.OwnerOnly, CancellationToken.None);
        await Task.WhenAll(floorSpec, floorCheckpoint);
        var floorConcurrentMs = sw.Elapsed.TotalMilliseconds;
        // A NodePrepareResources call with no claims: the kubelet's gRPC call over the Unix socket, Kestrel, the
        // interceptor and the request handler, nothing of the pipeline (the transport's share of a Prepare).
        sw.Restart();
        _ = await p.Kubelet.PrepareAsync([]);
        var emptyMs = sw.Elapsed.TotalMilliseconds;
        // The one network step of a Prepare outside its durable writes: a GET of the claim from the same API server
        // (the bench's client, not the plugin's, so an estimate of the server's and loopback's share).
        sw.Restart();
        using (var got = await http.GetAsync($"/apis/resource.k8s.io/v1/namespaces/default/resourceclaims/single-{i}"))
        {
            _ = await got.Content.ReadAsByteArrayAsync();
        }

        var getMs = sw.Elapsed.TotalMilliseconds;
        if (i >= 20)
        {
            prepare.Add(prepared);
            unprepare.Add(unprepared);
            floor.Add(floorMs);
            floorConcurrent.Add(floorConcurrentMs);
            claimGet.Add(getMs);
            emptyCall.Add(emptyMs);
        }
    }

    // The plugin's own view (its /metrics, sums over the measured iterations): the pipeline's time per claim and the
    // gRPC handler's time per NodePrepareResources call, against the bench's client-side mean.
    var phaseCpu = p.CpuSeconds() - phaseCpu0;
    var serverAfter = await p.ServerSideSecondsAsync();
    var measured = prepare.Count;
    var perPrepare = api.RequestLog.Entries.Where(e => e.Sequence > requestsBefore).ToList();

    Console.WriteLine($"single claim Prepare: p50 {Pct(prepare, 50):F2} ms, p99 {Pct(prepare, 99):F2} ms, min {Min(prepare):F2}, max {Max(prepare):F2} (n={prepare.Count}, 20 warm-up)");
    Console.WriteLine($"durable-write floor (CDI spec + checkpoint, AtomicFile, same filesystem, interleaved): p50 {Pct(floor, 50):F2} ms, p99 {Pct(floor, 99):F2} ms, min {Min(floor):F2}; Prepare p50 / floor p50 = {Pct(prepare, 50) / Pct(floor, 50):F2} (goal ≤ 1.5)");
    Console.WriteLine($"durable-write floor, the same two writes at once (as the plugin overlaps them, interleaved): p50 {Pct(floorConcurrent, 50):F2} ms, p99 {Pct(floorConcurrent, 99):F2} ms, min {Min(floorConcurrent):F2}; Prepare p50 / concurrent floor p50 = {Pct(prepare, 50) / Pct(floorConcurrent, 50):F2}");
    Console.WriteLine($"claim GET from the same API server (bench's client, interleaved): p50 {Pct(claimGet, 50):F2} ms, min {Min(claimGet):F2}; Prepare p50 - floor p50 = {Pct(prepare, 50) - Pct(floor, 50):F2} ms, Prepare min - floor min = {Min(prepare) - Min(floor):F2} ms");
    Console.WriteLine($"empty NodePrepareResources (0 claims: gRPC over the Unix socket + handler, interleaved): p50 {Pct(emptyCall, 50):F2} ms, min {Min(emptyCall):F2}");
    if (serverBefore is not null && serverAfter[1] - serverBefore[1] > 0)
    {
        var pipelineMean = (serverAfter[0] - serverBefore[0]) / (serverAfter[1] - serverBefore[1]) * 1000;
        var grpcCalls = serverAfter[3] - serverBefore[3];
        var handlerMean = grpcCalls > 0 ? (serverAfter[2] - serverBefore[2]) / grpcCalls * 1000 : double.NaN;
        Console.WriteLine($"plugin's own timing over the same {measured} Prepares (/metrics sums): pipeline mean {pipelineMean:F2} ms per claim; NodePrepareResources handler mean {handlerMean:F2} ms per call ({grpcCalls:F0} calls, the empty ones included); bench's client-side Prepare mean {prepare.Average():F2} ms");
    }

    // Where an empty call's time goes: 200 empty NodePrepareResources back to back, the client's mean against the
    // plugin's own handling mean over the same calls (its gRPC interceptor: from the handler's start to its answer).
    // The difference is HTTP/2 over the Unix socket on both sides, Kestrel's and the bench's JIT gRPC client's share.
    {
        var before = await p.ServerSideSecondsAsync();
        var total = Stopwatch.StartNew();
        const int EmptyCalls = 200;
        for (var i = 0; i < EmptyCalls; i++)
        {
            _ = await p.Kubelet.PrepareAsync([]);
        }

        var clientMean = total.Elapsed.TotalMilliseconds / EmptyCalls;
        var after = await p.ServerSideSecondsAsync();
        var handlerMean = (after[2] - before[2]) / Math.Max(1, after[3] - before[3]) * 1000;
        Console.WriteLine($"{EmptyCalls} empty NodePrepareResources back to back: client mean {clientMean:F3} ms, plugin's handler mean {handlerMean:F3} ms (interceptor to answer); outside the handler {clientMean - handlerMean:F3} ms per call (HTTP/2 over the Unix socket, Kestrel, the bench's gRPC client)");
    }

    Console.WriteLine($"CPU while the single-claim Prepares ran (summed, per call): plugin {prepareCpu / measured * 1000:F2} ms, bench process (API server + kubelet emulator) {prepareBenchCpu / measured * 1000:F2} ms; plugin CPU per whole iteration (Prepare, Unprepare with its scrub, the bench's steps, background work) {phaseCpu / measured * 1000:F1} ms");
    Console.WriteLine($"API server requests per iteration (Prepare + Unprepare + bench's own): {string.Join(", ", perPrepare.GroupBy(e => e.Method + " " + RequestKind(e.Path)).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {(double)g.Count() / measured:F2}"))}");
    Console.WriteLine($"single claim Unprepare (64 MiB scrub + verify): p50 {Pct(unprepare, 50):F2} ms, p99 {Pct(unprepare, 99):F2} ms (n={unprepare.Count})");

    // 2. 100 claims = two batches of 50 (one Prepare call each, then one Unprepare call with 50 scrubs each).
    var batchPrepare = new List<double>();
    var roundTotal = new List<double>();
    for (var b = 0; b < batches + 1; b++)
    {
        var total = 0.0;
        for (var half = 0; half < 2; half++)
        {
            var batch = new List<KubeletClaim>();
            for (var i = 0; i < nodeGpus; i++)
            {
                batch.Add(await claims.CreateAllocatedAsync($"batch-{b}-{half}-{i}", $"gpu-{i}"));
            }

            var sw = Stopwatch.StartNew();
            var result = await p.Kubelet.PrepareAsync(batch);
            var prepared = sw.Elapsed.TotalMilliseconds;
            foreach (var c in batch)
            {
                Check(result[c.Uid].Error, c);
            }

            sw.Restart();
            var released = await p.Kubelet.UnprepareAsync(batch);
            var unprepared = sw.Elapsed.TotalMilliseconds;
            foreach (var c in batch)
            {
                Check(released[c.Uid], c);
            }

            total += prepared + unprepared;
            if (b > 0)
            {
                batchPrepare.Add(prepared);
            }

            Console.WriteLine($"  round {b}.{half}{(b == 0 ? " (warm-up)" : "")}: Prepare {nodeGpus} claims in one call {prepared:F0} ms, Unprepare them ({nodeGpus} × {PluginRun.SimulatedMemory} scrub + verify) {unprepared:F0} ms");
        }

        if (b > 0)
        {
            roundTotal.Add(total);
        }
    }

    Console.WriteLine($"batch of {nodeGpus} Prepare: median {Median(batchPrepare):F0} ms per call = {Median(batchPrepare) / nodeGpus:F2} ms per claim (min {Min(batchPrepare):F0}, max {Max(batchPrepare):F0} ms, n={batchPrepare.Count})");
    Console.WriteLine($"{2 * nodeGpus} claims prepared and unprepared with a {PluginRun.SimulatedMemory} scrub each (2 × {nodeGpus}): median {Median(roundTotal):F0} ms (min {Min(roundTotal):F0}, max {Max(roundTotal):F0}, n={roundTotal.Count})");

    // 3. Steady RSS after many calls: idempotent Prepare of one prepared claim, the kubelet's most frequent call.
    var held = await claims.CreateAllocatedAsync("steady", "gpu-0");
    Check((await p.Kubelet.PrepareAsync([held]))[held.Uid].Error, held);
    var rssBefore = p.RssMiB();
    var allocatedBefore = await p.AllocatedBytesAsync();
    var swCalls = Stopwatch.StartNew();
    for (var i = 0; i < calls; i++)
    {
        Check((await p.Kubelet.PrepareAsync([held]))[held.Uid].Error, held);
    }

    Console.WriteLine($"RSS {rssBefore:F1} MiB before, {p.RssMiB():F1} MiB after {calls} more Prepare calls ({calls / swCalls.Elapsed.TotalSeconds:F0} calls/s, 1 caller); {prepare.Count + 20 + (batches + 1) * 100} real claims prepared and released before");
    Console.WriteLine($"  managed allocation per idempotent Prepare (plugin's dotnet_gc_allocated_bytes_total): {(await p.AllocatedBytesAsync() - allocatedBefore) / calls:F0} B");
    Console.WriteLine($"  memory after the calls: {await p.MemoryBreakdownAsync()}");
    await ReportIdleTrimAsync(p);
    if (pageoutProbe > 0)
    {
        // The hot working set: what of the file-backed RSS the steady calls really touch. Reclaim every clean
        // file page the plugin maps (the kernel skips pages another process maps), then call again.
        var reclaimed = p.PageOutFileMappings();
        Console.WriteLine($"pageout probe: asked to reclaim {reclaimed / 1048576.0:F1} MiB of file mappings; RSS now {p.RssMiB():F1} MiB");
        Console.WriteLine($"  memory after the pageout: {await p.MemoryBreakdownAsync()}");
        var swProbe = Stopwatch.StartNew();
        for (var i = 0; i < pageoutProbe; i++)
        {
            Check((await p.Kubelet.PrepareAsync([held]))[held.Uid].Error, held);
        }

        Console.WriteLine($"RSS {p.RssMiB():F1} MiB after {pageoutProbe} more Prepare calls after the pageout ({pageoutProbe / swProbe.Elapsed.TotalSeconds:F0} calls/s)");
        Console.WriteLine($"  memory after those calls: {await p.MemoryBreakdownAsync()}");
    }

    Check((await p.Kubelet.UnprepareAsync([held]))[held.Uid], held);
    await p.DeleteSlicesAsync();
}

if (only is null or "slices")
{
    await using var p = await PluginRun.StartAsync(runner, api, http, "slices", gpus: 8, stateBase, vramBase);
    var claims = new ClaimFactory(http, p.NodeName);
    await Task.Delay(2000);
    var w0 = await p.SliceWritesAsync();
    var requests0 = api.RequestLog.Entries.Count(IsSliceWrite);
    await Task.Delay(TimeSpan.FromSeconds(steadySeconds));
    var w1 = await p.SliceWritesAsync();
    var requests1 = api.RequestLog.Entries.Count(IsSliceWrite);
    Console.WriteLine($"ResourceSlice writes in {steadySeconds} s steady state: {w1 - w0} (metric), {requests1 - requests0} (API server request log)");

    // Withdrawal: a scrub that fails verification withdraws gpu-3; clearing the fault lets the scrub retry return it.
    // The fault goes through the simulated backend's fault file, which only the test build reads (docs/shipped-binary.md).
    if (useAot)
    {
        Console.WriteLine("withdrawal step skipped: it injects a fault, and only the JIT test build (tests/TestBuild) has fault injection");
    }
    else
    {
        var claim = await claims.CreateAllocatedAsync("withdraw", "gpu-3");
        Check((await p.Kubelet.PrepareAsync([claim]))[claim.Uid].Error, claim);
        await p.WriteFaultsAsync("gpu-3", """{"failVerification":true}""");
        var before = await p.SliceWritesAsync();
        var r0 = api.RequestLog.Entries.Count(IsSliceWrite);
        _ = await p.Kubelet.UnprepareAsync([claim]);
        await Task.Delay(1000);
        var afterWithdraw = await p.SliceWritesAsync();
        var r1 = api.RequestLog.Entries.Count(IsSliceWrite);
        Console.WriteLine($"ResourceSlice writes for one withdrawal (scrub failed): {afterWithdraw - before} (metric), {r1 - r0} (request log); slice lists gpu-3: {await p.SliceListsAsync("gpu-3")}");
        await p.WriteFaultsAsync("gpu-3", """{"failVerification":false}""");
        var sw = Stopwatch.StartNew();
        while (!await p.SliceListsAsync("gpu-3") && sw.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }

        await Task.Delay(1000);
        var afterReturn = await p.SliceWritesAsync();
        var r2 = api.RequestLog.Entries.Count(IsSliceWrite);
        Console.WriteLine($"ResourceSlice writes for one return (scrub retry verified, after {sw.Elapsed.TotalSeconds:F1} s): {afterReturn - afterWithdraw} (metric), {r2 - r1} (request log)");
    }

    await p.DeleteSlicesAsync();
}

// The plugin's idle trim (--trim-memory-when-idle, default 10s): once it has run after the steady calls, RSS again.
// Waits by polling the trim's counter with a deadline; a plugin without the trim (older build, or 0) is skipped.
static async Task ReportIdleTrimAsync(PluginRun p)
{
    if (await p.MetricAsync("securedra_memory_idle_trims_total") is not { } trimsBefore)
    {
        Console.WriteLine("idle trim: not in this plugin (no securedra_memory_idle_trims_total)");
        return;
    }

    var waited = Stopwatch.StartNew();
    var deadline = TimeSpan.FromSeconds(120);
    while (await p.MetricAsync("securedra_memory_idle_trims_total") <= trimsBefore)
    {
        if (waited.Elapsed > deadline)
        {
            Console.WriteLine($"idle trim: none within {deadline.TotalSeconds:F0} s after the calls");
            return;
        }

        await Task.Delay(100);
    }

    Console.WriteLine($"RSS {p.RssMiB():F1} MiB after the idle trim ({waited.Elapsed.TotalSeconds:F1} s after the last call; GC committed given back by idle trims so far {await p.MetricAsync("securedra_memory_idle_trim_reclaimed_bytes_total") / 1048576:F1} MiB)");
    Console.WriteLine($"  memory after the idle trim: {await p.MemoryBreakdownAsync()}");
}

static string RequestKind(string path)
{
    var q = path.IndexOf('?', StringComparison.Ordinal);
    var bare = q >= 0 ? path[..q] : path;
    var parts = bare.Split('/', StringSplitOptions.RemoveEmptyEntries);
    var kind = Array.FindLastIndex(parts, x => x is "resourceclaims" or "resourceslices" or "nodes" or "events" or "devicetainttules" or "devicetaintrules");
    return kind < 0 ? bare : parts[kind] + (kind == parts.Length - 1 ? " (collection)" : "") + (parts.Length > kind + 2 ? "/" + parts[^1] : "");
}

static bool IsSliceWrite(RequestLogEntry e) =>
    e.Path.Contains("/resourceslices", StringComparison.Ordinal) && e.Method is "POST" or "PUT" or "PATCH" or "DELETE";

static void Check(string? error, KubeletClaim claim)
{
    if (!string.IsNullOrEmpty(error))
    {
        throw new InvalidOperationException($"claim {claim.Name}: {error}");
    }
}

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

int Int(string name, int fallback) => Arg(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

static double Median(List<double> v) => Pct(v, 50);
static double Min(List<double> v) => v.Min();
static double Max(List<double> v) => v.Max();

static double Pct(List<double> values, double p)
{
    var sorted = values.Order().ToList();
    var rank = (int)Math.Ceiling(p / 100 * sorted.Count) - 1;
    return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
}

static string FsType(string path)
{
    var best = "";
    var type = "?";
    foreach (var line in File.ReadLines("/proc/mounts"))
    {
        var f = line.Split(' ');
        if (path.StartsWith(f[1], StringComparison.Ordinal) && f[1].Length > best.Length)
        {
            best = f[1];
            type = f[2];
        }
    }

    return type;
}

static string? FindJitDll()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SecureDra.sln")))
    {
        dir = dir.Parent;
    }

    // The test build: the same code as src/Cli plus fault injection, which the withdrawal step needs (docs/shipped-binary.md).
    return dir is null ? null : Path.Combine(dir.FullName, "tests", "TestBuild", "bin", "Release", "net10.0", "securedra.dll");
}

internal sealed record Runner(string File, string[] Prefix);

/// <summary>Creates ResourceClaims and allocates them with PUT .../status, as the scheduler would.</summary>
internal sealed class ClaimFactory(HttpClient http, string node)
{
    private const string Claims = "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims";

    public async Task<KubeletClaim> CreateAllocatedAsync(string name, string device)
    {
        var body = "{\"apiVersion\":\"resource.k8s.io/v1\",\"kind\":\"ResourceClaim\",\"metadata\":{\"name\":\"" + name + "\",\"namespace\":\"default\"},"
            + "\"spec\":{\"devices\":{\"requests\":[{\"name\":\"gpu\",\"exactly\":{\"deviceClassName\":\"gpu.nvidia.com\"}}],"
            + "\"config\":[{\"requests\":[\"gpu\"],\"opaque\":{\"driver\":\"gpu.nvidia.com\",\"parameters\":{\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"kind\":\"GpuConfig\",\"resetPolicy\":\"ZeroVRAMOnRelease\"}}}]}}}";
        using var created = await http.PostAsync(Claims, new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await created.Content.ReadAsStringAsync();
        if (!created.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"create claim {name}: {(int)created.StatusCode} {text}");
        }

        var obj = JsonNode.Parse(text)!.AsObject();
        var spec = obj["spec"]!["devices"]!;
        obj["status"] = new JsonObject
        {
            ["allocation"] = new JsonObject
            {
                ["devices"] = new JsonObject
                {
                    ["results"] = new JsonArray(new JsonObject { ["request"] = "gpu", ["driver"] = "gpu.nvidia.com", ["pool"] = node, ["device"] = device }),
                    ["config"] = new JsonArray(new JsonObject
                    {
                        ["source"] = "FromClaim",
                        ["requests"] = new JsonArray("gpu"),
                        ["opaque"] = spec["config"]![0]!["opaque"]!.DeepClone(),
                    }),
                },
            },
        };
        using var put = await http.PutAsync($"{Claims}/{name}/status", new StringContent(obj.ToJsonString(), Encoding.UTF8, "application/json"));
        if (!put.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"allocate claim {name}: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
        }

        return new KubeletClaim("default", name, obj["metadata"]!["uid"]!.GetValue<string>());
    }
}

/// <summary>One `securedra kubelet-plugin` process with its own dirs and node name, registered with a kubelet emulator.</summary>
internal sealed class PluginRun : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;
    private readonly string _vram;
    private readonly KubeletEmulator _emulator;
    private readonly HttpClient _http;
    private readonly HttpClient _metrics;

    private PluginRun(Process process, string dir, string vram, KubeletEmulator emulator, HttpClient http, HttpClient metrics, string node)
    {
        _process = process;
        _dir = dir;
        _vram = vram;
        _emulator = emulator;
        _http = http;
        _metrics = metrics;
        NodeName = node;
    }

    public static string? DataBase { get; set; }

    public static List<string> ExtraEnvironment { get; set; } = [];

    public static string? SmapsCopy { get; set; }

    /// <summary>VRAM per simulated GPU (--simulated-memory): a small size keeps the scrub out of a Prepare-only profile.</summary>
    public static string SimulatedMemory { get; set; } = "64Mi";

    private int _smapsCopies;

    /// <summary>Where the plugin writes its checkpoint and CDI specs (the fsync'd files).</summary>
    public string DataDirectory => DataBase is null ? _dir : Path.Combine(DataBase, "sdrapb-data-" + Path.GetFileName(_dir)["sdrapb-".Length..]);

    public string NodeName { get; }
    public double RegisteredMs { get; private set; }
    public double PublishedMs { get; private set; }
    public RegisteredDraPlugin Kubelet { get; private set; } = null!;

    public static async Task<PluginRun> StartAsync(Runner runner, LocalApiServer api, HttpClient http, string node, int gpus, string stateBase, string vramBase)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var dir = Path.Combine(stateBase, "sdrapb-" + id);
        var vram = Path.Combine(vramBase, "sdrapb-vram-" + id);
        // The checkpoint and CDI specs (the fsync'd files) go under --data-dir when given, e.g. tmpfs, to compare.
        var data = DataBase is null ? dir : Path.Combine(DataBase, "sdrapb-data-" + id);
        Directory.CreateDirectory(data);
        Directory.CreateDirectory(dir);
        Directory.CreateDirectory(vram);
        // The Node object, as every real node has: the plugin owns its slices by it (one GET, kept). Without it the
        // plugin looks the Node up again on every slice pass, a cost no cluster has.
        using (var created = await http.PostAsync("/api/v1/nodes", new StringContent("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"" + node + "\"}}", Encoding.UTF8, "application/json")))
        {
            if (!created.IsSuccessStatusCode && created.StatusCode != System.Net.HttpStatusCode.Conflict)
            {
                throw new InvalidOperationException($"create node {node}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            }
        }

        var port = FreePort();
        var emulator = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = Path.Combine(dir, "reg"), Profile = KubeletProfile.V1_34 });
        Directory.CreateDirectory(Path.Combine(dir, "reg"));
        emulator.Start();
        var info = new ProcessStartInfo(runner.File) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in runner.Prefix)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var a in new[]
        {
            "kubelet-plugin", "--node-name", node, "--kubeconfig", api.BaseAddress.ToString().TrimEnd('/'),
            "--kubelet-registrar-directory-path", Path.Combine(dir, "reg"), "--kubelet-plugins-directory-path", Path.Combine(data, "plugins"),
            "--cdi-root", Path.Combine(data, "cdi"), "--http-endpoint", $"127.0.0.1:{port}", "--log-format", "json",
            "--gpu-backend", "simulated", "--simulated-gpus", gpus.ToString(CultureInfo.InvariantCulture), "--simulated-memory", SimulatedMemory, "--simulated-vram-dir", vram,
        })
        {
            info.ArgumentList.Add(a);
        }

        foreach (var pair in ExtraEnvironment)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            info.Environment[pair[..eq]] = pair[(eq + 1)..];
        }

        var log = new StringBuilder();
        var clock = Stopwatch.StartNew();
        var process = Process.Start(info)!;
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.OutputDataReceived += (_, e) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var run = new PluginRun(process, dir, vram, emulator, http, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") }, node);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var registered = emulator.WaitForPluginAsync("gpu.nvidia.com", timeout.Token).ContinueWith(t =>
        {
            run.RegisteredMs = clock.Elapsed.TotalMilliseconds;
            return t.Result;
        }, TaskScheduler.Default);
        while (!await run.SlicesPublishedAsync(gpus))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"plugin exited with {process.ExitCode}: {log}");
            }

            timeout.Token.ThrowIfCancellationRequested();
            await Task.Delay(1);
        }

        var published = clock.Elapsed.TotalMilliseconds;
        run.Kubelet = await registered;
        run.PublishedMs = Math.Max(published, run.RegisteredMs);
        return run;
    }

    private async Task<JsonArray> SlicesAsync()
    {
        var list = JsonNode.Parse(await _http.GetStringAsync($"/apis/resource.k8s.io/v1/resourceslices?fieldSelector=spec.nodeName%3D{NodeName}"))!;
        return list["items"]!.AsArray();
    }

    private async Task<bool> SlicesPublishedAsync(int gpus) =>
        (await SlicesAsync()).Sum(s => s!["spec"]!["devices"]?.AsArray().Count ?? 0) >= gpus;

    public async Task<bool> SliceListsAsync(string device) =>
        (await SlicesAsync()).Any(s => s!["spec"]!["devices"]?.AsArray().Any(d => d!["name"]!.GetValue<string>() == device) == true);

    public async Task DeleteSlicesAsync()
    {
        foreach (var s in await SlicesAsync())
        {
            using var _ = await _http.DeleteAsync($"/apis/resource.k8s.io/v1/resourceslices/{s!["metadata"]!["name"]!.GetValue<string>()}");
        }
    }

    public async Task<double> AllocatedBytesAsync()
    {
        var line = (await MetricLinesAsync()).Single(l => l.StartsWith("dotnet_gc_allocated_bytes_total ", StringComparison.Ordinal));
        return SeriesValue(line);
    }

    /// <summary>The plugin's /metrics, line by line.</summary>
    private async Task<string[]> MetricLinesAsync() => (await _metrics.GetStringAsync("/metrics")).Split('\n');

    /// <summary>The value of one series line of /metrics: its last field.</summary>
    private static double SeriesValue(string line) => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);

    /// <summary>The values of every series line that starts with <paramref name="prefix"/> (and holds <paramref name="contains"/>), summed.</summary>
    private static double SumSeries(IEnumerable<string> lines, string prefix, string? contains = null) => lines
        .Where(l => l.StartsWith(prefix, StringComparison.Ordinal) && (contains is null || l.Contains(contains, StringComparison.Ordinal)))
        .Sum(SeriesValue);

    /// <summary>One unlabelled series of the plugin's /metrics, or null when the plugin does not export it.</summary>
    public async Task<double?> MetricAsync(string name)
    {
        var lines = await MetricLinesAsync();
        var line = lines.FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        // A family the plugin registered but has not observed yet renders only its HELP and TYPE lines: 0.
        return line is not null ? SeriesValue(line)
            : lines.Any(l => l.StartsWith("# TYPE " + name + " ", StringComparison.Ordinal)) ? 0 : null;
    }

    public async Task<long> SliceWritesAsync()
    {
        return (long)SumSeries(await MetricLinesAsync(), "securedra_resourceslice_writes_total");
    }

    public async Task WriteFaultsAsync(string device, string json)
    {
        var temp = Path.Combine(_vram, $".{device}.faults.json.tmp");
        await File.WriteAllTextAsync(temp, json);
        File.Move(temp, Path.Combine(_vram, $"{device}.faults.json"), overwrite: true);
    }

    /// <summary>
    /// The bytes of the two files a Prepare of <paramref name="claimUid"/> wrote durably (its CDI spec and the
    /// checkpoint) and the directories they are in.
    /// </summary>
    public (byte[] Cdi, byte[] Checkpoint, string CdiDirectory, string CheckpointDirectory) PreparedFiles(string claimUid)
    {
        var cdi = Directory.EnumerateFiles(Path.Combine(DataDirectory, "cdi")).Single(f => f.Contains(claimUid, StringComparison.Ordinal) && !f.EndsWith(".tmp", StringComparison.Ordinal));
        var checkpoint = Directory.EnumerateFiles(Path.Combine(DataDirectory, "plugins"), "checkpoint.json", SearchOption.AllDirectories).Single();
        return (File.ReadAllBytes(cdi), File.ReadAllBytes(checkpoint), Path.GetDirectoryName(cdi)!, Path.GetDirectoryName(checkpoint)!);
    }

    /// <summary>The plugin's CPU time so far, user + system, all threads (from /proc/PID/stat, in clock ticks of 10 ms).</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>
    /// From the plugin's /metrics: [0] sum and [1] count of <c>securedra_prepare_duration_seconds</c> (one per claim),
    /// [2] sum and [3] count of <c>securedra_grpc_server_handling_seconds</c> for NodePrepareResources (one per call).
    /// </summary>
    public async Task<double[]> ServerSideSecondsAsync()
    {
        var lines = await MetricLinesAsync();
        double Sum(string prefix, string? contains = null) => SumSeries(lines, prefix, contains);
        return
        [
            Sum("securedra_prepare_duration_seconds_sum"), Sum("securedra_prepare_duration_seconds_count"),
            Sum("securedra_grpc_server_handling_seconds_sum", "method=\"NodePrepareResources\""), Sum("securedra_grpc_server_handling_seconds_count", "method=\"NodePrepareResources\""),
        ];
    }

    /// <summary>
    /// Resident memory by kind, from /proc/PID/smaps: the executable's code (r-x), read-only data (r--) and written
    /// data (rw-) pages; the zero-filled mapping right after it, where Native AOT rehydrates its type data at start
    /// ("binary .bss"); shared libraries; glibc malloc (the [heap] and 64 MiB arenas: a read-write mapping followed
    /// by its no-access reserve, 64 MiB together); thread stacks (a read-write mapping right above a 4 KiB no-access
    /// guard); other anonymous memory (the GC's regions and bookkeeping, the runtime's own data); any other file
    /// mapping. Then the kernel's own split (RssAnon / RssFile / RssShmem from /proc/PID/status), the thread count,
    /// and the GC's view from inside the plugin (its /metrics: heap size after the last GC, bytes committed, bytes
    /// allocated, collections by generation), which says how much of "other anonymous" the GC holds.
    /// </summary>
    public async Task<string> MemoryBreakdownAsync()
    {
        var exe = File.ResolveLinkTarget($"/proc/{_process.Id}/exe", returnFinalTarget: true)?.FullName ?? string.Empty;
        if (SmapsCopy is { } copy)
        {
            // --smaps-copy PREFIX: keep each raw /proc/PID/smaps (and status) for a closer look than this summary.
            File.Copy($"/proc/{_process.Id}/smaps", $"{copy}.{++_smapsCopies}.smaps", overwrite: true);
            File.Copy($"/proc/{_process.Id}/status", $"{copy}.{_smapsCopies}.status", overwrite: true);
            // And the threads by name (Kestrel, the thread pool, the GC, timers): which ones the count is made of.
            File.WriteAllLines($"{copy}.{_smapsCopies}.threads", Directory.EnumerateDirectories($"/proc/{_process.Id}/task")
                .Select(t => { try { return File.ReadAllText(Path.Combine(t, "comm")).Trim(); } catch (IOException) { return "(gone)"; } }).Order(StringComparer.Ordinal));
        }

        var maps = ProcessMappings.Read($"/proc/{_process.Id}/smaps");

        bool NoAccess(int i) => i >= 0 && i < maps.Count && maps[i].Permissions.StartsWith("---", StringComparison.Ordinal) && maps[i].Path.Length == 0;
        bool Anonymous(ProcessMapping m) => m.Path.Length == 0;
        var kb = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < maps.Count; i++)
        {
            var m = maps[i];
            var kind = m.Path == exe ? (m.Permissions[2] == 'x' ? "binary code" : m.Permissions[1] == 'w' ? "binary data" : "binary read-only data")
                : Anonymous(m) && i > 0 && maps[i - 1].Path == exe && maps[i - 1].End == m.Start ? "binary .bss"
                : m.Path.Contains(".so", StringComparison.Ordinal) ? "libraries"
                : m.Path.Length > 0 && !m.Path.StartsWith('[') ? "other files"
                : m.Path == "[heap]" || (Anonymous(m) && NoAccess(i + 1) && maps[i + 1].Start == m.End && maps[i + 1].End - m.Start == 64UL << 20) ? "malloc"
                : m.Path == "[stack]" || (NoAccess(i - 1) && maps[i - 1].End - maps[i - 1].Start == 4096 && maps[i - 1].End == m.Start) ? "thread stacks"
                : "other anonymous";
            kb[kind] = kb.GetValueOrDefault(kind) + m.ResidentBytes / 1024;
        }

        var status = File.ReadLines($"/proc/{_process.Id}/status").Select(l => l.Split(':', 2)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1].Trim(), StringComparer.Ordinal);
        static string Mib(string kbText) => $"{long.Parse(kbText.Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0:F1}";
        var parts = kb.OrderByDescending(k => k.Value).Select(k => $"{k.Key} {k.Value / 1024.0:F1}");
        var lines = await MetricLinesAsync();
        double Metric(string name) => SumSeries(lines, name);
        string Gcs(string gen) => Metric($"dotnet_gc_collections_total{{generation=\"{gen}\"}}").ToString(CultureInfo.InvariantCulture);
        return string.Join(", ", parts) + " MiB"
            + $"; kernel: RssAnon {Mib(status["RssAnon"])}, RssFile {Mib(status["RssFile"])}, RssShmem {Mib(status["RssShmem"])} MiB; {status["Threads"]} threads"
            + $"; GC (from inside): heap {Metric("dotnet_gc_heap_size_bytes") / 1048576:F1} MiB, committed {Metric("dotnet_gc_committed_bytes") / 1048576:F1} MiB, "
            + $"allocated {Metric("dotnet_gc_allocated_bytes_total") / 1048576:F0} MiB, collections gen0/1/2 {Gcs("0")}/{Gcs("1")}/{Gcs("2")}; "
            + "heap parts gen0/gen1/gen2/loh/poh " + string.Join('/', new[] { "0", "1", "2", "loh", "poh" }.Select(g => $"{Metric($"dotnet_gc_generation_size_bytes{{generation=\"{g}\"}}") / 1048576:F1}"))
            + $" MiB, fragmented {Metric("dotnet_gc_fragmented_bytes") / 1048576:F1} MiB (0 where the build predates these metrics)";
    }

    /// <summary>
    /// process_madvise(MADV_PAGEOUT) over every file-backed mapping of the plugin (the executable and its libraries);
    /// returns the bytes of the ranges asked for. Anonymous memory is left alone (no swap: it cannot be reclaimed).
    /// </summary>
    public long PageOutFileMappings()
    {
        var ranges = new List<Iovec>();
        long asked = 0;
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/maps"))
        {
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 6 && fields[5].StartsWith('/'))
            {
                var range = fields[0].Split('-');
                var start = Convert.ToUInt64(range[0], 16);
                var end = Convert.ToUInt64(range[1], 16);
                ranges.Add(new Iovec((nint)start, (nuint)(end - start)));
                asked += (long)(end - start);
            }
        }

        var pidfd = PidfdOpen(_process.Id, 0);
        if (pidfd < 0)
        {
            throw new InvalidOperationException($"pidfd_open: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }

        try
        {
            // The kernel takes at most IOV_MAX (1024) ranges per call.
            foreach (var chunk in ranges.Chunk(512))
            {
                if (ProcessMadvise(pidfd, chunk, (nuint)chunk.Length, 21 /* MADV_PAGEOUT */, 0) < 0)
                {
                    Console.WriteLine($"  process_madvise: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()} (some ranges not reclaimed)");
                }
            }
        }
        finally
        {
            Close(pidfd);
        }

        return asked;
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private readonly record struct Iovec(nint Base, nuint Length);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "pidfd_open", SetLastError = true)]
    private static extern int PidfdOpen(int pid, uint flags);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "process_madvise", SetLastError = true)]
    private static extern nint ProcessMadvise(int pidfd, Iovec[] iovec, nuint count, int advice, uint flags);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);

    public double RssMiB()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
            }
        }

        return 0;
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }

        _process.Dispose();
        await _emulator.DisposeAsync();
        _metrics.Dispose();
        Directory.Delete(_dir, recursive: true);
        Directory.Delete(_vram, recursive: true);
        if (DataBase is not null)
        {
            Directory.Delete(Path.Combine(DataBase, "sdrapb-data-" + Path.GetFileName(_dir)["sdrapb-".Length..]), recursive: true);
        }
    }
}
