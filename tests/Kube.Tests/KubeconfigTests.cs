using System.Net;
using System.Text;
using SecureDra.Kube.Client;
using SecureDra.Kube.Config;

namespace SecureDra.Kube.Tests;

public sealed class KubeconfigTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly TestCertificates _certs = new();

    public void Dispose()
    {
        _dir.Dispose();
        _certs.Dispose();
    }

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static string Kubeconfig(string server, string clusterExtra = "", string user = "    token: abc") => $"""
        apiVersion: v1
        kind: Config
        current-context: dev
        contexts:
        - name: other
          context:
            cluster: nowhere
            user: nobody
        - name: dev
          context:
            cluster: c1
            user: u1
            namespace: team-a
        clusters:
        - name: c1
          cluster:
            server: {server}
        {clusterExtra}
        users:
        - name: u1
          user:
        {user}
        """;

    [Fact]
    public void Token_user_and_ca_data_are_read_from_the_current_context()
    {
        var path = _dir.Write("config", Kubeconfig("https://127.0.0.1:6443", $"    certificate-authority-data: {B64(_certs.CaPem)}"));

        using var settings = KubeconfigLoader.Load(path);

        Assert.Equal(new Uri("https://127.0.0.1:6443"), settings.Server);
        Assert.Equal("team-a", settings.Namespace);
        Assert.Equal(_certs.Ca.Thumbprint, Assert.Single(settings.CertificateAuthorities!).Thumbprint);
        Assert.IsType<StaticTokenSource>(settings.TokenSource);
        Assert.Null(settings.ClientCertificate);
        Assert.Contains("context dev", settings.Source, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_file_and_ca_file_resolve_relative_to_the_kubeconfig()
    {
        _dir.Write("ca.pem", _certs.CaPem);
        _dir.Write("token", "file-token\n");
        var path = _dir.Write("config", Kubeconfig("https://127.0.0.1:6443", "    certificate-authority: ca.pem", "    tokenFile: token"));

        using var settings = KubeconfigLoader.Load(path);

        Assert.Single(settings.CertificateAuthorities!);
        Assert.Equal("file-token", await settings.TokenSource!.GetTokenAsync(CancellationToken.None));
    }

    [Fact]
    public void Client_certificate_data_and_key_data_make_a_certificate_with_its_key()
    {
        var (cert, certPem, keyPem) = _certs.Issue("system:node:n1", server: false);
        cert.Dispose();
        var path = _dir.Write("config", Kubeconfig("https://127.0.0.1:6443", "", $"    client-certificate-data: {B64(certPem)}\n    client-key-data: {B64(keyPem)}"));

        using var settings = KubeconfigLoader.Load(path);

        Assert.NotNull(settings.ClientCertificate);
        Assert.True(settings.ClientCertificate!.HasPrivateKey);
        Assert.Null(settings.TokenSource);
    }

    [Fact]
    public void Client_certificate_without_key_names_the_missing_field()
    {
        var (cert, certPem, _) = _certs.Issue("u", server: false);
        cert.Dispose();
        _dir.Write("client.crt", certPem);
        var path = _dir.Write("config", Kubeconfig("https://127.0.0.1:6443", "", "    client-certificate: client.crt"));

        var ex = Assert.Throws<KubeConfigException>(() => KubeconfigLoader.Load(path));

        Assert.Contains("users[u1].user", ex.Message, StringComparison.Ordinal);
        Assert.Contains("client-key", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Insecure_skip_tls_verify_is_honoured()
    {
        var path = _dir.Write("config", Kubeconfig("https://127.0.0.1:6443", "    insecure-skip-tls-verify: true"));

        using var settings = KubeconfigLoader.Load(path);

        Assert.True(settings.InsecureSkipTlsVerify);
        Assert.Null(settings.CertificateAuthorities);
    }

    [Fact]
    public void Missing_server_names_the_field()
    {
        var yaml = Kubeconfig("https://x").Replace("    server: https://x", "    insecure-skip-tls-verify: true", StringComparison.Ordinal);
        var ex = Assert.Throws<KubeConfigException>(() => KubeconfigLoader.Load(_dir.Write("config", yaml)));

        Assert.Contains("clusters[c1].cluster.server is not set", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("current-context: dev", "current-context: ''", "current-context is not set")]
    [InlineData("current-context: dev", "current-context: prod", "contexts has no entry named prod")]
    [InlineData("cluster: c1", "cluster: c2", "clusters has no entry named c2")]
    [InlineData("    token: abc", "    exec: {command: aws}", "users[u1].user.exec.apiVersion is not set")]
    [InlineData("    token: abc", "    auth-provider: {name: gcp}", "users[u1].user.auth-provider is not supported")]
    [InlineData("    token: abc", "    tokenFile: missing-token", "tokenFile")]
    public void Broken_kubeconfigs_give_errors_that_name_the_field(string find, string replace, string expected)
    {
        var yaml = Kubeconfig("https://127.0.0.1:6443").Replace(find, replace, StringComparison.Ordinal);

        var ex = Assert.Throws<KubeConfigException>(() => KubeconfigLoader.Load(_dir.Write("config", yaml)));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_and_invalid_yaml_are_clear_errors()
    {
        Assert.Contains("does not exist", Assert.Throws<KubeConfigException>(() => KubeconfigLoader.Load(Path.Combine(_dir.Path, "nope"))).Message, StringComparison.Ordinal);
        Assert.Contains("is a directory, not a file", Assert.Throws<KubeConfigException>(() => KubeconfigLoader.Load(_dir.Path)).Message, StringComparison.Ordinal);
        Assert.Contains("invalid YAML", Assert.Throws<KubeConfigException>(() => KubeconfigLoader.Load(_dir.Write("bad", "a: [b"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_ca_data_is_a_clear_error()
    {
        var path = _dir.Write("config", Kubeconfig("https://127.0.0.1:6443", "    certificate-authority-data: '!!notbase64'"));

        var ex = Assert.Throws<KubeConfigException>(() => KubeconfigLoader.Load(path));

        Assert.Contains("certificate-authority-data", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plain_http_server_is_fine_on_loopback_but_not_with_credentials_elsewhere()
    {
        using var local = KubeconfigLoader.Load(_dir.Write("local", Kubeconfig("http://127.0.0.1:8080")));
        Assert.Equal(new Uri("http://127.0.0.1:8080"), local.Server);

        var ex = Assert.Throws<KubeConfigException>(() => KubeconfigLoader.Load(_dir.Write("remote", Kubeconfig("http://10.0.0.1:8080"))));
        Assert.Contains("plain http", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Factory_accepts_a_plain_server_url_for_the_local_api_server()
    {
        await using var server = await TestApiServer.StartAsync(ctx => TestApiServer.WriteJsonAsync(ctx, 200, """{"kind":"APIGroup","versions":[]}"""));
        using var client = KubeApiClientFactory.Create(server.Url.ToString().TrimEnd('/'));

        Assert.NotNull(await client.GetPathAsync("/apis/resource.k8s.io", CancellationToken.None));
        Assert.Equal("", Assert.Single(server.Requests).Authorization);
    }

    [Fact]
    public async Task Tls_with_the_kubeconfig_ca_as_only_trust_anchor_reaches_the_server()
    {
        var (serverCert, _, _) = _certs.Issue("apiserver", server: true);
        using var serverCertificate = serverCert;
        await using var server = await TestApiServer.StartAsync(ctx => TestApiServer.WriteJsonAsync(ctx, 200, """{"kind":"Node","metadata":{"name":"n1"}}"""), serverCertificate);
        var path = _dir.Write("config", Kubeconfig(server.Url.ToString(), $"    certificate-authority-data: {B64(_certs.CaPem)}"));

        using var client = KubeApiClientFactory.Create(path);
        var node = await client.GetAsync(KubeResource.Nodes, null, "n1", CancellationToken.None);

        Assert.Equal("n1", (string?)node!["metadata"]!["name"]);
        Assert.Equal("Bearer abc", Assert.Single(server.Requests).Authorization);
    }

    [Fact]
    public async Task Tls_server_signed_by_another_ca_is_refused()
    {
        using var otherCa = new TestCertificates("other-ca");
        var (serverCert, _, _) = otherCa.Issue("apiserver", server: true);
        using var serverCertificate = serverCert;
        await using var server = await TestApiServer.StartAsync(ctx => TestApiServer.WriteJsonAsync(ctx, 200, "{}"), serverCertificate);
        var path = _dir.Write("config", Kubeconfig(server.Url.ToString(), $"    certificate-authority-data: {B64(_certs.CaPem)}"));

        using var client = KubeApiClientFactory.Create(path);
        var ex = await Assert.ThrowsAsync<KubeApiException>(() => client.GetAsync(KubeResource.Nodes, null, "n1", CancellationToken.None));

        Assert.Equal((HttpStatusCode)0, ex.StatusCode);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Client_certificate_from_the_kubeconfig_is_presented_over_tls()
    {
        var (serverCert, _, _) = _certs.Issue("apiserver", server: true);
        using var serverCertificate = serverCert;
        var (clientCert, clientPem, clientKey) = _certs.Issue("system:node:node-a", server: false);
        clientCert.Dispose();
        await using var server = await TestApiServer.StartAsync(ctx => TestApiServer.WriteJsonAsync(ctx, 200, "{}"), serverCertificate, requireClientCertificate: true);
        var path = _dir.Write("config", Kubeconfig(
            server.Url.ToString(),
            $"    certificate-authority-data: {B64(_certs.CaPem)}",
            $"    client-certificate-data: {B64(clientPem)}\n    client-key-data: {B64(clientKey)}"));

        using var client = KubeApiClientFactory.Create(path);
        await client.GetPathAsync("/version", CancellationToken.None);

        Assert.Equal("CN=system:node:node-a", Assert.Single(server.Requests).ClientCertificateSubject);
    }
}
