using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using SecureDra.Kube.Client;
using SecureDra.Kube.Config;

namespace SecureDra.Kube.Tests;

/// <summary>
/// Exec credential plugins for real: a bash script as the plugin, a real kubeconfig file, and a real HTTP server
/// that records the Authorization header it received.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ExecCredentialTests : IAsyncLifetime, IDisposable
{
    private const string V1 = "client.authentication.k8s.io/v1";

    /// <summary>Counts its runs in ./runs and answers tok-N; records KUBERNETES_EXEC_INFO, its env and args.</summary>
    private const string Plugin = """
        #!/bin/bash
        set -eu
        d="$(dirname "$0")"
        echo run >> "$d/runs"
        n="$(wc -l < "$d/runs" | tr -d ' ')"
        printf '%s' "${KUBERNETES_EXEC_INFO:-}" > "$d/info.json"
        printf '%s\n' "${GREETING:-unset}" "$@" > "$d/args.txt"
        exp=""
        if [ -f "$d/expiry" ]; then exp=",\"expirationTimestamp\":\"$(cat "$d/expiry")\""; fi
        printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"tok-%s"%s}}\n' "$API" "$n" "$exp"
        """;

    private readonly TempDir _dir = new();
    private TestApiServer _server = null!;

    public async Task InitializeAsync() => _server = await TestApiServer.StartAsync(ctx =>
        RejectFirstToken && ctx.Request.Headers.Authorization.ToString() == "Bearer tok-1"
            ? TestApiServer.WriteJsonAsync(ctx, 401, """{"kind":"Status","reason":"Unauthorized","code":401}""")
            : TestApiServer.WriteJsonAsync(ctx, 200, """{"kind":"NodeList","items":[]}"""));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _dir.Dispose();

    private bool RejectFirstToken { get; set; }

    private string Script(string name, string body)
    {
        var path = _dir.Write(name, body.ReplaceLineEndings("\n") + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private string Kubeconfig(string exec, string name = "config", string clusterExtra = "") => _dir.Write(name, $"""
        apiVersion: v1
        kind: Config
        current-context: dev
        contexts:
        - name: dev
          context: {"{"}cluster: c1, user: u1{"}"}
        clusters:
        - name: c1
          cluster:
            server: {_server.Url.ToString().TrimEnd('/')}
        {clusterExtra}
        users:
        - name: u1
          user:
            exec:
        {exec}
        """);

    private static string ExecBlock(string apiVersion = V1, string command = "./plugin.sh", string extra = "      interactiveMode: Never") => $"""
              apiVersion: {apiVersion}
              command: {command}
              args: [--region, eu-west-1]
              env:
              - {"{"}name: API, value: {apiVersion}{"}"}
              - {"{"}name: GREETING, value: "hello world"{"}"}
        {extra}
        """;

    private int Runs => File.Exists(Path.Combine(_dir.Path, "runs")) ? File.ReadAllLines(Path.Combine(_dir.Path, "runs")).Length : 0;

    private static async Task ListNodes(KubeApiClient client) => await client.ListAsync(KubeResource.Nodes, null, null, CancellationToken.None);

    [Theory]
    [InlineData(V1, "      interactiveMode: Never")]
    [InlineData(V1, "      interactiveMode: IfAvailable")]
    [InlineData("client.authentication.k8s.io/v1beta1", "")]
    public async Task The_token_the_plugin_returns_is_the_bearer_token_the_server_sees(string apiVersion, string extra)
    {
        Script("plugin.sh", Plugin);
        var path = Kubeconfig(ExecBlock(apiVersion, extra: extra));

        using var settings = KubeconfigLoader.Load(path);
        using var client = KubeApiClientFactory.Create(settings);
        await ListNodes(client);

        Assert.Equal("Bearer tok-1", Assert.Single(_server.Requests).Authorization);
        Assert.Equal(["hello world", "--region", "eu-west-1"], File.ReadAllLines(Path.Combine(_dir.Path, "args.txt")));
        var info = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir.Path, "info.json")))!;
        Assert.Equal(apiVersion, (string?)info["apiVersion"]);
        Assert.Equal("ExecCredential", (string?)info["kind"]);
        Assert.False((bool)info["spec"]!["interactive"]!);
        Assert.Null(info["spec"]!["cluster"]);
    }

    [Fact]
    public async Task ProvideClusterInfo_passes_the_server_ca_and_exec_extension_to_the_plugin()
    {
        using var certs = new TestCertificates();
        Script("plugin.sh", Plugin);
        var ca = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(certs.CaPem));
        var path = Kubeconfig(
            ExecBlock(extra: "      interactiveMode: Never\n      provideClusterInfo: true"),
            clusterExtra: $"    certificate-authority-data: {ca}\n    extensions:\n    - name: client.authentication.k8s.io/exec\n      extension: {"{"}audience: securedra{"}"}");

        using var settings = KubeconfigLoader.Load(path);
        await settings.TokenSource!.GetTokenAsync(CancellationToken.None);

        var cluster = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir.Path, "info.json")))!["spec"]!["cluster"]!;
        Assert.Equal(_server.Url.ToString().TrimEnd('/'), (string?)cluster["server"]);
        Assert.Equal(ca, (string?)cluster["certificate-authority-data"]);
        Assert.Equal("securedra", (string?)cluster["config"]!["audience"]);
    }

    [Fact]
    public async Task The_token_is_cached_until_its_expiration_timestamp_then_the_plugin_runs_again()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
        Script("plugin.sh", Plugin);
        _dir.Write("expiry", "2026-12-01T10:15:00Z");
        using var settings = KubeconfigLoader.Load(Kubeconfig(ExecBlock()), timeProvider: time);
        using var client = KubeApiClientFactory.Create(settings, timeProvider: time);

        await ListNodes(client);
        time.Advance(TimeSpan.FromMinutes(14));
        await ListNodes(client);
        Assert.Equal(1, Runs);

        time.Advance(TimeSpan.FromMinutes(2));
        await ListNodes(client);

        Assert.Equal(2, Runs);
        Assert.Equal(["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"], _server.Requests.Select(r => r.Authorization));
    }

    [Fact]
    public async Task A_401_runs_the_plugin_again_and_retries_once_with_the_new_token()
    {
        RejectFirstToken = true;
        Script("plugin.sh", Plugin);
        using var settings = KubeconfigLoader.Load(Kubeconfig(ExecBlock()));
        using var client = KubeApiClientFactory.Create(settings);

        await ListNodes(client);

        Assert.Equal(2, Runs);
        Assert.Equal(["Bearer tok-1", "Bearer tok-2"], _server.Requests.Select(r => r.Authorization));
    }

    [Fact]
    public async Task A_plugin_that_outlives_its_deadline_is_killed_and_the_request_is_not_sent()
    {
        Script("plugin.sh", """
            #!/bin/bash
            echo $$ > "$(dirname "$0")/pid"
            exec sleep 300
            """);
        using var settings = KubeconfigLoader.Load(Kubeconfig(ExecBlock()));
        var config = ((ExecTokenSource)settings.TokenSource!).Config;
        using var source = new ExecTokenSource(config, new ExecPluginLimits { Timeout = TimeSpan.FromSeconds(1) });
        using var client = new KubeApiClient(new HttpClient(), _server.Url, tokenSource: source, ownsHttpClient: true);

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => ListNodes(client));

        Assert.Equal("CredentialsUnavailable", ex.Reason);
        Assert.Contains("did not finish within 1 s and was killed", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_server.Requests);
        var pid = int.Parse(File.ReadAllText(Path.Combine(_dir.Path, "pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        // SIGKILL is sent before the error returns; the kernel ends the process a moment later (seen still running
        // under load), so wait for that, far inside the 300 s the plugin would otherwise live.
        await Poll.UntilAsync(() => !IsRunning(pid), $"the killed plugin process {pid} is gone", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Stdout_over_the_limit_fails_and_stderr_is_passed_through_bounded()
    {
        Script("plugin.sh", """
            #!/bin/bash
            head -c 100000 /dev/zero | tr '\0' 'e' >&2
            exec yes
            """);
        using var settings = KubeconfigLoader.Load(Kubeconfig(ExecBlock()));
        var config = ((ExecTokenSource)settings.TokenSource!).Config;
        using var stderr = new StringWriter();
        using var source = new ExecTokenSource(config, new ExecPluginLimits { MaxStdoutBytes = 4096, MaxStderrBytes = 1000 }, stderr: stderr);

        var ex = await Assert.ThrowsAsync<ExecCredentialException>(async () => await source.GetTokenAsync(CancellationToken.None));

        Assert.Contains("wrote more than 4096 bytes on stdout", ex.Message, StringComparison.Ordinal);
        Assert.True(stderr.ToString().Length < 1200, $"{stderr.ToString().Length} chars of stderr passed through");
    }

    [Fact]
    public async Task Stderr_is_passed_through_and_a_failing_plugin_names_its_exit_code()
    {
        Script("plugin.sh", """
            #!/bin/bash
            echo "token expired: run aws sso login" >&2
            exit 3
            """);
        using var stderr = new StringWriter();
        using var settings = KubeconfigLoader.LoadMerged([Kubeconfig(ExecBlock())], execStderr: stderr);

        var ex = await Assert.ThrowsAsync<ExecCredentialException>(async () => await settings.TokenSource!.GetTokenAsync(CancellationToken.None));

        Assert.Contains("users[u1].user.exec.command", ex.Message, StringComparison.Ordinal);
        Assert.Contains("exited with code 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("token expired: run aws sso login", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_command_names_the_field_and_the_install_hint()
    {
        var path = Kubeconfig(ExecBlock(command: "securedra-no-such-plugin", extra: "      interactiveMode: Never\n      installHint: install it with brew"));
        using var settings = KubeconfigLoader.Load(path);

        var ex = await Assert.ThrowsAsync<ExecCredentialException>(async () => await settings.TokenSource!.GetTokenAsync(CancellationToken.None));

        Assert.Contains("securedra-no-such-plugin could not be started", ex.Message, StringComparison.Ordinal);
        Assert.Contains("install it with brew", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("      interactiveMode: Always", "interactiveMode Always needs a terminal")]
    [InlineData("", "users[u1].user.exec.interactiveMode is required for client.authentication.k8s.io/v1")]
    [InlineData("      interactiveMode: Sometimes", "interactiveMode Sometimes is not Never, IfAvailable or Always")]
    [InlineData("      interactiveMode: Never\n      provideClusterInfo: maybe", "users[u1].user.exec.provideClusterInfo: must be true or false")]
    [InlineData("      interactiveMode: Never\n      stdin: true", "users[u1].user.exec.stdin: unknown field")]
    public void Exec_configuration_errors_name_the_field(string extra, string expected)
    {
        var ex = Assert.Throws<KubeConfigException>(() => KubeconfigLoader.Load(Kubeconfig(ExecBlock(extra: extra))));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Theory]
    [InlineData("client.authentication.k8s.io/v1alpha1", "exec.apiVersion client.authentication.k8s.io/v1alpha1 is not supported")]
    [InlineData("", "exec.apiVersion is not set")]
    public void Exec_api_versions_other_than_v1_and_v1beta1_are_refused(string apiVersion, string expected)
    {
        var ex = Assert.Throws<KubeConfigException>(() => KubeconfigLoader.Load(Kubeconfig(ExecBlock(apiVersion: apiVersion == "" ? "''" : apiVersion))));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}}""", "apiVersion is client.authentication.k8s.io/v1beta1, expected client.authentication.k8s.io/v1")]
    [InlineData("""{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}}""", "status.token is missing or empty")]
    [InlineData("""{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t","extra":1}}""", "status.extra: unknown field")]
    [InlineData("""{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t","token":"u"}}""", "uplicate")]
    [InlineData("""{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"\uD800"}}""", "invalid string")]
    [InlineData("""{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"tomorrow"}}""", "not an RFC 3339 time")]
    [InlineData("""{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":"x","clientKeyData":"y"}}""", "client certificates from exec plugins are not supported")]
    [InlineData("""{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"a b"}}""", "cannot go in an Authorization header")]
    [InlineData("not json", "not an ExecCredential JSON object")]
    [InlineData("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "not an ExecCredential JSON object")]
    public void Bad_plugin_output_is_refused_with_a_message_naming_the_field(string output, string expected)
    {
        var ex = Assert.Throws<ExecCredentialException>(() => ExecCredentialParser.Parse(System.Text.Encoding.UTF8.GetBytes(output), V1));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Good_plugin_output_gives_the_token_and_its_expiry()
    {
        var credential = ExecCredentialParser.Parse(
            """{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false},"status":{"token":"k8s-aws-v1.abc","expirationTimestamp":"2026-12-01T10:15:00Z"}}"""u8,
            V1);

        Assert.Equal("k8s-aws-v1.abc", credential.Token);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 10, 15, 0, TimeSpan.Zero), credential.ExpirationTimestamp);
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
