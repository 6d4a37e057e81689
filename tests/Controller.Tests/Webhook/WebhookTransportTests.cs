using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using SecureDra.Controller.Tests.Support;
using SecureDra.Controller.Webhook;

namespace SecureDra.Controller.Tests.Webhook;

/// <summary>The webhook's HTTP and TLS behaviour over real HTTPS on 127.0.0.1; none of these reach the config validator.</summary>
public sealed class WebhookTransportTests
{
    private const string DeleteReviewOfClaim = """
        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1","operation":"DELETE",
         "kind":{"group":"resource.k8s.io","version":"v1","kind":"ResourceClaim"},
         "resource":{"group":"resource.k8s.io","version":"v1","resource":"resourceclaims"},
         "namespace":"tenant-a","name":"claim-a","object":null,"oldObject":{"metadata":{"name":"claim-a"}}}}
        """;

    [Fact]
    public async Task Delete_review_is_allowed_and_answered_as_AdmissionReview_v1()
    {
        await using var server = await WebhookServer.StartAsync();
        using var client = server.Client();
        using var response = await client.PostAsync(server.WebhookUri, WebhookServer.Json(DeleteReviewOfClaim));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var review = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal("admission.k8s.io/v1", (string?)review["apiVersion"]);
        Assert.Equal("AdmissionReview", (string?)review["kind"]);
        Assert.Equal("u-1", (string?)review["response"]!["uid"]);
        Assert.True((bool)review["response"]!["allowed"]!);
    }

    [Fact]
    public async Task Review_of_another_kind_is_allowed_without_validation()
    {
        await using var server = await WebhookServer.StartAsync();
        using var client = server.Client();
        var review = """
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-2","operation":"CREATE",
             "resource":{"group":"","version":"v1","resource":"configmaps"},"object":{"data":{"a":"b"}}}}
            """;
        using var response = await client.PostAsync(server.WebhookUri, WebhookServer.Json(review));
        Assert.True((bool)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["response"]!["allowed"]!);
    }

    [Fact]
    public async Task Status_subresource_update_is_allowed_without_validation()
    {
        await using var server = await WebhookServer.StartAsync();
        using var client = server.Client();
        var review = Claims.Review(Claims.Claim("v1", """{"bogus":true}"""), operation: "UPDATE").Replace("\"dryRun\":false", "\"dryRun\":false,\"subResource\":\"status\"", StringComparison.Ordinal);
        using var response = await client.PostAsync(server.WebhookUri, WebhookServer.Json(review));
        Assert.True((bool)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["response"]!["allowed"]!);
    }

    [Fact]
    public async Task Update_with_unchanged_spec_is_allowed_so_finalizers_can_be_removed()
    {
        await using var server = await WebhookServer.StartAsync();
        using var client = server.Client();
        var claim = Claims.Claim("v1", """{"bogus":true}""");
        using var response = await client.PostAsync(server.WebhookUri, WebhookServer.Json(Claims.Review(claim, operation: "UPDATE", oldObjectJson: claim)));
        Assert.True((bool)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["response"]!["allowed"]!);
    }

