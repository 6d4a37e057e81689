using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.LocalCluster.Kubelet;

namespace SecureDra.KubeletPlugin.Tests;

/// <summary>A real plugin host on real Unix sockets in a short temp dir (socket paths must stay under 108 bytes).</summary>
public sealed class TestPlugin : IAsyncDisposable
{
    private TestPlugin(TempDir dir, KubeletPluginOptions options, WebApplication app)
    {
        Dir = dir;
        Options = options;
        App = app;
        Layout = app.Services.GetRequiredService<PluginSocketLayout>();
    }

    public TempDir Dir { get; }
    public KubeletPluginOptions Options { get; }
    public WebApplication App { get; }
    public PluginSocketLayout Layout { get; }
    public Uri? HttpBase => Options.HttpEndpoint is { } e ? new Uri($"http://{e}/") : null;

    public static KubeletPluginOptions DefaultOptions(TempDir dir) => new()
    {
        NodeName = "node-1",
        KubeletRegistrarDirectoryPath = Path.Combine(dir.Path, "reg"),
        KubeletPluginsDirectoryPath = Path.Combine(dir.Path, "plugins"),
        CdiRoot = Path.Combine(dir.Path, "cdi"),
    };

    public static async Task<TestPlugin> StartAsync(
        Func<KubeletPluginOptions, KubeletPluginOptions>? adjust = null,
        Action<WebApplicationBuilder>? configure = null,
        TempDir? dir = null,
        bool http = false)
    {
        dir ??= TempDir.Create("sdra");
        var (options, app) = await StartHostAsync(dir, http, adjust, configure);
        return new TestPlugin(dir, options, app);
    }

    public GrpcChannel DraChannel(Action? onConnect = null) => UnixSocketGrpcChannel.Create(Layout.DraSocketPath, onConnect);

    public GrpcChannel RegistrationChannel() => UnixSocketGrpcChannel.Create(Layout.RegistrationSocketPath);

    public async Task StopAsync() => await App.StopAsync();

    public async ValueTask DisposeAsync()
    {
        try
        {
            await App.StopAsync();
        }
        catch (ObjectDisposedException)
        {
        }

        await App.DisposeAsync();
        Dir.Dispose();
    }

    /// <summary>
    /// Starts the host. With <paramref name="http"/> the probe listener gets a port the kernel just gave out (the
    /// endpoint flag refuses port 0); if a parallel test takes it first, Kestrel's bind fails and the host is built
    /// again on another, so the free-port race cannot fail a test.
    /// </summary>
    private static async Task<(KubeletPluginOptions Options, WebApplication App)> StartHostAsync(
        TempDir dir, bool http, Func<KubeletPluginOptions, KubeletPluginOptions>? adjust, Action<WebApplicationBuilder>? configure)
    {
        for (var attempt = 1; ; attempt++)
        {
            var options = DefaultOptions(dir);
            if (http)
            {
                options = options with { HttpEndpoint = $"127.0.0.1:{FreshPort.Candidate()}" };
            }

            options = adjust?.Invoke(options) ?? options;
            var app = KubeletPluginHost.Build(options, builder =>
            {
                builder.Logging.ClearProviders();
                builder.Logging.SetMinimumLevel(LogLevel.Warning);
                builder.Services.AddSingleton<IClaimPipeline, NotImplementedClaimPipeline>(); // a test's own registration below wins
                configure?.Invoke(builder);
            });
            try
            {
                await app.StartAsync();
                return (options, app);
            }
            catch (IOException e) when (http && attempt < 5 && e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await app.DisposeAsync();
            }
        }
    }
}
