using SecureDra.LocalCluster.ApiServer;
using SecureDra.LocalCluster.Kubelet;

namespace SecureDra.KubeletPlugin.Tests.Memory;

/// <summary>
/// A real <c>securedra kubelet-plugin</c> process (one simulated GPU, JSON log) registered through a kubelet emulator
/// against a local API server, returned once its /readyz answers OK: the set-up the memory trims' process tests share,
/// each adding its own flags.
/// </summary>
internal sealed class ReadyPluginProcess : IAsyncDisposable
{
    private readonly TempDir _dir;
    private readonly LocalApiServer _apiServer;
    private readonly KubeletEmulator _emulator;

    private ReadyPluginProcess(TempDir dir, LocalApiServer apiServer, KubeletEmulator emulator, SecuredraProcess process, HttpClient http)
    {
        _dir = dir;
        _apiServer = apiServer;
        _emulator = emulator;
        Process = process;
        Http = http;
    }

    public SecuredraProcess Process { get; }

    /// <summary>A client of the plugin's --http-endpoint (/readyz, /metrics).</summary>
    public HttpClient Http { get; }

    public static async Task<ReadyPluginProcess> StartAsync(IEnumerable<string> extraArgs, string readyWhat)
    {
        var dir = TempDir.Create();
        var options = TestPlugin.DefaultOptions(dir);
        var apiServer = await LocalApiServer.StartAsync(new LocalApiServerOptions { Listen = "127.0.0.1:0" }, CancellationToken.None);
        var emulator = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = options.KubeletRegistrarDirectoryPath });
        SecuredraProcess? process = null;
        HttpClient? http = null;
        try
        {
            emulator.Start();
            (process, var port) = await FreshPort.StartAsync(p => SecuredraProcess.Start(
                "kubelet-plugin",
                ["kubelet-plugin", "--kubelet-registrar-directory-path", options.KubeletRegistrarDirectoryPath, "--kubelet-plugins-directory-path", options.KubeletPluginsDirectoryPath, "--log-format", "json",
                 "--kubeconfig", apiServer.BaseAddress.ToString().TrimEnd('/'), "--cdi-root", options.CdiRoot, "--http-endpoint", $"127.0.0.1:{p}",
                 "--gpu-backend", "simulated", "--simulated-gpus", "1", "--simulated-memory", "1Mi", .. extraArgs],
                new Dictionary<string, string> { ["NODE_NAME"] = "node-1" }));
            http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var client = http;
            var started = process;
            await Poll.UntilAsync(
                async () =>
                {
                    using var response = await client.GetAsync("/readyz");
                    return response.IsSuccessStatusCode;
                },
                readyWhat,
                () => started.Stderr);
            return new ReadyPluginProcess(dir, apiServer, emulator, process, http);
        }
        catch
        {
            await DisposeAllAsync(dir, apiServer, emulator, process, http);
            throw;
        }
    }

    public ValueTask DisposeAsync() => DisposeAllAsync(_dir, _apiServer, _emulator, Process, Http);

    private static async ValueTask DisposeAllAsync(TempDir dir, LocalApiServer apiServer, KubeletEmulator emulator, SecuredraProcess? process, HttpClient? http)
    {
        // In the reverse order of the start, as the tests' own using declarations did.
        http?.Dispose();
        if (process is not null)
        {
            await process.DisposeAsync();
        }

        await emulator.DisposeAsync();
        await apiServer.DisposeAsync();
        dir.Dispose();
    }
}
