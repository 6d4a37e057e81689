using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using SecureDra.LocalCluster.Kubelet;
using SecureDra.Protocol.Registration;
using V1 = SecureDra.Protocol.Dra.V1;

// Kubelet plugin benchmark: runs the real `securedra kubelet-plugin` process (JIT via `dotnet
// securedra.dll`, or a Native AOT binary) on temp dirs and measures
//   1. process start → registration socket answers GetInfo (median of N runs),
//   2. RSS after 1 000 calls (GetInfo + empty Prepare over the kubelet emulator's channel),
//   3. empty-Prepare calls per second (1 caller, and 8 concurrent callers).
// Usage: dotnet run -c Release --project bench/PluginBench -- [--jit path/securedra.dll] [--aot path/securedra] [--runs N]
var jit = Arg("--jit") ?? FindJitDll();
var aot = Arg("--aot") ?? (File.Exists("/tmp/aot/securedra") ? "/tmp/aot/securedra" : null);
var runs = int.Parse(Arg("--runs") ?? "7", CultureInfo.InvariantCulture);

// The plugin needs an API server since the pipeline was wired in: an in-process local API server, simulated GPUs.
await using var api = await SecureDra.LocalCluster.ApiServer.LocalApiServer.StartAsync(
    new SecureDra.LocalCluster.ApiServer.LocalApiServerOptions { Listen = "127.0.0.1:0", KubernetesVersion = "1.34" }, CancellationToken.None);
PluginProcess.ApiServer = api.BaseAddress.ToString().TrimEnd('/');
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
foreach (var (name, file, prefix) in new[] { ("JIT", "dotnet", jit is null ? null : new[] { jit }), ("AOT", aot, Array.Empty<string>()) })
{
    if (file is null || prefix is null || (name == "JIT" && !File.Exists(prefix[0])) || (name == "AOT" && !File.Exists(file)))
    {
        Console.WriteLine($"{name}: skipped (binary not found)");
        continue;
    }

    var starts = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        await using var plugin = await PluginProcess.StartAsync(file, prefix);
        starts.Add(plugin.StartupMs);
    }

    starts.Sort();
    Console.WriteLine($"{name}: start→GetInfo median {starts[starts.Count / 2]:F0} ms (min {starts[0]:F0}, max {starts[^1]:F0}, n={runs})");

    await using (var plugin = await PluginProcess.StartAsync(file, prefix))
    {
        var rssBefore = plugin.RssKiB();
        using var reg = UnixSocketGrpcChannel.Create(plugin.RegistrationSocket);
        using var dra = UnixSocketGrpcChannel.Create(plugin.DraSocket);
        var registration = new Registration.RegistrationClient(reg);
        var client = new V1.DRAPlugin.DRAPluginClient(dra);
        for (var i = 0; i < 500; i++)
        {
            await registration.GetInfoAsync(new InfoRequest());
            await client.NodePrepareResourcesAsync(new V1.NodePrepareResourcesRequest());
        }

        Console.WriteLine($"{name}: RSS {rssBefore / 1024.0:F1} MiB after start, {plugin.RssKiB() / 1024.0:F1} MiB after 1000 calls");

        foreach (var callers in new[] { 1, 8 })
        {
            var seconds = 5.0;
            var stop = Stopwatch.StartNew();
            long calls = 0;
            await Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
            {
                while (stop.Elapsed.TotalSeconds < seconds)
                {
                    await client.NodePrepareResourcesAsync(new V1.NodePrepareResourcesRequest());
                    Interlocked.Increment(ref calls);
                }
            }));
            Console.WriteLine($"{name}: empty Prepare, {callers} caller(s): {calls / stop.Elapsed.TotalSeconds:F0} calls/s");
        }

        Console.WriteLine($"{name}: RSS {plugin.RssKiB() / 1024.0:F1} MiB at the end");
    }
}

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static string? FindJitDll()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SecureDra.sln")))
    {
        dir = dir.Parent;
    }

    return dir is null ? null : Path.Combine(dir.FullName, "src", "Cli", "bin", "Release", "net10.0", "securedra.dll");
}

/// <summary>One `securedra kubelet-plugin` process on a temp dir; SIGTERM on dispose.</summary>
internal sealed class PluginProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private PluginProcess(Process process, string dir, double startupMs)
    {
        _process = process;
        _dir = dir;
        StartupMs = startupMs;
    }

    public static string ApiServer { get; set; } = "";

    public double StartupMs { get; }
    public string RegistrationSocket => Path.Combine(_dir, "reg", "gpu.nvidia.com-reg.sock");
    public string DraSocket => Path.Combine(_dir, "plugins", "gpu.nvidia.com", "dra.sock");

    public static async Task<PluginProcess> StartAsync(string file, string[] prefix)
    {
        var dir = Path.Combine("/tmp", "sdrab-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in prefix)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var a in new[] { "kubelet-plugin", "--node-name", "bench-" + Guid.NewGuid().ToString("N")[..6], "--kubelet-registrar-directory-path", Path.Combine(dir, "reg"), "--kubelet-plugins-directory-path", Path.Combine(dir, "plugins"), "--log-format", "json",
            "--kubeconfig", ApiServer, "--cdi-root", Path.Combine(dir, "cdi"), "--gpu-backend", "simulated", "--simulated-gpus", "8", "--simulated-memory", "64Mi", "--simulated-vram-dir", Path.Combine(dir, "vram") })
        {
            info.ArgumentList.Add(a);
        }

        var clock = Stopwatch.StartNew();
        var process = Process.Start(info)!;
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var socket = Path.Combine(dir, "reg", "gpu.nvidia.com-reg.sock");
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"plugin exited with {process.ExitCode}");
            }

            if (File.Exists(socket))
            {
                try
                {
                    using var channel = UnixSocketGrpcChannel.Create(socket);
                    await new Registration.RegistrationClient(channel).GetInfoAsync(new InfoRequest(), deadline: DateTime.UtcNow.AddSeconds(1));
                    return new PluginProcess(process, dir, clock.Elapsed.TotalMilliseconds);
                }
                catch (RpcException)
                {
                }
            }

            await Task.Delay(1);
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                process.Kill();
                throw new TimeoutException("plugin did not answer GetInfo within 30 s");
            }
        }
    }

    public long RssKiB()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }

        return 0;
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
        Directory.Delete(_dir, recursive: true);
    }
}
