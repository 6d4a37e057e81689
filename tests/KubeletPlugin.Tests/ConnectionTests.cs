using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SecureDra.Protocol.Registration;
using V1 = SecureDra.Protocol.Dra.V1;

namespace SecureDra.KubeletPlugin.Tests;

public class ConnectionTests
{
    [Fact]
    public async Task Kestrel_is_configured_to_keep_idle_kubelet_connections()
    {
        await using var plugin = await TestPlugin.StartAsync();
        var kestrel = plugin.App.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value;
        Assert.Equal(TimeSpan.MaxValue, kestrel.Limits.KeepAliveTimeout); // Kestrel stores "infinite" as MaxValue
        Assert.Equal(TimeSpan.FromSeconds(60), kestrel.Limits.Http2.KeepAlivePingDelay);
        Assert.Equal(TimeSpan.FromSeconds(20), kestrel.Limits.Http2.KeepAlivePingTimeout);
    }

    [Fact]
    public async Task Idle_connection_survives_past_a_timeout_that_would_drop_it()
    {
        // Control: with a 1 s idle timeout Kestrel drops the idle connection and the client must reconnect.
        Assert.Equal(2, await ConnectionsUsedAsync(TimeSpan.FromSeconds(1)));
        // The plugin's setting (infinite): the same idle gap keeps the one connection.
        Assert.Equal(1, await ConnectionsUsedAsync(null));
    }

    private static async Task<int> ConnectionsUsedAsync(TimeSpan? idleTimeout)
    {
        await using var plugin = await TestPlugin.StartAsync(o => idleTimeout is { } t ? o with { ConnectionIdleTimeout = t } : o);
        var connects = 0;
        using var channel = plugin.DraChannel(() => Interlocked.Increment(ref connects));
        var client = new V1.DRAPlugin.DRAPluginClient(channel);
        await client.NodePrepareResourcesAsync(new V1.NodePrepareResourcesRequest());
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // Kestrel checks timeouts once a second
        await client.NodePrepareResourcesAsync(new V1.NodePrepareResourcesRequest());
        return Volatile.Read(ref connects);
    }

    [Fact]
    public async Task Each_socket_serves_only_its_own_services()
    {
        await using var plugin = await TestPlugin.StartAsync();
        using var dra = plugin.DraChannel();
        var onDra = await Assert.ThrowsAsync<RpcException>(() => new SecureDra.Protocol.Registration.Registration.RegistrationClient(dra).GetInfoAsync(new InfoRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, onDra.StatusCode);

        using var reg = plugin.RegistrationChannel();
        var onReg = await Assert.ThrowsAsync<RpcException>(() => new V1.DRAPlugin.DRAPluginClient(reg).NodePrepareResourcesAsync(new V1.NodePrepareResourcesRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, onReg.StatusCode);

        // Not served yet (another issue adds it): the kubelet's health stream gets Unimplemented, as upstream expects.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var health = new SecureDra.Protocol.Health.V1Alpha1.DRAResourceHealth.DRAResourceHealthClient(dra)
            .NodeWatchResources(new SecureDra.Protocol.Health.V1Alpha1.NodeWatchResourcesRequest(), cancellationToken: cts.Token);
        var ex = await Assert.ThrowsAsync<RpcException>(() => health.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
    }

    /// <summary>
    /// Kestrel validates <c>:authority</c> as a host name before any application code runs and resets
    /// the stream when it is a socket path (dotnet/aspnetcore #18522, #47043); there is no switch to
    /// relax it. Current kubelets send <c>localhost</c>. This pins the documented limit: such a call
    /// fails, the connection's other calls and the plugin are unaffected.
    /// </summary>
    [Fact]
    public async Task Path_like_authority_is_refused_by_kestrel_and_the_plugin_keeps_serving()
    {
        await using var plugin = await TestPlugin.StartAsync();
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(plugin.Layout.RegistrationSocketPath), ct);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        using var http = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://localhost/pluginregistration.Registration/GetInfo")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent([0, 0, 0, 0, 0]),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("TE", "trailers");
        Assert.True(request.Headers.TryAddWithoutValidation("Host", plugin.Layout.RegistrationSocketPath));
        var failure = await Record.ExceptionAsync(() => http.SendAsync(request));
        Assert.NotNull(failure);

        await SocketFileTests.AssertAnswersAsync(plugin);
    }
}
