using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.DependencyInjection;
using SecureDra.Controller.Hosting;
using SecureDra.Controller.Tests.Support;
using SecureDra.Network;
using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Tests.Webhook;

/// <summary>
/// Per-listener connection caps and idle timeouts on the real controller host, over real TCP and TLS on 127.0.0.1
/// (issue 11: 1 024 idle TLS connections made every real review fail).
/// </summary>
public sealed class ListenerLimitsTests
{
    private const string DeleteReview = """
        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1","operation":"DELETE",
         "resource":{"group":"resource.k8s.io","version":"v1","resource":"resourceclaims"},"namespace":"t","name":"c"}}
        """;

    [Fact]
    public async Task Idle_tls_connections_beyond_the_cap_are_evicted_and_a_real_review_still_succeeds()
    {
        const int cap = 16;
        await using var server = await WebhookServer.StartAsync(configure: o => o with
        {
            WebhookLimits = new ListenerLimits { MaxConnections = cap, IdleTimeout = TimeSpan.FromMinutes(10) },
        });
        var held = new List<(TcpClient Tcp, SslStream Tls)>();
        try
        {
            // Four times the cap, every one a completed TLS handshake that then sends nothing.
            for (var i = 0; i < cap * 4; i++)
            {
                var tcp = new TcpClient();
                try
                {
                    await tcp.ConnectAsync(IPAddress.Loopback, server.WebhookPort);
                }
                catch (SocketException)
                {
                    // Closed in the accept loop while evicted connections were still closing.
                    tcp.Dispose();
                    continue;
                }

                var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
                held.Add((tcp, tls));
                try
                {
                    await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13 });
                }
                catch (Exception e) when (e is IOException or AuthenticationException)
                {
                    // Evicted during its own handshake by a later connection: that is the point.
                }
            }

            var guard = server.Services.GetRequiredKeyedService<ConnectionGuard>(ControllerHost.WebhookListener);
            Assert.True(guard.OpenConnections <= cap, $"{guard.OpenConnections} open, cap {cap}");

