using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SecureDra.Api.Validation;
using SecureDra.Kube.Client;
using SecureDra.Kube.Events;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.KubeletPlugin.Tests.Pipeline;

/// <summary>The pipeline inside a real generic host, wired only through AddClaimPipeline, as the plugin command will do.</summary>
public sealed class HostWiringTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "securedra-host-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly InMemoryResourceApi _api = new();

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, true);
        }
    }

    private IHost BuildHost()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var backend = new FakeGpuBackend(Path.Combine(_root, "vram"), 3);
        builder.Services.AddOptions<KubeletPluginOptions>().Configure(o => { }); // IOptions path must work too
        builder.Services.AddSingleton(new KubeletPluginOptions
        {
            DriverName = TestClaims.Driver,
            NodeName = TestClaims.Node,
            CdiRoot = Path.Combine(_root, "cdi"),
            KubeletPluginsDirectoryPath = Path.Combine(_root, "plugins"),
        });
        builder.Services.AddSingleton<IResourceApi>(_api);
        builder.Services.AddSingleton<IKubeApiClient>(new FakeKubeApiClient());
        builder.Services.AddSingleton<IEventRecorder>(new RecordingEventRecorder());
        builder.Services.AddSingleton<IGpuBackend>(backend);
        builder.Services.AddSingleton<IVramScrubber>(new FakeScrubber(backend));
        builder.Services.AddSingleton<IGpuConfigValidator>(new FakeConfigValidator());
        builder.Services.AddClaimPipeline(new ClaimPipelineOptions { BootIdPath = Path.Combine(_root, "boot_id"), KubernetesMinorVersion = 35 });
        return builder.Build();
    }

    [Fact]
    public async Task Host_starts_publishes_and_serves_claims()
    {
        using var host = BuildHost();
        await host.StartAsync();
        try
        {
            await Poll.UntilAsync(() => _api.Slices.Count == 1, "slices published by the hosted publisher");
            Assert.Equal(3, _api.Slices[0].Devices.Count);

            _api.PutClaim(TestClaims.Allocated(1, "gpu-2"));
            var pipeline = host.Services.GetRequiredService<IClaimPipeline>();
            var prepared = await pipeline.PrepareAsync([TestClaims.Ref(1)], CancellationToken.None);
            Assert.Null(prepared[TestClaims.Uid(1)].Error);
            var released = await pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None);
            Assert.Null(released[TestClaims.Uid(1)].Error);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task Corrupt_checkpoint_stops_the_host_from_starting()
    {
        var dataDir = Path.Combine(_root, "plugins", TestClaims.Driver);
        Directory.CreateDirectory(dataDir);
        await File.WriteAllTextAsync(Path.Combine(dataDir, "checkpoint.json"), "SECUREDRA-CHECKPOINT 1 sha256=00 bytes=2\n{}");

        using var host = BuildHost();
        var ex = await Assert.ThrowsAsync<CheckpointCorruptException>(() => host.StartAsync());
        Assert.Contains("checkpoint.json", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_api.Slices);
    }
}
