using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using SecureDra.Controller.Hosting;
using SecureDra.Controller.Tests.Support;
using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Tests.Webhook;

/// <summary><c>--client-ca-file</c> over real TLS: only a client certificate from that CA gets a review answered.</summary>
public sealed class ClientCertificateTests : IDisposable
{
    private const string DeleteReview = """
        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1","operation":"DELETE",
         "resource":{"group":"resource.k8s.io","version":"v1","resource":"resourceclaims"},"namespace":"t","name":"c"}}
        """;

    private readonly TempDir _dir = new();
    private readonly X509CertificateAuthorityPair _apiServerCa = new("kube-apiserver-client-ca");
    private readonly X509CertificateAuthorityPair _otherCa = new("attacker-ca");

    private async Task<WebhookServer> StartAsync()
    {
        var bundle = _dir.File("client-ca.crt");
        await File.WriteAllTextAsync(bundle, _apiServerCa.Authority.ExportCertificatePem());
        return await WebhookServer.StartAsync(configure: o => o with { ClientCaFile = bundle });
    }

    [Fact]
    public async Task A_client_certificate_from_the_ca_is_accepted()
    {
        await using var server = await StartAsync();
        using var client = server.Client(TestCertificate.IssueClient(_apiServerCa.Authority, "kube-apiserver"));
        using var response = await client.PostAsync(server.WebhookUri, WebhookServer.Json(DeleteReview));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((bool)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["response"]!["allowed"]!);
    }

    [Fact]
    public async Task No_client_certificate_is_refused_in_the_handshake_and_counted()
    {
        await using var server = await StartAsync();
        using var client = server.Client();
        await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync(server.WebhookUri, WebhookServer.Json(DeleteReview)));
        await WaitForHandshakeFailureAsync(server);
    }

    [Fact]
    public async Task A_client_certificate_from_another_ca_is_refused()
    {
        await using var server = await StartAsync();
        using var client = server.Client(TestCertificate.IssueClient(_otherCa.Authority, "kube-apiserver"));
        await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync(server.WebhookUri, WebhookServer.Json(DeleteReview)));
        await WaitForHandshakeFailureAsync(server);

        // The server still answers its API server afterwards.
        using var good = server.Client(TestCertificate.IssueClient(_apiServerCa.Authority, "kube-apiserver"));
        using var response = await good.PostAsync(server.WebhookUri, WebhookServer.Json(DeleteReview));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_self_signed_certificate_with_the_cas_name_is_refused()
    {
        await using var server = await StartAsync();
        var impostorCa = TestCertificate.CreateAuthority("kube-apiserver-client-ca");
        using var client = server.Client(TestCertificate.IssueClient(impostorCa, "kube-apiserver"));
        await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync(server.WebhookUri, WebhookServer.Json(DeleteReview)));
    }

    [Fact]
    public async Task Without_the_flag_no_client_certificate_is_asked_for()
    {
        await using var server = await WebhookServer.StartAsync();
        using var client = server.Client();
        using var response = await client.PostAsync(server.WebhookUri, WebhookServer.Json(DeleteReview));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("missing", "does not exist")]
    [InlineData("empty", "holds no PEM certificate")]
    public void A_bad_ca_file_stops_the_start_with_one_line_naming_the_flag(string kind, string expected)
    {
        var path = _dir.File($"ca-{kind}.crt");
        if (kind == "empty")
        {
            File.WriteAllText(path, "not a certificate\n");
        }

        var cert = TestCertificate.Create("webhook");
        TestCertificate.WritePem(cert, _dir.File("tls.crt"), _dir.File("tls.key"));
        var options = new ControllerOptions
        {
            TlsCertFile = _dir.File("tls.crt"),
            TlsPrivateKeyFile = _dir.File("tls.key"),
            WebhookListen = new IPEndPoint(IPAddress.Loopback, 0),
            HttpEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
            EnableAudit = false,
            ClientCaFile = path,
        };
        var error = Assert.Throws<InvalidOperationException>(() => ControllerHost.Build(options, null, null));
        Assert.StartsWith("--client-ca-file:", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    private static async Task WaitForHandshakeFailureAsync(WebhookServer server)
    {
        var metrics = server.Services.GetRequiredService<MetricsRegistry>();
        var failures = metrics.Counter("securedra_listener_tls_handshake_failures_total", "ignored", "listener");
        await Poll.UntilAsync(() => failures.Value(ControllerHost.WebhookListener) >= 1, "the webhook counts the failed handshake");
    }

    public void Dispose()
    {
        _apiServerCa.Dispose();
        _otherCa.Dispose();
        _dir.Dispose();
    }

    private sealed class X509CertificateAuthorityPair(string name) : IDisposable
    {
        public System.Security.Cryptography.X509Certificates.X509Certificate2 Authority { get; } = TestCertificate.CreateAuthority(name);

        public void Dispose() => Authority.Dispose();
    }
}
