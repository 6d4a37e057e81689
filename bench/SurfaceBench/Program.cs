using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using SecureDra.LocalCluster.ApiServer;
using SecureDra.LocalCluster.Kubelet;

// Network-surface benchmark (issue 11), against the real processes on loopback:
//   1. webhook: reviews/s and p50/p99 latency of legitimate reviews (callers in parallel, keep-alive HTTPS), alone and
//      while --connections idle TCP, idle TLS or slow-header (Slowloris) connections are held against the webhook
//      port, and while they are held against the plugin's HTTP port;
//   2. plugin: Prepare (and Unprepare) p50/p99 through the kubelet emulator, alone and while --connections idle
//      connections are held against its HTTP port, with /healthz answered meanwhile.
// A held connection that the server closes is opened again after --reopen-delay (the attacker keeps the pressure
// up without turning it into a connection-rate flood). Failed legitimate requests are counted, RSS read from /proc.
// Usage: dotnet run -c Release --project bench/SurfaceBench -- [--jit dll] [--connections 5000] [--seconds 5]
//        [--callers 4] [--cycles 200] [--reopen-delay 10]
var jit = Arg("--jit") ?? FindJitDll() ?? throw new InvalidOperationException("securedra.dll not found; build src/Cli -c Release");
var connections = Int("--connections", 5000);
var seconds = Int("--seconds", 5);
var callers = Int("--callers", 4);
var cycles = Int("--cycles", 200);
var reopenDelay = TimeSpan.FromSeconds(Int("--reopen-delay", 10));

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, load {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine($"securedra: JIT {jit}; {connections} held connections per attack, re-opened {reopenDelay.TotalSeconds:0} s after the server closes one");

await using var api = await LocalApiServer.StartAsync(new LocalApiServerOptions { Listen = "127.0.0.1:0", KubernetesVersion = "1.34" }, CancellationToken.None);
using var apiHttp = new HttpClient { BaseAddress = api.BaseAddress };
await using var controller = await Controller.StartAsync(jit);
await using var plugin = await Plugin.StartAsync(jit, api, apiHttp);
var rows = new List<string>();

// ---------------------------------------------------------------- webhook
var attacks = new (string Name, IPEndPoint? Target, Func<Stream, CancellationToken, Task<Stream>>? Behaviour)[]
{
    ("none", null, null),
    ("idle TCP → webhook", controller.WebhookEndpoint, (s, _) => Task.FromResult(s)),
    ("idle TLS → webhook", controller.WebhookEndpoint, Attack.TlsAsync),
    ("slow headers (TLS) → webhook", controller.WebhookEndpoint, Attack.SlowHeadersAsync),
    ("idle TCP → plugin :http", plugin.HttpEndpoint, (s, _) => Task.FromResult(s)),
    // The baseline again at the end: on a shared machine the load drifts, so the ratio is taken to the larger of the two.
    ("none (again)", null, null),
};
await controller.ReviewsAsync(callers, TimeSpan.FromSeconds(5)); // warm-up: JIT, TLS session, connection pool
var results = new List<(string Name, ReviewResult Result, string Held)>();
foreach (var (name, target, behaviour) in attacks)
{
    await using var holder = target is null ? null : await ConnectionHolder.StartAsync(target, connections, behaviour!, reopenDelay);
    var result = await controller.ReviewsAsync(callers, TimeSpan.FromSeconds(seconds));
    var held = holder is null ? "" : $", attacker: {holder.Opened} connects, {holder.Open} open at the end, {holder.ClosedByServer} closed by the server";
    results.Add((name, result, held + $", controller RSS {controller.RssMiB():F0} MiB"));
    Console.WriteLine($"webhook | {name} done, load {File.ReadAllText("/proc/loadavg").Trim()}");
}

var baselineP99 = Math.Max(results[0].Result.P99, results[^1].Result.P99);
foreach (var (name, result, held) in results)
{
    var line = $"webhook | {name,-30} | {result.PerSecond,7:F0} reviews/s | p50 {result.P50,7:F2} ms | p99 {result.P99,7:F2} ms ({result.P99 / baselineP99:F2}× alone) | failed {result.Failed} of {result.Count}{held}";
    Console.WriteLine(line);
    rows.Add(line);
}

Console.WriteLine(await controller.GuardMetricsAsync());

// ---------------------------------------------------------------- plugin Prepare
var round = 0;
foreach (var flooded in new[] { false, true, false })
{
    round++;
    await using var holder = flooded ? await ConnectionHolder.StartAsync(plugin.HttpEndpoint, connections, (s, _) => Task.FromResult(s), reopenDelay) : null;
    var result = await plugin.CyclesAsync(cycles, $"round{round}");
    var held = holder is null ? "" : $", attacker: {holder.Opened} connects, {holder.Open} open at the end, {holder.ClosedByServer} closed by the server";
    var line = $"plugin  | {(flooded ? $"{connections} idle TCP → :http" : "none"),-30} | Prepare p50 {result.PrepareP50:F2} ms p99 {result.PrepareP99:F2} ms | Unprepare p50 {result.UnprepareP50:F2} ms p99 {result.UnprepareP99:F2} ms | /healthz p99 {result.HealthzP99:F2} ms | failed {result.Failed} of {cycles * 3} (Prepare {result.PrepareFailed}, Unprepare {result.UnprepareFailed}, /healthz {result.HealthzFailed}) | plugin RSS {plugin.RssMiB():F0} MiB, {plugin.OpenDescriptors()} fds{held}";
    Console.WriteLine(line);
    rows.Add(line);
}

Console.WriteLine(await plugin.GuardMetricsAsync());
Console.WriteLine($"load at the end {File.ReadAllText("/proc/loadavg").Trim()}");

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

int Int(string name, int fallback) => Arg(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

static string? FindJitDll()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SecureDra.sln")))
    {
        dir = dir.Parent;
    }

    return dir is null ? null : Path.Combine(dir.FullName, "src", "Cli", "bin", "Release", "net10.0", "securedra.dll");
}

internal static class Stats
{
    public static double Pct(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    public static double RssMiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
            }
        }

        return 0;
    }

    public static string GuardLines(string metrics, string who) =>
        who + ": " + string.Join("; ", metrics.Split('\n').Where(l => l.StartsWith("securedra_listener_", StringComparison.Ordinal)));

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public static Process Start(string dll, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        info.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        var process = Process.Start(info)!;
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    public static async Task StopAsync(Process process)
    {
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
        }

        process.Dispose();
    }
}

