using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using System.Text.Json.Nodes;
using SecureDra.EndToEnd.Tests.Fixture;

namespace SecureDra.EndToEnd.Tests;

/// <summary>
/// Issue 11, items 1–3, against the real binaries as an attacker inside the cluster would try them: any pod can reach
/// the controller's webhook and the plugin's HTTP port. Loopback only, bounded loops, every wait has a deadline.
/// </summary>
public class NetworkSurfaceTests
{
    private const string DeleteReview = """
        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1","operation":"DELETE",
         "resource":{"group":"resource.k8s.io","version":"v1","resource":"resourceclaims"},"namespace":"t","name":"c"}}
        """;

    [Fact]
    public async Task Attacker_chosen_label_values_keep_the_controllers_memory_and_metrics_bounded()
    {
        await using var controller = await ControllerProcess.StartAsync();
        using var client = controller.WebhookClient();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using (var warm = await client.PostAsync(controller.WebhookUri, Json(DeleteReview)))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        var before = controller.ResidentBytes();

        // As in the report: 60 reviews of a resource the webhook does not validate, each with a unique 2.5 MiB name.
        var filler = new string('x', 5 * 512 * 1024);
        for (var i = 0; i < 60; i++)
        {
            var review = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u" + i +
                "\",\"operation\":\"OP-" + i + "\",\"resource\":{\"group\":\"evil.example\",\"version\":\"v1\",\"resource\":\"r" + i + filler + "\"}}}";
            using var response = await client.PostAsync(controller.WebhookUri, Json(review));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var metrics = await http.GetStringAsync(new Uri(controller.HttpBase, "metrics"));
        var after = controller.ResidentBytes();

        var series = metrics.Split('\n').Where(l => l.StartsWith("securedra_admission_reviews_total{", StringComparison.Ordinal)).ToList();
        Assert.True(series.Count <= 2, string.Join('\n', series));
        Assert.Contains("securedra_admission_reviews_total{resource=\"other\",operation=\"other\",result=\"not-validated\"} 60", metrics, StringComparison.Ordinal);
        Assert.True(metrics.Length < 64 * 1024, $"/metrics is {metrics.Length} bytes");
        // The report saw 63 MiB become 545 MiB (and 1.6 GiB after a scrape); the chart's limit is 256 Mi. Parsing sixty
        // 2.5 MiB bodies may leave some garbage behind, but nothing is kept per review.
        Assert.True(after - before < 160L * 1024 * 1024, $"RSS grew from {before >> 20} MiB to {after >> 20} MiB");
    }

    [Fact]
    public async Task Idle_and_half_open_connections_held_against_the_webhook_do_not_fail_real_reviews()
    {
        // The cap comes from the environment variable, as the chart sets it.
        await using var controller = await ControllerProcess.StartAsync(environment: new Dictionary<string, string> { ["WEBHOOK_MAX_CONNECTIONS"] = "64" });
        var held = new List<IDisposable>();
        try
        {
            // Ten times the cap: half finish a TLS handshake and then idle, half never start one.
            for (var i = 0; i < 640; i++)
            {
                var tcp = new TcpClient();
                held.Add(tcp);
                if (!await ConnectAsync(tcp, controller.WebhookPort))
                {
                    continue;
                }

                if (i % 2 == 0)
                {
                    var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
                    held.Add(tls);
                    try
                    {
                        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1", EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13 });
                    }
                    catch (Exception e) when (e is IOException or AuthenticationException)
                    {
                        // Evicted by a later connection before its handshake finished.
                    }
                }
            }

            using var client = controller.WebhookClient();
            for (var i = 0; i < 20; i++)
            {
                using var response = await client.PostAsync(controller.WebhookUri, Json(DeleteReview));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.True((bool)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["response"]!["allowed"]!);
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var metrics = await http.GetStringAsync(new Uri(controller.HttpBase, "metrics"));
            // Closed by the server: evicted for a newer one, or refused in the accept loop while the thread pool lagged.
            var closed = Value(metrics, "securedra_listener_connections_closed_total{listener=\"webhook\",reason=\"evicted\"}")
                + Value(metrics, "securedra_listener_connections_closed_total{listener=\"webhook\",reason=\"refused\"}");
            Assert.True(closed >= 500, $"closed {closed}\n{metrics}");
            Assert.True(Value(metrics, "securedra_listener_open_connections{listener=\"webhook\"}") <= 64);
        }
        finally
        {
            held.ForEach(h => h.Dispose());
        }
    }

    [Fact]
    public async Task A_flood_on_the_plugins_http_port_never_makes_prepare_unprepare_or_the_probes_fail_under_a_low_descriptor_limit()
    {
        const int limit = 512;
        await using var node = await E2eNode.StartAsync(new NodeOptions { PluginNoFileLimit = limit });
        Assert.Equal(limit, ProcessStatus.NoFileLimit(node.Plugin.Id));
        await node.CreateDeviceClassAsync("gpu");

        var held = new List<TcpClient>();
        try
        {
            // Three times the descriptor limit in idle connections, all held while the kubelet works.
            for (var i = 0; i < limit * 3; i++)
            {
                var tcp = new TcpClient();
                held.Add(tcp);
                await ConnectAsync(tcp, node.HttpPort);
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            for (var round = 0; round < 3; round++)
            {
                var claim = await node.ClaimDeviceAsync($"flood-{round}", $"gpu-{round % 2}");
                await node.PrepareOkAsync(claim);
                using (var healthz = await http.GetAsync(new Uri($"http://127.0.0.1:{node.HttpPort}/healthz")))
                {
                    Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
                }

                await node.UnprepareOkAsync(claim);
            }

            Assert.True(ProcessStatus.OpenDescriptors(node.Plugin.Id) < limit, $"{ProcessStatus.OpenDescriptors(node.Plugin.Id)} descriptors open");
            var metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{node.HttpPort}/metrics"));
            Assert.True(Value(metrics, "securedra_listener_open_connections{listener=\"http\"}") <= 64);
            Assert.True(Value(metrics, "securedra_listener_connections_closed_total{listener=\"http\",reason=\"evicted\"}")
                + Value(metrics, "securedra_listener_connections_closed_total{listener=\"http\",reason=\"refused\"}") > 0);
            Assert.False(node.Plugin.Output.Contains("Too many open files", StringComparison.Ordinal), node.Plugin.Output);
        }
        finally
        {
            held.ForEach(t => t.Dispose());
        }
    }

    [Theory]
    [InlineData("controller", "--webhook-max-connections", "0", "--webhook-max-connections:")]
    [InlineData("controller", "--webhook-idle-timeout", "soon", "--webhook-idle-timeout:")]
    [InlineData("controller", "--http-max-connections", "-1", "--http-max-connections:")]
    [InlineData("controller", "--client-ca-file", "/nonexistent/ca.crt", "--client-ca-file:")]
    [InlineData("kubelet-plugin", "--http-max-connections", "many", "--http-max-connections:")]
    [InlineData("kubelet-plugin", "--http-idle-timeout", "0s", "--http-idle-timeout:")]
    public async Task Bad_network_flags_stop_the_start_with_one_line_and_exit_2(string subcommand, string flag, string value, string expected)
    {
        var args = subcommand == "controller"
            ? new List<string> { "controller", "--tls-cert-file", "/nonexistent/tls.crt", "--tls-private-key-file", "/nonexistent/tls.key", "--audit-interval", "0", flag, value }
            : ["kubelet-plugin", "--node-name", "n1", "--gpu-backend", "simulated", "--kubeconfig", "http://127.0.0.1:9", "--http-endpoint", "127.0.0.1:9", flag, value];
        await using var process = SecuredraProcess.Start(subcommand, args);
        await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, process.ExitCode);
        Assert.Contains(expected, process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connection_cap_above_the_descriptor_limit_is_refused_at_start()
    {
        await using var process = SecuredraProcess.Start("kubelet-plugin",
            ["kubelet-plugin", "--node-name", "n1", "--gpu-backend", "simulated", "--kubeconfig", "http://127.0.0.1:9", "--http-endpoint", "127.0.0.1:9", "--http-max-connections", "1000"],
            noFileLimit: 1024);
        await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, process.ExitCode);
        Assert.Contains("--http-max-connections:", process.Output, StringComparison.Ordinal);
        Assert.Contains("RLIMIT_NOFILE", process.Output, StringComparison.Ordinal);
    }

    /// <summary>An attacker's connect: the server may close it in its accept loop before the client sees it open.</summary>
    private static async Task<bool> ConnectAsync(TcpClient tcp, int port)
    {
        try
        {
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static double Value(string metrics, string series)
    {
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
