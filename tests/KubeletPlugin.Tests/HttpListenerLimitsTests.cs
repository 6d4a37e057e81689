using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Network;
using SecureDra.Observability.Metrics;
using V1 = SecureDra.Protocol.Dra.V1;

namespace SecureDra.KubeletPlugin.Tests;

/// <summary>
/// The TCP probe/metrics listener has its own cap and idle timeout; the kubelet's Unix-socket connection keeps its
/// endless keep-alive (issue 11: the ten-year keep-alive applied to :8080 too, so idle connections piled up).
/// </summary>
public class HttpListenerLimitsTests
{
    [Fact]
    public async Task Idle_http_connections_are_closed_while_the_kubelets_unix_connection_stays()
    {
        await using var plugin = await TestPlugin.StartAsync(
            o => o with { HttpLimits = new ListenerLimits { MaxConnections = 64, IdleTimeout = TimeSpan.FromMilliseconds(300) } }, http: true);
        var connects = 0;
        using var channel = plugin.DraChannel(() => Interlocked.Increment(ref connects));
        var client = new V1.DRAPlugin.DRAPluginClient(channel);
        await client.NodePrepareResourcesAsync(new V1.NodePrepareResourcesRequest());

        var endpoint = IPEndPoint.Parse(plugin.Options.HttpEndpoint!);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(endpoint.Address, endpoint.Port);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            Assert.Equal(0, await tcp.GetStream().ReadAsync(new byte[1], deadline.Token));
        }
        catch (IOException)
        {
        }

        // The Unix-socket connection was idle just as long and is still the same connection.
        await client.NodePrepareResourcesAsync(new V1.NodePrepareResourcesRequest());
        Assert.Equal(1, Volatile.Read(ref connects));
        var closed = plugin.App.Services.GetRequiredService<MetricsRegistry>().Counter("securedra_listener_connections_closed_total", "ignored", "listener", "reason");
        Assert.True(closed.Value("http", "idle") >= 1);
    }

    [Fact]
    public async Task A_flood_of_idle_connections_is_held_to_the_cap_and_probes_still_answer()
    {
        const int cap = 8;
        await using var plugin = await TestPlugin.StartAsync(
            o => o with { HttpLimits = new ListenerLimits { MaxConnections = cap, IdleTimeout = TimeSpan.FromMinutes(10) } }, http: true);
        var endpoint = IPEndPoint.Parse(plugin.Options.HttpEndpoint!);
        var held = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 200; i++)
            {
                var tcp = new TcpClient();
                held.Add(tcp);
                try
                {
                    await tcp.ConnectAsync(endpoint.Address, endpoint.Port);
                }
                catch (SocketException)
                {
                    // Closed in the accept loop: the listener was at its descriptor ceiling.
                }
            }

            using var http = new HttpClient { BaseAddress = plugin.HttpBase, Timeout = TimeSpan.FromSeconds(10) };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("healthz", UriKind.Relative))).StatusCode);
            var guard = plugin.App.Services.GetRequiredService<ConnectionGuard>();
            Assert.True(guard.OpenConnections <= cap, $"{guard.OpenConnections} open, cap {cap}");
        }
        finally
        {
            held.ForEach(t => t.Dispose());
        }
    }

    [Theory]
    [InlineData(0, 30, "--http-max-connections")]
    [InlineData(8, 0, "--http-idle-timeout")]
    public void Nonsense_limits_are_refused_naming_the_flag(int maxConnections, int idleSeconds, string flag)
    {
        using var dir = TempDir.Create();
        var options = TestPlugin.DefaultOptions(dir) with
        {
            HttpEndpoint = "127.0.0.1:8080",
            HttpLimits = new ListenerLimits { MaxConnections = maxConnections, IdleTimeout = TimeSpan.FromSeconds(idleSeconds) },
        };
        var error = Assert.Single(KubeletPluginOptionsValidator.Validate(options));
        Assert.StartsWith(flag + ":", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cap_that_would_eat_the_descriptor_reserve_is_refused()
    {
        using var dir = TempDir.Create();
        var limit = DescriptorLimit.Current();
        Assert.NotNull(limit);
        // A reserve as large as the whole limit: any cap at all eats into it.
        var options = TestPlugin.DefaultOptions(dir) with
        {
            HttpEndpoint = "127.0.0.1:8080",
            DescriptorReserve = (int)Math.Min(int.MaxValue, limit.Value),
        };
        var error = Assert.Single(KubeletPluginOptionsValidator.Validate(options));
        Assert.StartsWith("--http-max-connections:", error, StringComparison.Ordinal);
        Assert.Contains("RLIMIT_NOFILE", error, StringComparison.Ordinal);
    }
}
