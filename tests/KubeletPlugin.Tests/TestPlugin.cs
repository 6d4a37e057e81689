using System.Net;
using System.Net.Sockets;
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
        dir ??= TempDir.Create();
        var options = DefaultOptions(dir);
        if (http)
        {
            options = options with { HttpEndpoint = $"127.0.0.1:{FreePort()}" };
        }

        options = adjust?.Invoke(options) ?? options;
        var app = KubeletPluginHost.Build(options, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Services.AddSingleton<IClaimPipeline, NotImplementedClaimPipeline>(); // a test's own registration below wins
            configure?.Invoke(builder);
        });
        await app.StartAsync();
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

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A short, unique directory under /tmp, removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    private TempDir(string path) => Path = path;

    public string Path { get; }

    public static TempDir Create()
    {
        var path = System.IO.Path.Combine("/tmp", "sdra-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(path);
        return new TempDir(path);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