internal sealed record ReviewResult(int Count, int Failed, double PerSecond, double P50, double P99);

/// <summary>The real `securedra controller`, webhook only, with a fresh self-signed certificate.</summary>
internal sealed class Controller : IAsyncDisposable
{
    private const string Review = """
        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1","operation":"CREATE",
         "resource":{"group":"resource.k8s.io","version":"v1","resource":"resourceclaims"},"namespace":"t","name":"c",
         "object":{"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim","metadata":{"name":"c","namespace":"t"},
          "spec":{"devices":{"requests":[{"name":"gpu","exactly":{"deviceClassName":"securedra-gpu-exclusive"}}],
           "config":[{"requests":["gpu"],"opaque":{"driver":"gpu.nvidia.com","parameters":{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"ZeroVRAMOnRelease"}}}]}}}}}
        """;

    private readonly Process _process;
    private readonly string _dir;
    private readonly HttpClient _client;
    private readonly HttpClient _http;

    private Controller(Process process, string dir, HttpClient client, HttpClient http, IPEndPoint webhook)
    {
        _process = process;
        _dir = dir;
        _client = client;
        _http = http;
        WebhookEndpoint = webhook;
    }

    public IPEndPoint WebhookEndpoint { get; }

    public static async Task<Controller> StartAsync(string dll)
    {
        var dir = Directory.CreateTempSubdirectory("sdrasb-").FullName;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=securedra-controller", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(2));
        await File.WriteAllTextAsync(Path.Combine(dir, "tls.crt"), certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(dir, "tls.key"), key.ExportPkcs8PrivateKeyPem());
        var webhookPort = Stats.FreePort();
        var httpPort = Stats.FreePort();
        var process = Stats.Start(dll,
        [
            "controller", "--tls-cert-file", Path.Combine(dir, "tls.crt"), "--tls-private-key-file", Path.Combine(dir, "tls.key"),
            "--audit-interval", "0", "--leader-election", "false", "--log-format", "json",
            "--webhook-listen", $"127.0.0.1:{webhookPort}", "--http-endpoint", $"127.0.0.1:{httpPort}",
        ]);
        var thumbprint = certificate.Thumbprint;
        var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, c, _, _) => c?.GetCertHashString() == thumbprint },
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
        })
        { Timeout = TimeSpan.FromSeconds(10) };
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromSeconds(10) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var ready = await http.GetAsync("readyz");
                if (ready.IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException("the controller did not become ready");
            }

            await Task.Delay(50);
        }

        return new Controller(process, dir, client, http, new IPEndPoint(IPAddress.Loopback, webhookPort));
    }

    public async Task<ReviewResult> ReviewsAsync(int parallel, TimeSpan duration)
    {
        var latencies = new List<double>();
        var failed = 0;
        var uri = new Uri($"https://127.0.0.1:{WebhookEndpoint.Port}/validate");
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
        {
            while (clock.Elapsed < duration)
            {
                var sw = Stopwatch.StartNew();
                try
                {
                    using var response = await _client.PostAsync(uri, new StringContent(Review, Encoding.UTF8, "application/json"));
                    var body = await response.Content.ReadAsStringAsync();
                    var ok = response.IsSuccessStatusCode && (bool?)JsonNode.Parse(body)?["response"]?["allowed"] == true;
                    lock (latencies)
                    {
                        latencies.Add(sw.Elapsed.TotalMilliseconds);
                        failed += ok ? 0 : 1;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }));
        return new ReviewResult(latencies.Count + failed, failed, latencies.Count / clock.Elapsed.TotalSeconds, Stats.Pct(latencies, 50), Stats.Pct(latencies, 99));
    }

    public double RssMiB() => Stats.RssMiB(_process.Id);

    public async Task<string> GuardMetricsAsync() => Stats.GuardLines(await _http.GetStringAsync("metrics"), "controller");

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        _http.Dispose();
        await Stats.StopAsync(_process);
        Directory.Delete(_dir, recursive: true);
    }
}

