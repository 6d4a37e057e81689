using Microsoft.Extensions.Time.Testing;
using SecureDra.Kube.Client;
using SecureDra.Kube.Config;

namespace SecureDra.Kube.Tests;

/// <summary>KUBECONFIG lists merged with kubectl's rules, token files that rotate, and hostile YAML.</summary>
public sealed class KubeconfigMergeTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_first_file_to_set_a_name_wins_and_current_context_comes_from_the_first_file_that_sets_it()
    {
        Directory.CreateDirectory(Path.Combine(_dir.Path, "team"));
        _dir.Write("team/token", "team-token");
        var first = _dir.Write("first", """
            apiVersion: v1
            kind: Config
            clusters:
            - name: prod
              cluster: {server: "https://first.example:6443", insecure-skip-tls-verify: true}
            """);
        var second = _dir.Write("team/second", """
            apiVersion: v1
            kind: Config
            current-context: ops
            contexts:
            - name: ops
              context: {cluster: prod, user: ops, namespace: gpu-team}
            clusters:
            - name: prod
              cluster: {server: "https://second.example:6443"}
            users:
            - name: ops
              user: {tokenFile: token}
            """);
        var third = _dir.Write("third", """
            current-context: other
            contexts:
            - name: ops
              context: {cluster: nowhere, user: nobody}
            """);

        using var settings = KubeconfigLoader.LoadMerged([first, Path.Combine(_dir.Path, "missing"), "", second, third, first]);

        Assert.Equal(new Uri("https://first.example:6443"), settings.Server);
        Assert.True(settings.InsecureSkipTlsVerify);
        Assert.Equal("gpu-team", settings.Namespace);
        // tokenFile is relative to the file that defined the user (team/), not to the first file.
        Assert.Equal(Path.Combine(_dir.Path, "team", "token"), Assert.IsType<FileTokenSource>(settings.TokenSource).Path);
        Assert.Contains("context ops", settings.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void The_factory_splits_a_colon_separated_list_and_fails_only_when_no_file_exists()
    {
        var only = _dir.Write("only", """
            current-context: c
            contexts: [{name: c, context: {cluster: c}}]
            clusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]
            """);

        using var settings = KubeApiClientFactory.LoadSettings($"{Path.Combine(_dir.Path, "nope")}:{only}");
        Assert.Equal(new Uri("http://127.0.0.1:1"), settings.Server);

        var ex = Assert.Throws<KubeConfigException>(() => KubeApiClientFactory.LoadSettings($"{Path.Combine(_dir.Path, "a")}:{Path.Combine(_dir.Path, "b")}"));
        Assert.StartsWith("KUBECONFIG: none of the 2 listed files exists", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("clusters: [{name: c, cluster: {server: 'http://127.0.0.1:1'}}, {name: c, cluster: {server: 'http://127.0.0.1:2'}}]", "clusters has two entries named c")]
    [InlineData("clusters: [{name: c, cluster: {server: 'http://127.0.0.1:1', proxy-url: 'http://p'}}]", "clusters[c].cluster.proxy-url is not supported")]
    [InlineData("clusters: [{name: c, cluster: {server: 'http://127.0.0.1:1', sever: x}}]", "clusters[c].cluster.sever: unknown field")]
    [InlineData("clusters: [{name: c, cluster: {server: 8080}}]", "clusters[c].cluster.server: must be a string")]
    [InlineData("clusters: [{name: c}]", "clusters[c].cluster is missing")]
    [InlineData("clusters: {c: {server: x}}", "clusters: must be a list")]
    [InlineData("clusters: [{name: c, cluster: {server: 'http://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: a, tokenFile: b}}]", "set only one of token, tokenFile and exec")]
    [InlineData("clusters: [{name: c, cluster: {server: 'http://127.0.0.1:1'}}]\nusers: [{name: u, user: {auth-provider: {name: gcp}}}]", "users[u].user.auth-provider is not supported")]
    [InlineData("kind: Secret", "kind Secret is not Config")]
    [InlineData("foo: bar", "config: foo: unknown field")]
    public void Configuration_errors_are_one_line_naming_the_field(string body, string expected)
    {
        var path = _dir.Write("config", "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n" + body + "\n");

        var ex = Assert.Throws<KubeConfigException>(() => KubeconfigLoader.Load(path));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public async Task A_token_file_that_rotates_is_re_read_after_a_minute_and_at_once_after_a_401()
    {
        var time = new FakeTimeProvider();
        var tokenPath = _dir.Write("token", "first");
        string? rejected = null;
        await using var server = await TestApiServer.StartAsync(ctx => ctx.Request.Headers.Authorization.ToString() == "Bearer " + rejected
            ? TestApiServer.WriteJsonAsync(ctx, 401, """{"kind":"Status","reason":"Unauthorized","code":401}""")
            : TestApiServer.WriteJsonAsync(ctx, 200, """{"kind":"NodeList","items":[]}"""));
        var path = _dir.Write("config", $"""
            current-context: x
            contexts: [{"{"}name: x, context: {"{"}cluster: c, user: u{"}"}{"}"}]
            clusters: [{"{"}name: c, cluster: {"{"}server: "{server.Url.ToString().TrimEnd('/')}"{"}"}{"}"}]
            users: [{"{"}name: u, user: {"{"}tokenFile: token{"}"}{"}"}]
            """);
        using var settings = KubeconfigLoader.Load(path, timeProvider: time);
        using var client = KubeApiClientFactory.Create(settings, timeProvider: time);

        await client.ListAsync(KubeResource.Nodes, null, null, CancellationToken.None);
        await File.WriteAllTextAsync(tokenPath, "second");
        await client.ListAsync(KubeResource.Nodes, null, null, CancellationToken.None);
        time.Advance(TimeSpan.FromMinutes(1));
        await client.ListAsync(KubeResource.Nodes, null, null, CancellationToken.None);
        // The server now refuses "second" (revoked); the file has already rotated to "third", within the minute.
        rejected = "second";
        await File.WriteAllTextAsync(tokenPath, "third");
        await client.ListAsync(KubeResource.Nodes, null, null, CancellationToken.None);

        Assert.Equal(["Bearer first", "Bearer first", "Bearer second", "Bearer second", "Bearer third"], server.Requests.Select(r => r.Authorization));
    }

    [Theory]
    [InlineData(20_000)]
    [InlineData(80_000)]
    public void Deeply_nested_flow_collections_are_refused_at_the_depth_limit(int depth)
    {
        var path = _dir.Write("deep", "a: " + new string('[', depth) + new string(']', depth) + "\n");

        var ex = Assert.Throws<KubeConfigException>(() => KubeconfigLoader.Load(path));

        Assert.Contains("nesting depth", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> HostileYaml => new()
    {
        "a: \"\\U8010FFFF\"",
        "a: \"\\uD800\"",
        "!<> a: b",
        "%TAG ! \n---\na: !x b",
        "%TAG !e! tag:e.com,2000:\n---\na: !f!x b",
        "a: !!binary x",
        "a: &x b\nc: *x",
        "a: [b",
        "a: {b: c",
        "- a\nb: c",
        "a:\n  - b\n c: d",
        "\"a\": 1\n\"a\": 2",
        "a: b\n---\nc: d",
        "? [a]\n: b",
        "\t a: b",
        "a: 'b",
        "%YAML 9.9\n---\na: b",
        "a: @b",
        "a: |0\n b",
        "key: \"\\x\"",
        "",
        "5",
        ".nan",
        "0x7fffffffffffffffff",
        "~",
    };

    [Theory]
    [MemberData(nameof(HostileYaml))]
    public void Hostile_yaml_is_a_KubeConfigException_and_never_another_type(string yaml)
    {
        var ex = Record.Exception(() => KubeconfigLoader.Parse(yaml, Path.Combine(_dir.Path, "config")));

        Assert.IsType<KubeConfigException>(ex);
        Assert.DoesNotContain('\n', ex.Message);
    }
}