    [Fact]
    public async Task Unsupported_resource_version_is_denied_not_waved_through()
    {
        await using var server = await WebhookServer.StartAsync();
        using var client = server.Client();
        using var response = await client.PostAsync(server.WebhookUri, WebhookServer.Json(Claims.Review(Claims.Claim("v1alpha3", "{}"), version: "v1alpha3")));
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["response"]!;
        Assert.False((bool)answer["allowed"]!);
        Assert.Equal(400, (int)answer["status"]!["code"]!);
        Assert.Contains("request.resource.version", (string?)answer["status"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_without_object_is_denied_with_400_naming_the_field()
    {
        await using var server = await WebhookServer.StartAsync();
        using var client = server.Client();
        var review = Claims.Review("null");
        using var response = await client.PostAsync(server.WebhookUri, WebhookServer.Json(review));
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["response"]!;
        Assert.False((bool)answer["allowed"]!);
        Assert.Equal(400, (int)answer["status"]!["code"]!);
        Assert.Contains("request.object", (string?)answer["status"]!["message"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("[1,2,3]", "not a JSON object")]
    [InlineData("""{"apiVersion":"v1","kind":"Pod"}""", "expected kind AdmissionReview")]
    [InlineData("""{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}""", "request: required")]
    [InlineData("""{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE"}}""", "request.uid")]
    [InlineData("""{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":5}""", "request: required")]
    [InlineData("""{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","apiVersion":"x"}""", "malformed")]
    [InlineData("", "not valid JSON")]
    public async Task Malformed_review_gets_a_clear_400_and_the_server_keeps_serving(string body, string expected)
    {
        await using var server = await WebhookServer.StartAsync();
        using var client = server.Client();
        using var response = await client.PostAsync(server.WebhookUri, WebhookServer.Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var next = await client.PostAsync(server.WebhookUri, WebhookServer.Json(DeleteReviewOfClaim));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task Body_over_3_MiB_is_rejected_with_413()
    {
        await using var server = await WebhookServer.StartAsync();
        using var client = server.Client();
        var big = new string(' ', 3 * 1024 * 1024) + DeleteReviewOfClaim;
        // Expect: 100-continue (as Go's net/http can send): the server refuses on Content-Length alone, before any
        // body byte is sent, so the client reads the 413 instead of racing the server's close with its upload.
        using var request = new HttpRequestMessage(HttpMethod.Post, server.WebhookUri) { Content = WebhookServer.Json(big) };
        request.Headers.ExpectContinue = true;
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("3145728 bytes", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chunked_body_over_the_limit_is_rejected_with_413_without_a_content_length()
    {
        await using var server = await WebhookServer.StartAsync(new AdmissionWebhookOptions { MaxBodyBytes = 64 * 1024 });
        using var client = server.Client();
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(new string(' ', 200 * 1024))));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, server.WebhookUri) { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Body_exactly_at_the_limit_is_read()
    {
        var limit = 64 * 1024;
        await using var server = await WebhookServer.StartAsync(new AdmissionWebhookOptions { MaxBodyBytes = limit });
        using var client = server.Client();
        var body = DeleteReviewOfClaim + new string(' ', limit - Encoding.UTF8.GetByteCount(DeleteReviewOfClaim));
        using var response = await client.PostAsync(server.WebhookUri, WebhookServer.Json(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Http2_reviews_and_oversized_bodies_are_answered()
    {
        await using var server = await WebhookServer.StartAsync(new AdmissionWebhookOptions { MaxBodyBytes = 64 * 1024 });
        using var client = server.Client();
        using var ok = new HttpRequestMessage(HttpMethod.Post, server.WebhookUri) { Content = WebhookServer.Json(DeleteReviewOfClaim), Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var okResponse = await client.SendAsync(ok);
        Assert.Equal(HttpVersion.Version20, okResponse.Version);
        Assert.Equal(HttpStatusCode.OK, okResponse.StatusCode);

        using var big = new HttpRequestMessage(HttpMethod.Post, server.WebhookUri) { Content = WebhookServer.Json(new string(' ', 100 * 1024)), Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var bigResponse = await client.SendAsync(big);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, bigResponse.StatusCode);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/yaml")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task Wrong_content_type_is_415(string contentType)
    {
        await using var server = await WebhookServer.StartAsync();
        using var client = server.Client();
        using var content = new StringContent(DeleteReviewOfClaim, Encoding.UTF8, contentType);
        using var response = await client.PostAsync(server.WebhookUri, content);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Only_POST_is_accepted_on_the_webhook_path()
    {
        await using var server = await WebhookServer.StartAsync();
        using var client = server.Client();
        using var get = await client.GetAsync(server.WebhookUri);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        using var put = await client.PutAsync(server.WebhookUri, WebhookServer.Json(DeleteReviewOfClaim));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
    }

    [Fact]
    public async Task Probes_and_metrics_are_served_on_plain_http_only_and_the_webhook_on_https_only()
    {
        await using var server = await WebhookServer.StartAsync();
        using var https = server.Client();
        using var http = new HttpClient();
        Assert.Equal("ok\n", await http.GetStringAsync(new Uri(server.HttpUri, "/healthz")));
        var ready = await http.GetStringAsync(new Uri(server.HttpUri, "/readyz"));
        Assert.Contains("webhook certificate: valid", ready, StringComparison.Ordinal);
        using (await https.PostAsync(server.WebhookUri, WebhookServer.Json(DeleteReviewOfClaim)))
        {
        }

        var metrics = await http.GetStringAsync(new Uri(server.HttpUri, "/metrics"));
        Assert.Contains("securedra_admission_reviews_total{resource=\"resourceclaims\",operation=\"DELETE\",result=\"not-validated\"} 1", metrics, StringComparison.Ordinal);

        using var webhookOnHttp = await http.PostAsync(new Uri(server.HttpUri, "/validate"), WebhookServer.Json(DeleteReviewOfClaim));
        Assert.Equal(HttpStatusCode.NotFound, webhookOnHttp.StatusCode);
        using var metricsOnHttps = await https.GetAsync(new Uri(server.WebhookUri, "/metrics"));
        Assert.Equal(HttpStatusCode.NotFound, metricsOnHttps.StatusCode);
    }

    [Fact]
    public async Task Metrics_show_the_body_buffer_a_large_review_left_retained_and_never_more_than_two()
    {
        // A 100 000-byte limit: a body over 64 KiB grows straight into a full-size (limit + 1) buffer, which is kept.
        var webhook = new AdmissionWebhookOptions { MaxBodyBytes = 100_000 };
        await using var server = await WebhookServer.StartAsync(webhook);
        using var https = server.Client();
        using var http = new HttpClient();
        var large = new string(' ', 80_000) + DeleteReviewOfClaim;
        var expected = webhook.MaxBodyBytes + 1;

        using (var response = await https.PostAsync(server.WebhookUri, WebhookServer.Json(large)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var metrics = await http.GetStringAsync(new Uri(server.HttpUri, "/metrics"));
        Assert.Contains("# TYPE " + AdmissionBodyBuffers.RetainedBytesMetric + " gauge", metrics, StringComparison.Ordinal);
        Assert.Contains($"{AdmissionBodyBuffers.RetainedBytesMetric} {expected}\n", metrics, StringComparison.Ordinal);

        // Many large reviews at once: whatever was in flight, at most two buffers stay and the gauge says so.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var response = await https.PostAsync(server.WebhookUri, WebhookServer.Json(large));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }));
        metrics = await http.GetStringAsync(new Uri(server.HttpUri, "/metrics"));
        var line = metrics.Split('\n').Single(l => l.StartsWith(AdmissionBodyBuffers.RetainedBytesMetric + " ", StringComparison.Ordinal));
        var retained = long.Parse(line[(AdmissionBodyBuffers.RetainedBytesMetric.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retained, expected, AdmissionBodyBuffers.RetainedLimit * (long)expected);
    }

    [Fact]
    public async Task Tls_1_1_is_refused_and_tls_1_2_accepted()
    {
        await using var server = await WebhookServer.StartAsync();
#pragma warning disable SYSLIB0039 // Deliberately offering an obsolete protocol to prove the server refuses it.
        await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(server.WebhookPort, SslProtocols.Tls11));
#pragma warning restore SYSLIB0039
        Assert.Equal(SslProtocols.Tls12, await HandshakeAsync(server.WebhookPort, SslProtocols.Tls12));
    }

    [Fact]
    public async Task Slow_body_gets_408_and_the_connection_is_closed_while_the_server_keeps_serving()
    {
        await using var server = await WebhookServer.StartAsync(new AdmissionWebhookOptions { BodyReadTimeout = TimeSpan.FromMilliseconds(500) });
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, server.WebhookPort);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13 });
        var head = $"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"apiVersion\":";
        await tls.WriteAsync(Encoding.ASCII.GetBytes(head));
        await tls.FlushAsync();

        // Send nothing more: the server must answer 408 (or cut the connection) within its read deadline.
        var answer = await ReadUntilClosedAsync(tls, TimeSpan.FromSeconds(10));
        Assert.True(answer.Length == 0 || answer.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), answer);

        using var client = server.Client();
        using var next = await client.PostAsync(server.WebhookUri, WebhookServer.Json(DeleteReviewOfClaim));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task Slow_headers_are_cut_off_by_the_header_timeout()
    {
        await using var server = await WebhookServer.StartAsync(headersTimeout: TimeSpan.FromSeconds(1));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, server.WebhookPort);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" });
        await tls.WriteAsync(Encoding.ASCII.GetBytes("POST /validate HTTP/1.1\r\nHost: local"));
        await tls.FlushAsync();
        var answer = await ReadUntilClosedAsync(tls, TimeSpan.FromSeconds(10));
        Assert.True(answer.Length == 0 || answer.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), answer);
    }

    [Fact]
    public async Task Replaced_certificate_files_are_served_to_new_connections()
    {
        await using var server = await WebhookServer.StartAsync();
        var first = server.Certificate;
        using var second = TestCertificate.Create("webhook-2");
        string? seen = null;
        using (var client = server.Client(t => seen = t, first, second))
        using (var response = await client.PostAsync(server.WebhookUri, WebhookServer.Json(DeleteReviewOfClaim)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(first.Thumbprint, seen);
        }

        TestCertificate.WritePem(second, server.CertPath, server.KeyPath);
        await Poll.UntilAsync(
            async () =>
            {
                using var client = server.Client(t => seen = t, first, second);
                using var response = await client.PostAsync(server.WebhookUri, WebhookServer.Json(DeleteReviewOfClaim));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                return seen == second.Thumbprint;
            },
            "a new connection is served the replaced certificate");

        Assert.Equal(second.Thumbprint, seen);
    }

    [Fact]
    public async Task Garbage_in_the_certificate_files_keeps_the_old_certificate()
    {
        await using var server = await WebhookServer.StartAsync();
        await File.WriteAllTextAsync(server.CertPath, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");

        // The check the reload timer makes, run now instead of waiting for a tick: it must refuse the garbage.
        Assert.False(server.Services.GetRequiredService<PemCertificateReloader>().TryReload());
        string? seen = null;
        using var client = server.Client(t => seen = t);
        using var response = await client.PostAsync(server.WebhookUri, WebhookServer.Json(DeleteReviewOfClaim));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(server.Certificate.Thumbprint, seen);
    }

    private static async Task<SslProtocols> HandshakeAsync(int port, SslProtocols protocols)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", EnabledSslProtocols = protocols });
        return tls.SslProtocol;
    }

    private static async Task<string> ReadUntilClosedAsync(Stream stream, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var text = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cts.Token)) > 0)
            {
                text.Append(Encoding.ASCII.GetString(buffer, 0, read));
                if (text.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
        catch (IOException)
        {
            // Reset by the server: the connection was cut, which is an acceptable answer to a stalled client.
        }

        Assert.False(cts.IsCancellationRequested, "the server neither answered nor closed the stalled connection");
        return text.ToString();
    }
}
