using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace SecureDra.Compatibility.Tests;

/// <summary>
/// The real <c>securedra kubelet-plugin</c> executable (built next to this project, run with <c>dotnet</c>)
/// on simulated GPUs in a private temp directory, talking to an API server at <see cref="ApiServer"/>.
/// </summary>
public sealed class PluginProcess : IAsyncDisposable
{
    public const string NodeName = "node-a";
    public const string DriverName = "gpu.nvidia.com";

    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly Task _stderrPump;
    private readonly Task _stdoutPump;
    private readonly HttpClient _http;

    private PluginProcess(Process process, string registrarDirectory, string pluginsDirectory, string cdiRoot, string vramDirectory, int httpPort)
    {
        _process = process;
        RegistrarDirectory = registrarDirectory;
        PluginsDirectory = pluginsDirectory;
        CdiRoot = cdiRoot;
        VramDirectory = vramDirectory;
        HttpBase = new Uri($"http://127.0.0.1:{httpPort.ToString(CultureInfo.InvariantCulture)}/");
        _http = new HttpClient { BaseAddress = HttpBase, Timeout = TimeSpan.FromSeconds(5) };
        _stderrPump = PumpAsync(process.StandardError, _stderr);
        _stdoutPump = PumpAsync(process.StandardOutput, _stderr);
    }

    public string RegistrarDirectory { get; }
    public string PluginsDirectory { get; }
    public string CdiRoot { get; }
    public string VramDirectory { get; }
    public Uri HttpBase { get; }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>What the process wrote to stderr and stdout so far (JSON log lines).</summary>
    public string Output
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static string CliDll
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SecureDra.sln")))
            {
                dir = dir.Parent;
            }

            Assert.NotNull(dir);
            var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
            // The test build: the same sources with failure injection compiled in (crash points, fault endpoint, fault files).
            var dll = Path.Combine(dir.FullName, "tests", "TestBuild", "bin", configuration, "net10.0", "securedra.dll");
            Assert.True(File.Exists(dll), $"build tests/TestBuild first: {dll} is missing");
            return dll;
        }
    }

    /// <summary>Starts the plugin against <paramref name="apiServer"/> (http://127.0.0.1:PORT/) with <paramref name="gpus"/> simulated GPUs.</summary>
    public static PluginProcess Start(TempDir dir, Uri apiServer, int gpus = 2, string memory = "8Mi", IEnumerable<string>? extraArgs = null)
    {
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentNullException.ThrowIfNull(apiServer);
        var registrar = dir.Sub("registry");
        var plugins = dir.Sub("plugins");
        var cdi = dir.Sub("cdi");
        var vram = dir.Sub("vram");
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(CliDll);
        foreach (var arg in new[]
        {
            "kubelet-plugin",
            "--node-name", NodeName,
            "--driver-name", DriverName,
            "--kubeconfig", apiServer.GetLeftPart(UriPartial.Authority),
            "--kubelet-registrar-directory-path", registrar,
            "--kubelet-plugins-directory-path", plugins,
            "--cdi-root", cdi,
            "--http-endpoint", $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
            "--log-format", "json",
            "--gpu-backend", "simulated",
            "--simulated-gpus", gpus.ToString(CultureInfo.InvariantCulture),
            "--simulated-memory", memory,
            "--simulated-vram-dir", vram,
        }.Concat(extraArgs ?? []))
        {
            info.ArgumentList.Add(arg);
        }

        // Nothing from the test runner's environment may change the flags above.
        foreach (var name in info.Environment.Keys.ToList())
        {
            if (name is "NODE_NAME" or "DRIVER_NAME" or "POD_UID" or "HTTP_ENDPOINT" or "LOG_FORMAT" or "KUBECONFIG" or "CDI_ROOT" or "WITHDRAWAL_MODE" or "FATAL_XIDS"
                || name.StartsWith("KUBELET_", StringComparison.Ordinal) || name.StartsWith("SIMULATED_", StringComparison.Ordinal)
                || name.StartsWith("GPU_", StringComparison.Ordinal) || name.StartsWith("SECUREDRA_", StringComparison.Ordinal)
                || name.StartsWith("KUBERNETES_", StringComparison.Ordinal))
            {
                info.Environment.Remove(name);
            }
        }

        return new PluginProcess(Process.Start(info)!, registrar, plugins, cdi, vram, port);
    }

    public string VramPath(string device) => Path.Combine(VramDirectory, device + ".vram");

    /// <summary>GET /readyz until it answers 200 (or the deadline), returning the last JSON answer.</summary>
    public async Task<JsonObject> WaitReadyAsync(CancellationToken cancellationToken)
    {
        var last = "(no answer)";
        while (true)
        {
            if (_process.HasExited)
            {
                Assert.Fail($"the plugin exited ({_process.ExitCode}):\n{Output}");
            }

            try
            {
                using var response = await _http.GetAsync(new Uri("readyz", UriKind.Relative), cancellationToken);
                last = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return JsonNode.Parse(last)!.AsObject();
                }
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message; // not listening yet
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Assert.Fail($"/readyz never answered 200; last answer: {last}\n{Output}");
            }

            try
            {
                await Task.Delay(50, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"/readyz never answered 200; last answer: {last}\n{Output}");
            }
        }
    }

    public async Task<string> MetricsAsync(CancellationToken cancellationToken) =>
        await _http.GetStringAsync(new Uri("metrics", UriKind.Relative), cancellationToken);

    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        await Task.WhenAll(_stderrPump, _stdoutPump);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, as the kubelet's pod shutdown does; returns the exit code.</summary>
    public async Task<int> StopAsync(CancellationToken cancellationToken)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync(cancellationToken);
        }

        return await WaitForExitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _http.Dispose();
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task PumpAsync(StreamReader reader, StringBuilder sink)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (sink)
            {
                sink.AppendLine(line);
            }
        }
    }
}