internal sealed record CycleResult(double PrepareP50, double PrepareP99, double UnprepareP50, double UnprepareP99, double HealthzP99, int Failed, int PrepareFailed, int UnprepareFailed, int HealthzFailed);

/// <summary>The real `securedra kubelet-plugin` on 8 simulated GPUs (1 MiB each), registered with the kubelet emulator.</summary>
internal sealed class Plugin : IAsyncDisposable
{
    private const string Claims = "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims";
    private readonly Process _process;
    private readonly string _dir;
    private readonly KubeletEmulator _emulator;
    private readonly HttpClient _api;
    private readonly HttpClient _http;
    private readonly RegisteredDraPlugin _kubelet;
    private readonly string _node;

    private Plugin(Process process, string dir, KubeletEmulator emulator, HttpClient api, HttpClient http, RegisteredDraPlugin kubelet, string node, int port)
    {
        _process = process;
        _dir = dir;
        _emulator = emulator;
        _api = api;
        _http = http;
        _kubelet = kubelet;
        _node = node;
        HttpEndpoint = new IPEndPoint(IPAddress.Loopback, port);
    }

    public IPEndPoint HttpEndpoint { get; }

    public static async Task<Plugin> StartAsync(string dll, LocalApiServer api, HttpClient apiHttp)
    {
        var dir = Directory.CreateTempSubdirectory("sdrasb-plugin-").FullName;
        var node = "bench-" + Guid.NewGuid().ToString("N")[..6];
        var port = Stats.FreePort();
        Directory.CreateDirectory(Path.Combine(dir, "reg"));
        var emulator = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = Path.Combine(dir, "reg"), Profile = KubeletProfile.V1_34 });
        emulator.Start();
        var process = Stats.Start(dll,
        [
            "kubelet-plugin", "--node-name", node, "--kubeconfig", api.BaseAddress.ToString().TrimEnd('/'),
            "--kubelet-registrar-directory-path", Path.Combine(dir, "reg"), "--kubelet-plugins-directory-path", Path.Combine(dir, "plugins"),
            "--cdi-root", Path.Combine(dir, "cdi"), "--http-endpoint", $"127.0.0.1:{port}", "--log-format", "json",
            "--gpu-backend", "simulated", "--simulated-gpus", "8", "--simulated-memory", "1Mi", "--simulated-vram-dir", Path.Combine(dir, "vram"),
        ]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var kubelet = await emulator.WaitForPluginAsync("gpu.nvidia.com", timeout.Token);
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(10) };
        while (true)
        {
            try
            {
                using var ready = await http.GetAsync("readyz", timeout.Token);
                if (ready.IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50, timeout.Token);
        }

        using var deviceClass = await apiHttp.PostAsync("/apis/resource.k8s.io/v1/deviceclasses", new StringContent(
            """{"apiVersion":"resource.k8s.io/v1","kind":"DeviceClass","metadata":{"name":"gpu.nvidia.com"},"spec":{"selectors":[{"cel":{"expression":"device.driver == 'gpu.nvidia.com'"}}]}}""",
            Encoding.UTF8, "application/json"));
        return new Plugin(process, dir, emulator, apiHttp, http, kubelet, node, port);
    }

    /// <summary>Prepare then Unprepare of one fresh claim, <paramref name="count"/> times, with a /healthz between.</summary>
    public async Task<CycleResult> CyclesAsync(int count, string prefix)
    {
        var prepare = new List<double>();
        var unprepare = new List<double>();
        var healthz = new List<double>();
        var prepareFailed = 0;
        var unprepareFailed = 0;
        var healthzFailed = 0;
        for (var i = 0; i < count; i++)
        {
            var claim = await CreateAllocatedAsync($"{prefix}-{i}", $"gpu-{i % 8}");
            var sw = Stopwatch.StartNew();
            var prepared = await _kubelet.PrepareAsync([claim]);
            prepare.Add(sw.Elapsed.TotalMilliseconds);
            prepareFailed += string.IsNullOrEmpty(prepared[claim.Uid].Error) ? 0 : 1;

            sw.Restart();
            try
            {
                using var probe = await _http.GetAsync("healthz");
                healthzFailed += probe.IsSuccessStatusCode ? 0 : 1;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                healthzFailed++;
            }

            healthz.Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            var released = await _kubelet.UnprepareAsync([claim]);
            unprepare.Add(sw.Elapsed.TotalMilliseconds);
            unprepareFailed += released[claim.Uid].Length == 0 ? 0 : 1;
        }

        return new CycleResult(Stats.Pct(prepare, 50), Stats.Pct(prepare, 99), Stats.Pct(unprepare, 50), Stats.Pct(unprepare, 99), Stats.Pct(healthz, 99),
            prepareFailed + unprepareFailed + healthzFailed, prepareFailed, unprepareFailed, healthzFailed);
    }

    private async Task<KubeletClaim> CreateAllocatedAsync(string name, string device)
    {
        var body = "{\"apiVersion\":\"resource.k8s.io/v1\",\"kind\":\"ResourceClaim\",\"metadata\":{\"name\":\"" + name + "\",\"namespace\":\"default\"},"
            + "\"spec\":{\"devices\":{\"requests\":[{\"name\":\"gpu\",\"exactly\":{\"deviceClassName\":\"gpu.nvidia.com\"}}]}}}";
        using var created = await _api.PostAsync(Claims, new StringContent(body, Encoding.UTF8, "application/json"));
        var obj = JsonNode.Parse(await created.Content.ReadAsStringAsync())!.AsObject();
        obj["status"] = new JsonObject
        {
            ["allocation"] = new JsonObject
            {
                ["devices"] = new JsonObject
                {
                    ["results"] = new JsonArray(new JsonObject { ["request"] = "gpu", ["driver"] = "gpu.nvidia.com", ["pool"] = _node, ["device"] = device }),
                },
            },
        };
        using var put = await _api.PutAsync($"{Claims}/{name}/status", new StringContent(obj.ToJsonString(), Encoding.UTF8, "application/json"));
        put.EnsureSuccessStatusCode();
        return new KubeletClaim("default", name, obj["metadata"]!["uid"]!.GetValue<string>());
    }

    public double RssMiB() => Stats.RssMiB(_process.Id);

    public int OpenDescriptors() => Directory.GetFiles($"/proc/{_process.Id}/fd").Length;

    public async Task<string> GuardMetricsAsync() => Stats.GuardLines(await _http.GetStringAsync("metrics"), "plugin");

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await Stats.StopAsync(_process);
        await _emulator.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}

