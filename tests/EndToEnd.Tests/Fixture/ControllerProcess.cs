using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SecureDra.EndToEnd.Tests.Fixture;

/// <summary>
/// The real <c>securedra controller</c> as its own process, webhook only (no auditor, no election), with a fresh
/// self-signed serving certificate for 127.0.0.1, on loopback ports.
/// </summary>
internal sealed class ControllerProcess : IAsyncDisposable
{
    private readonly TempDir _dir;

    private ControllerProcess(TempDir dir, X509Certificate2 certificate, SecuredraProcess process, int webhookPort, int httpPort)
    {
        _dir = dir;
        Certificate = certificate;
        Process = process;
        WebhookUri = new Uri($"https://127.0.0.1:{webhookPort}/validate");
        HttpBase = new Uri($"http://127.0.0.1:{httpPort}/");
        WebhookPort = webhookPort;
    }

    public X509Certificate2 Certificate { get; }
    public SecuredraProcess Process { get; }
    public Uri WebhookUri { get; }
    public Uri HttpBase { get; }
    public int WebhookPort { get; }

    public static async Task<ControllerProcess> StartAsync(IReadOnlyList<string>? extraArgs = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var dir = TempDir.Create("sdc");
        var certificate = CreateCertificate();
        var certPath = dir.File("tls.crt");
        var keyPath = dir.File("tls.key");
        await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
        using (var key = certificate.GetECDsaPrivateKey()!)
        {
            await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());
        }

        // Fresh ports proven the controller's own through /proc (a port a parallel test took first: started again on others).
        var (process, ports) = await FreshPort.StartAsync(
            2,
            p => SecuredraProcess.Start("controller",
            [
                "controller", "--tls-cert-file", certPath, "--tls-private-key-file", keyPath, "--audit-interval", "0", "--leader-election", "false",
                "--webhook-listen", $"127.0.0.1:{p[0]}", "--http-endpoint", $"127.0.0.1:{p[1]}", "--log-format", "json", .. extraArgs ?? [],
            ], environment),
            p => p,
            TimeSpan.FromSeconds(60));
        var (webhookPort, httpPort) = (ports[0], ports[1]);
        var controller = new ControllerProcess(dir, certificate, process, webhookPort, httpPort);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await Poll.UntilAsync(
                async () =>
                {
                    Assert.False(process.HasExited, $"the controller exited with {(process.HasExited ? process.ExitCode : 0)}\n{process.Output}");
                    using var response = await http.GetAsync(new Uri(controller.HttpBase, "readyz"));
                    return response.StatusCode == HttpStatusCode.OK;
                },
                "the controller's /readyz is 200",
                () => process.Output,
                TimeSpan.FromSeconds(60));
            return controller;
        }
        catch
        {
            await controller.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client that trusts exactly the controller's certificate.</summary>
    public HttpClient WebhookClient()
    {
        var thumbprint = Certificate.Thumbprint;
        var handler = new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == thumbprint },
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Resident set size of the controller process, from /proc.</summary>
    public long ResidentBytes() => ProcessStatus.ResidentBytes(Process.Id);

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        Certificate.Dispose();
        _dir.Dispose();
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=securedra-controller", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddHours(1));
    }
}