            using var client = server.Client();
            for (var i = 0; i < 5; i++)
            {
                using var response = await client.PostAsync(server.WebhookUri, WebhookServer.Json(DeleteReview));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            var closed = server.Services.GetRequiredService<MetricsRegistry>().Counter("securedra_listener_connections_closed_total", "ignored", "listener", "reason");
            var gone = closed.Value(ControllerHost.WebhookListener, "evicted") + closed.Value(ControllerHost.WebhookListener, "refused");
            Assert.True(gone >= cap * 3, $"evicted or refused {gone}");
        }
        finally
        {
            foreach (var (tcp, tls) in held)
            {
                await tls.DisposeAsync();
                tcp.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_flood_on_the_webhook_port_does_not_take_the_probe_ports_slots()
    {
        await using var server = await WebhookServer.StartAsync(configure: o => o with
        {
            WebhookLimits = new ListenerLimits { MaxConnections = 8, IdleTimeout = TimeSpan.FromMinutes(10) },
            HttpLimits = new ListenerLimits { MaxConnections = 8, IdleTimeout = TimeSpan.FromMinutes(10) },
        });
        var held = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 40; i++)
            {
                var tcp = new TcpClient();
                held.Add(tcp);
                try
                {
                    await tcp.ConnectAsync(IPAddress.Loopback, server.WebhookPort);
                }
                catch (SocketException)
                {
                    // Closed in the accept loop: the listener was at its descriptor ceiling.
                }
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            Assert.Equal("ok\n", await http.GetStringAsync(new Uri(server.HttpUri, "/healthz")));
            var http1 = server.Services.GetRequiredKeyedService<ConnectionGuard>(ControllerHost.HttpListener);
            Assert.True(http1.OpenConnections <= 1, $"{http1.OpenConnections} open on the probe listener");
        }
        finally
        {
            held.ForEach(t => t.Dispose());
        }
    }

    [Fact]
    public async Task At_the_cap_held_connections_are_evicted_before_a_connection_that_carries_requests()
    {
        await using var server = await WebhookServer.StartAsync(configure: o => o with
        {
            HttpLimits = new ListenerLimits { MaxConnections = 4, IdleTimeout = TimeSpan.FromMinutes(10) },
        });
        using var scraper = new TcpClient();
        await scraper.ConnectAsync(IPAddress.Loopback, server.HttpUri.Port);
        var stream = scraper.GetStream();
        Assert.StartsWith("HTTP/1.1 200", await GetHealthzAsync(stream), StringComparison.Ordinal);

        // Twenty connections that are only held: each one past the cap evicts another held one, never the scraper's.
        var held = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                var tcp = new TcpClient();
                held.Add(tcp);
                try
                {
                    await tcp.ConnectAsync(IPAddress.Loopback, server.HttpUri.Port);
                }
                catch (SocketException)
                {
                }
            }

            // The same connection still answers.
            Assert.StartsWith("HTTP/1.1 200", await GetHealthzAsync(stream), StringComparison.Ordinal);
        }
        finally
        {
            held.ForEach(t => t.Dispose());
        }
    }

    private static async Task<string> GetHealthzAsync(NetworkStream stream)
    {
        await stream.WriteAsync("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"u8.ToArray());
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new byte[1024];
        var text = new System.Text.StringBuilder();
        // "ok\n" as a chunked body: the response ends with the zero-length chunk.
        while (!text.ToString().EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, deadline.Token);
            if (read == 0)
            {
                break;
            }

            text.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, read));
        }

        return text.ToString();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_idle_connection_is_closed_after_the_listeners_idle_timeout(bool webhook)
    {
        await using var server = await WebhookServer.StartAsync(configure: o => webhook
            ? o with { WebhookLimits = new ListenerLimits { MaxConnections = 64, IdleTimeout = TimeSpan.FromMilliseconds(300) } }
            : o with { HttpLimits = new ListenerLimits { MaxConnections = 64, IdleTimeout = TimeSpan.FromMilliseconds(300) } });
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, webhook ? server.WebhookPort : server.HttpUri.Port);
        Stream stream = tcp.GetStream();
        if (webhook)
        {
            var tls = new SslStream(stream, false, (_, _, _, _) => true);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" });
            stream = tls;
        }

        // Send nothing: the server must close it; a read then ends (0 bytes or a reset).
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            Assert.Equal(0, await stream.ReadAsync(new byte[16], deadline.Token));
        }
        catch (IOException)
        {
        }

        Assert.False(deadline.IsCancellationRequested, "the idle connection was not closed");
        var closed = server.Services.GetRequiredService<MetricsRegistry>().Counter("securedra_listener_connections_closed_total", "ignored", "listener", "reason");
        Assert.Equal(1, closed.Value(webhook ? ControllerHost.WebhookListener : ControllerHost.HttpListener, "idle"));
        await stream.DisposeAsync();
    }

    [Fact]
    public async Task A_connection_with_a_request_in_flight_is_not_closed_as_idle()
    {
        await using var server = await WebhookServer.StartAsync(configure: o => o with
        {
            WebhookLimits = new ListenerLimits { MaxConnections = 64, IdleTimeout = TimeSpan.FromSeconds(1) },
            MinRequestBodyDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(1024, TimeSpan.FromMinutes(1)),
            Webhook = o.Webhook with { BodyReadTimeout = TimeSpan.FromMinutes(1) },
        });
        var body = System.Text.Encoding.UTF8.GetBytes(DeleteReview);
        using var busyTcp = new TcpClient();
        await busyTcp.ConnectAsync(IPAddress.Loopback, server.WebhookPort);
        await using var busy = new SslStream(busyTcp.GetStream(), false, (_, _, _, _) => true);
        await busy.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" });
        await busy.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n"));
        await busy.WriteAsync(body.AsMemory(0, 10));
        await busy.FlushAsync();

        // A second connection, idle from the start: once the guard has closed it, the busy one has been idle-checked
        // past its deadline too, with its request still in flight.
        using var idleTcp = new TcpClient();
        await idleTcp.ConnectAsync(IPAddress.Loopback, server.WebhookPort);
        await using var idle = new SslStream(idleTcp.GetStream(), false, (_, _, _, _) => true);
        await idle.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" });
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            Assert.Equal(0, await idle.ReadAsync(new byte[1], deadline.Token));
        }
        catch (IOException)
        {
        }

        await busy.WriteAsync(body.AsMemory(10));
        await busy.FlushAsync();
        var buffer = new byte[4096];
        var read = await busy.ReadAsync(buffer, deadline.Token);
        Assert.StartsWith("HTTP/1.1 200", System.Text.Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 30, "--webhook-max-connections")]
    [InlineData(64, 0, "--webhook-idle-timeout")]
    public void Nonsense_limits_stop_the_start_naming_the_flag(int maxConnections, int idleSeconds, string flag)
    {
        using var dir = new TempDir();
        var cert = TestCertificate.Create("webhook");
        TestCertificate.WritePem(cert, dir.File("tls.crt"), dir.File("tls.key"));
        var options = new ControllerOptions
        {
            TlsCertFile = dir.File("tls.crt"),
            TlsPrivateKeyFile = dir.File("tls.key"),
            EnableAudit = false,
            WebhookLimits = new ListenerLimits { MaxConnections = maxConnections, IdleTimeout = TimeSpan.FromSeconds(idleSeconds) },
        };
        var error = Assert.Throws<InvalidOperationException>(() => ControllerHost.Build(options, null, null));
        Assert.StartsWith(flag + ":", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Caps_above_the_descriptor_limit_minus_the_reserve_are_refused()
    {
        static ListenerLimits Cap(int n) => new() { MaxConnections = n };
        // 512 + 128 and 64 + 32 descriptors from accept to close, plus the reserve of 128: 864.
        Assert.Null(DescriptorBudget.Check(864, 128, ("--webhook-max-connections", Cap(512)), ("--http-max-connections", Cap(64))));
        Assert.NotNull(DescriptorBudget.Check(863, 128, ("--webhook-max-connections", Cap(512)), ("--http-max-connections", Cap(64))));
        Assert.Null(DescriptorBudget.Check(null, 128, ("--webhook-max-connections", Cap(1_000_000))));
        var error = DescriptorBudget.Check(1024, 128, ("--webhook-max-connections", Cap(1000)), ("--http-max-connections", Cap(64)));
        Assert.NotNull(error);
        Assert.StartsWith("--webhook-max-connections:", error, StringComparison.Ordinal);
        Assert.Contains("1024", error, StringComparison.Ordinal);
        Assert.Contains("reserve of 128", error, StringComparison.Ordinal);
        Assert.True(DescriptorLimit.Current() is > 0, "RLIMIT_NOFILE is readable on Linux");
    }
}