internal static class Attack
{
    /// <summary>Completes a TLS handshake, then sends nothing.</summary>
    public static async Task<Stream> TlsAsync(Stream stream, CancellationToken ct)
    {
        var tls = new SslStream(stream, false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1", EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13 }, ct);
        return tls;
    }

    /// <summary>TLS, then the first header lines of a request, then one more header byte every 2 s (Slowloris).</summary>
    public static async Task<Stream> SlowHeadersAsync(Stream stream, CancellationToken ct)
    {
        var tls = await TlsAsync(stream, ct);
        await tls.WriteAsync(Encoding.ASCII.GetBytes("POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: "), ct);
        await tls.FlushAsync(ct);
        // Runs until a write fails: the server closed the connection, or the holder disposed the stream.
        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await Task.Delay(TimeSpan.FromSeconds(2));
                    await tls.WriteAsync("a"u8.ToArray());
                    await tls.FlushAsync();
                }
            }
            catch (Exception)
            {
                // closed by the server or by the end of the run
            }
        }, CancellationToken.None);
        return tls;
    }
}

/// <summary>Keeps <c>count</c> connections to a target open: each slot connects, behaves, waits for the server to close it, waits, reconnects.</summary>
internal sealed class ConnectionHolder : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _slots = [];
    // Connect and misbehave at most 64 at a time, so the whole set is in place before the measurement starts.
    private readonly SemaphoreSlim _gate = new(64);
    private long _opened;
    private long _open;
    private long _closedByServer;

    public long Opened => Interlocked.Read(ref _opened);
    public long Open => Interlocked.Read(ref _open);
    public long ClosedByServer => Interlocked.Read(ref _closedByServer);

    public static async Task<ConnectionHolder> StartAsync(IPEndPoint target, int count, Func<Stream, CancellationToken, Task<Stream>> behaviour, TimeSpan reopenDelay)
    {
        var holder = new ConnectionHolder();
        using var established = new CountdownEvent(count);
        for (var i = 0; i < count; i++)
        {
            holder._slots.Add(holder.SlotAsync(target, behaviour, reopenDelay, established));
        }

        await Task.Run(() => established.Wait(TimeSpan.FromSeconds(120)));
        Console.WriteLine($"  attacker: {holder.Open} of {count} open after {holder.Opened} connects");
        return holder;
    }

    private async Task SlotAsync(IPEndPoint target, Func<Stream, CancellationToken, Task<Stream>> behaviour, TimeSpan reopenDelay, CountdownEvent established)
    {
        var ct = _stop.Token;
        var first = true;
        while (!ct.IsCancellationRequested)
        {
            Socket? socket = null;
            Stream? stream = null;
            var counted = false;
            try
            {
                await _gate.WaitAsync(ct);
                try
                {
                    // A server that neither answers nor closes must not wedge the attacker: 15 s per attempt.
                    using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    attempt.CancelAfter(TimeSpan.FromSeconds(15));
                    socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    await socket.ConnectAsync(target, attempt.Token);
                    Interlocked.Increment(ref _opened);
                    Interlocked.Increment(ref _open);
                    counted = true;
                    stream = await behaviour(new NetworkStream(socket, ownsSocket: false), attempt.Token);
                }
                finally
                {
                    _gate.Release();
                    if (first)
                    {
                        first = false;
                        established.Signal();
                    }
                }

                var buffer = new byte[256];
                while (await stream.ReadAsync(buffer, ct) > 0)
                {
                }
            }
            catch (Exception)
            {
                // Refused, reset, timed out, or the run is over: the loop condition decides.
            }
            finally
            {
                if (counted)
                {
                    Interlocked.Decrement(ref _open);
                    if (!ct.IsCancellationRequested)
                    {
                        Interlocked.Increment(ref _closedByServer);
                    }
                }

                stream?.Dispose();
                socket?.Dispose();
            }

            try
            {
                await Task.Delay(reopenDelay, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Task.WhenAll(_slots).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            Console.WriteLine($"  attacker: {_slots.Count(t => !t.IsCompleted)} slot(s) still closing after 30 s");
        }
    }
}
