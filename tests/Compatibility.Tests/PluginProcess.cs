using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace SecureDra.Compatibility.Tests;

/// <summary>
/// The real <c>securedra kubelet-plugin</c> executable (the test kit's launcher) on simulated GPUs in a private temp
/// directory, talking to an API server at <c>apiServer</c>. Its HTTP port is proven to be its own before the first
/// probe: if a parallel test took the port first, the plugin is started again on another.
/// </summary>
public sealed class PluginProcess : IAsyncDisposable
{
    public const string NodeName = "node-a";
    public const string DriverName = "gpu.nvidia.com";

    private const int PortAttempts = 5;

    private readonly Func<int, SecuredraProcess> _start;
    private SecuredraProcess _process;
    private int _port;
    private HttpClient _http;

    private PluginProcess(Func<int, SecuredraProcess> start, string registrarDirectory, string pluginsDirectory, string cdiRoot, string vramDirectory)
    {
        _start = start;
        RegistrarDirectory = registrarDirectory;
        PluginsDirectory = pluginsDirectory;
        CdiRoot = cdiRoot;
        VramDirectory = vramDirectory;
        _port = FreshPort.Candidate();
        _process = start(_port);
        _http = Client(_port);
    }

    public string RegistrarDirectory { get; }
    public string PluginsDirectory { get; }
    public string CdiRoot { get; }
    public string VramDirectory { get; }
    public Uri HttpBase => _http.BaseAddress!;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>What the process wrote to stderr and stdout so far (JSON log lines), without prefixes.</summary>
    public string Output => string.Join('\n', _process.Lines) + "\n";

    /// <summary>Starts the plugin against <paramref name="apiServer"/> (http://127.0.0.1:PORT/) with <paramref name="gpus"/> simulated GPUs.</summary>
    public static PluginProcess Start(TempDir dir, Uri apiServer, int gpus = 2, string memory = "8Mi", IEnumerable<string>? extraArgs = null)
    {
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentNullException.ThrowIfNull(apiServer);
        var registrar = dir.Sub("registry");
        var plugins = dir.Sub("plugins");
        var cdi = dir.Sub("cdi");
        var vram = dir.Sub("vram");
        var extra = extraArgs?.ToList() ?? [];
        return new PluginProcess(
            port => SecuredraProcess.Start("kubelet-plugin",
            [
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
                .. extra,
            ],
            dll: RepoPaths.TestBuildDll), // the test build: the same sources with failure injection (crash points, fault files)
            registrar, plugins, cdi, vram);
    }

    public string VramPath(string device) => Path.Combine(VramDirectory, device + ".vram");

    /// <summary>
    /// Waits until the plugin owns its HTTP port. The port was free when chosen; a parallel test may take it first, and
    /// the plugin then exits at start-up: it is started again on a fresh port (its state directories are its own, so a
    /// restart is what the kubelet would see). Every caller that waits on the plugin's work goes through this first.
    /// </summary>
    public async Task EnsureListeningAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _process.WaitUntilListeningAsync(_port);
                return;
            }
            catch (PortTakenException) when (attempt < PortAttempts)
            {
                await _process.DisposeAsync();
                _http.Dispose();
                _port = FreshPort.Candidate();
                _process = _start(_port);
                _http = Client(_port);
            }
        }
    }

    /// <summary>Waits until the plugin owns its HTTP port, then GETs /readyz until it answers 200, returning the JSON answer.</summary>
    public async Task<JsonObject> WaitReadyAsync(CancellationToken cancellationToken)
    {
        await EnsureListeningAsync();

        var last = "(no answer)";
        await Poll.UntilAsync(
            async () =>
            {
                Assert.False(_process.HasExited, $"the plugin exited ({(_process.HasExited ? _process.ExitCode : 0)}):\n{Output}");
                cancellationToken.ThrowIfCancellationRequested();
                using var response = await _http.GetAsync(new Uri("readyz", UriKind.Relative), cancellationToken);
                last = await response.Content.ReadAsStringAsync(cancellationToken);
                return response.StatusCode == HttpStatusCode.OK;
            },
            "/readyz answers 200",
            () => $"last answer: {last}\n{Output}",
            TimeSpan.FromSeconds(60));
        return JsonNode.Parse(last)!.AsObject();
    }

    public async Task<string> MetricsAsync(CancellationToken cancellationToken) =>
        await _http.GetStringAsync(new Uri("metrics", UriKind.Relative), cancellationToken);

    public Task<int> WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>SIGTERM, as the kubelet's pod shutdown does; returns the exit code.</summary>
    public Task<int> StopAsync(CancellationToken cancellationToken) => _process.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        _http.Dispose();
    }

    private static HttpClient Client(int port) =>
        new() { BaseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/"), Timeout = TimeSpan.FromSeconds(5) };
}
