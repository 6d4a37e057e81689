using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SecureDra.LocalCluster.Kubelet;
using SecureDra.Protocol.Registration;
using RegistrationApi = SecureDra.Protocol.Registration.Registration;
using V1 = SecureDra.Protocol.Dra.V1;

namespace SecureDra.LocalCluster.Tests;

/// <summary>
/// A plugin that restarts deletes and re-creates its registration socket at the same path. The old file's "deleted"
/// arrives around the new file's "created"; the emulator, like the kubelet's plugin watcher, must end up holding the
/// newest plugin's registration only, with working calls, never a stale or disposed one.
/// </summary>
public sealed class KubeletEmulatorRestartTests
{
    private const string Driver = "restart.example.com";
    private const int Restarts = 60;

    [Fact]
    public async Task Registration_socket_recreated_at_the_same_path_many_times_leaves_only_the_newest_registration_working()
    {
        using var dir = new TempDir();
        var registry = Path.Combine(dir.Path, "reg");
        var plugins = Path.Combine(dir.Path, "p");
        Directory.CreateDirectory(registry);
        Directory.CreateDirectory(plugins);
        var socket = Path.Combine(registry, Driver + "-reg.sock");
        await using var emulator = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = registry });
        emulator.Start();

        GenerationPlugin? current = null;

        // Old runs whose socket file was removed under them. They keep serving (on a file no longer in the directory)
        // until the end: .NET unlinks a Unix socket's path when the socket is disposed, which would remove the newer
        // run's file at that path.
        var orphans = new List<GenerationPlugin>();
        try
        {
            for (var generation = 1; generation <= Restarts; generation++)
            {
                // Two shapes of restart: the old process is gone before the new one binds; or (a hung process whose
                // stale file a new process removes) the old one still serves while the new one binds.
                if (current is not null && generation % 2 == 0)
                {
                    await current.DisposeAsync();
                }
                else if (current is not null)
                {
                    orphans.Add(current);
                }

                File.Delete(socket);
                current = await GenerationPlugin.StartAsync(socket, Path.Combine(plugins, $"dra-{generation}.sock"), generation);

                if (generation % 3 == 0)
                {
                    // Sometimes let the emulator catch up, so that a registered plugin is what the next restart replaces.
                    await UntilNewestRegisteredAsync(emulator, socket, current);
                }
            }

            var newest = current!;
            await UntilNewestRegisteredAsync(emulator, socket, newest);
            var plugin = Assert.Single(emulator.Plugins).Value;
            Assert.Equal(newest.Endpoint, plugin.Endpoint);
            var answer = await plugin.PrepareAsync([new KubeletClaim("default", "c", "uid-1")]);
            Assert.Equal($"gen-{Restarts}", Assert.Single(answer["uid-1"].Devices).DeviceName);
            Assert.Same(plugin, await emulator.WaitForSocketAsync(socket));
        }
        finally
        {
            foreach (var orphan in orphans)
            {
                await orphan.DisposeAsync();
            }

            if (current is not null)
            {
                await current.DisposeAsync();
            }
        }
    }

    private static Task UntilNewestRegisteredAsync(KubeletEmulator emulator, string socket, GenerationPlugin newest) =>
        Poll.UntilAsync(
            async () =>
            {
                if (!emulator.Plugins.TryGetValue(socket, out var plugin) || plugin.Endpoint != newest.Endpoint)
                {
                    return false;
                }

                // A registration that is there but disposed (removed by a late event) fails here, not later.
                var answer = await plugin.PrepareAsync([new KubeletClaim("default", "probe", "uid-probe")]);
                return answer["uid-probe"].Devices.Single().DeviceName == $"gen-{newest.Generation}";
            },
            $"the emulator holds generation {newest.Generation}'s registration",
            () => "registered: " + string.Join(", ", emulator.Plugins.Select(p => p.Key + " -> " + p.Value.Endpoint))
                + "; refusals: " + string.Join("; ", emulator.Failures.Select(f => f.Key + ": " + f.Value)));

    /// <summary>One run of a DRA plugin: its registration socket (always the same path) and its own endpoint.</summary>
    private sealed class GenerationPlugin : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private GenerationPlugin(WebApplication app, string endpoint, int generation)
        {
            _app = app;
            Endpoint = endpoint;
            Generation = generation;
        }

        public string Endpoint { get; }

        public int Generation { get; }

        public static async Task<GenerationPlugin> StartAsync(string registrationSocket, string endpoint, int generation)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.Services.AddGrpc();
            builder.Services.AddSingleton(new Identity(endpoint, generation));
            builder.WebHost.ConfigureKestrel(k =>
            {
                k.ListenUnixSocket(endpoint, l => l.Protocols = HttpProtocols.Http2);
                k.ListenUnixSocket(registrationSocket, l => l.Protocols = HttpProtocols.Http2);
            });
            var app = builder.Build();
            app.MapGrpcService<RegistrationService>();
            app.MapGrpcService<DraService>();
            await app.StartAsync();
            return new GenerationPlugin(app, endpoint, generation);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private sealed record Identity(string Endpoint, int Generation);

    private sealed class RegistrationService(Identity identity) : RegistrationApi.RegistrationBase
    {
        public override Task<PluginInfo> GetInfo(InfoRequest request, ServerCallContext context)
        {
            var info = new PluginInfo { Type = "DRAPlugin", Name = Driver, Endpoint = identity.Endpoint };
            info.SupportedVersions.Add("v1.DRAPlugin");
            return Task.FromResult(info);
        }

        public override Task<RegistrationStatusResponse> NotifyRegistrationStatus(RegistrationStatus request, ServerCallContext context) =>
            Task.FromResult(new RegistrationStatusResponse());
    }

    private sealed class DraService(Identity identity) : V1.DRAPlugin.DRAPluginBase
    {
        public override Task<V1.NodePrepareResourcesResponse> NodePrepareResources(V1.NodePrepareResourcesRequest request, ServerCallContext context)
        {
            var response = new V1.NodePrepareResourcesResponse();
            foreach (var claim in request.Claims)
            {
                var answer = new V1.NodePrepareResourceResponse();
                answer.Devices.Add(new V1.Device { PoolName = "node", DeviceName = $"gen-{identity.Generation}" });
                response.Claims.Add(claim.Uid, answer);
            }

            return Task.FromResult(response);
        }
    }
}
