using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SecureDra.Controller.Hosting;
using SecureDra.Controller.Webhook;

namespace SecureDra.Controller.Tests.Support;

/// <summary>The real controller host on 127.0.0.1 (HTTPS webhook and HTTP probes on ephemeral ports), webhook-only.</summary>
internal sealed class WebhookServer : IAsyncDisposable
{
    private readonly TempDir _dir = new();
    private WebApplication? _app;

    public string CertPath => _dir.File("tls.crt");
    public string KeyPath => _dir.File("tls.key");
    public X509Certificate2 Certificate { get; private set; } = null!;
    public Uri WebhookUri { get; private set; } = null!;
    public Uri HttpUri { get; private set; } = null!;
    public int WebhookPort => WebhookUri.Port;

    public IServiceProvider Services => _app!.Services;

    public static async Task<WebhookServer> StartAsync(AdmissionWebhookOptions? webhook = null, TimeSpan? headersTimeout = null, Func<ControllerOptions, ControllerOptions>? configure = null)
    {
        var server = new WebhookServer();
        server.Certificate = TestCertificate.Create("webhook-1");
        TestCertificate.WritePem(server.Certificate, server.CertPath, server.KeyPath);
        var options = new ControllerOptions
        {
            TlsCertFile = server.CertPath,
            TlsPrivateKeyFile = server.KeyPath,
            WebhookListen = new IPEndPoint(IPAddress.Loopback, 0),
            HttpEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
            CertificateReloadInterval = TimeSpan.FromMilliseconds(100),
            RequestHeadersTimeout = headersTimeout ?? TimeSpan.FromSeconds(10),
            EnableAudit = false,
            Webhook = webhook ?? new AdmissionWebhookOptions(),
        };
        if (configure is not null)
        {
            options = configure(options);
        }

        server._app = ControllerHost.Build(options, kubeClient: null, eventRecorder: null, logging => logging.ClearProviders().SetMinimumLevel(LogLevel.Warning));
        await server._app.StartAsync();
        var addresses = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        server.WebhookUri = new Uri(addresses.Single(a => a.StartsWith("https://", StringComparison.Ordinal)) + "/validate");
        server.HttpUri = new Uri(addresses.Single(a => a.StartsWith("http://", StringComparison.Ordinal)));
        return server;
    }

    /// <summary>A client that trusts exactly the certificates passed (pinning), and records what the server presented.</summary>
    public HttpClient Client(Action<string>? seenThumbprint = null, params X509Certificate2[] trusted) => Client(clientCertificate: null, seenThumbprint, trusted);

    /// <summary>As <see cref="Client(Action{string}?, X509Certificate2[])"/>, presenting <paramref name="clientCertificate"/> when the server asks for one.</summary>
    public HttpClient Client(X509Certificate2? clientCertificate, Action<string>? seenThumbprint = null, params X509Certificate2[] trusted)
    {
        var pins = (trusted.Length == 0 ? [Certificate] : trusted).Select(c => c.Thumbprint).ToHashSet(StringComparer.Ordinal);
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.Zero,
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, cert, _, _) =>
                {
                    if (cert is null)
                    {
                        return false;
                    }

                    var thumbprint = cert.GetCertHashString();
                    seenThumbprint?.Invoke(thumbprint);
                    return pins.Contains(thumbprint);
                },
            },
        };
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(15) };
    }

    public static HttpContent Json(string json) => new StringContent(json, System.Text.Encoding.UTF8, "application/json");

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _dir.Dispose();
    }
}
