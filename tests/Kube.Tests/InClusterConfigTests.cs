using Microsoft.Extensions.Time.Testing;
using SecureDra.Kube.Client;
using SecureDra.Kube.Config;

namespace SecureDra.Kube.Tests;

public sealed class InClusterConfigTests : IDisposable
{
    private readonly TempDir _sa = new();
    private readonly TestCertificates _certs = new();

    public void Dispose()
    {
        _sa.Dispose();
        _certs.Dispose();
    }

    private static Func<string, string?> Env(string? host = "10.96.0.1", string? port = "443") =>
        name => name switch
        {
            "KUBERNETES_SERVICE_HOST" => host,
            "KUBERNETES_SERVICE_PORT" => port,
            _ => null,
        };

    [Fact]
    public async Task Service_account_directory_gives_server_ca_token_and_namespace()
    {
        _sa.Write("token", "sa-token-1");
        _sa.Write("ca.crt", _certs.CaPem);
        _sa.Write("namespace", "securedra\n");

        using var settings = InClusterConfig.Load(_sa.Path, Env());

        Assert.Equal(new Uri("https://10.96.0.1:443"), settings.Server);
        Assert.Equal(_certs.Ca.Thumbprint, Assert.Single(settings.CertificateAuthorities!).Thumbprint);
        Assert.False(settings.InsecureSkipTlsVerify);
        Assert.Equal("securedra", settings.Namespace);
        Assert.Equal("sa-token-1", await settings.TokenSource!.GetTokenAsync(CancellationToken.None));
    }

    [Fact]
    public void Ipv6_service_host_is_bracketed()
    {
        _sa.Write("token", "t");
        _sa.Write("ca.crt", _certs.CaPem);

        using var settings = InClusterConfig.Load(_sa.Path, Env("fd00::1", "6443"));

        Assert.Equal("https://[fd00::1]:6443/", settings.Server.ToString());
    }

    [Fact]
    public async Task Rotated_token_is_picked_up_after_the_refresh_interval()
    {
        var time = new FakeTimeProvider();
        var path = _sa.Write("token", "old");
        using var source = new FileTokenSource(path, TimeSpan.FromMinutes(1), time);

        Assert.Equal("old", await source.GetTokenAsync(CancellationToken.None));
        File.WriteAllText(path, "new");
        Assert.Equal("old", await source.GetTokenAsync(CancellationToken.None));
        time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal("new", await source.GetTokenAsync(CancellationToken.None));

        File.Delete(path);
        time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal("new", await source.GetTokenAsync(CancellationToken.None));
    }

    [Fact]
    public void Outside_a_pod_the_error_says_to_pass_a_kubeconfig()
    {
        var ex = Assert.Throws<KubeConfigException>(() => InClusterConfig.Load(_sa.Path, Env(host: null)));

        Assert.Contains("KUBERNETES_SERVICE_HOST", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--kubeconfig", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("token", "ca.crt")]
    [InlineData("ca.crt", "token")]
    public void Missing_service_account_files_are_named(string present, string missing)
    {
        _sa.Write(present, present == "ca.crt" ? _certs.CaPem : "t");

        var ex = Assert.Throws<KubeConfigException>(() => InClusterConfig.Load(_sa.Path, Env()));

        Assert.Contains(Path.Combine(_sa.Path, missing), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_port_is_rejected()
    {
        _sa.Write("token", "t");
        _sa.Write("ca.crt", _certs.CaPem);

        Assert.Contains("KUBERNETES_SERVICE_PORT", Assert.Throws<KubeConfigException>(() => InClusterConfig.Load(_sa.Path, Env(port: "https"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_cluster_client_trusts_only_ca_crt_and_sends_the_file_token()
    {
        var (serverCert, _, _) = _certs.Issue("apiserver", server: true);
        using var serverCertificate = serverCert;
        await using var server = await TestApiServer.StartAsync(ctx => TestApiServer.WriteJsonAsync(ctx, 200, """{"major":"1","minor":"33"}"""), serverCertificate);
        _sa.Write("token", "bound-token");
        _sa.Write("ca.crt", _certs.CaPem);

        using var settings = InClusterConfig.Load(_sa.Path, Env("127.0.0.1", server.Url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        using var client = KubeApiClientFactory.Create(settings);
        var version = await KubernetesVersion.ReadAsync(client, CancellationToken.None);

        Assert.Equal("1.33", version!.ToString());
        Assert.Equal("Bearer bound-token", Assert.Single(server.Requests).Authorization);
    }
}
