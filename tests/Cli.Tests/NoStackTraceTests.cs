namespace SecureDra.Cli.Tests;

/// <summary>
/// The real binary over bad invocations of every subcommand: bad kubeconfig shapes, an unreachable server, bad
/// flags. Each must end with one line on stderr and the documented exit code (2 for usage and configuration
/// errors; never 1, which means findings or validation failures), and no stack trace anywhere in the output.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NoStackTraceTests : IDisposable
{
    private const string Cluster = "clusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\", insecure-skip-tls-verify: true}}]\n";
    private const string Context = "current-context: c\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n";

    private readonly string _dir = Directory.CreateTempSubdirectory("securedra-cli-errors-").FullName;

    public NoStackTraceTests()
    {
        Write("empty.yaml", "");
        Write("not-yaml.yaml", "a: [b");
        Write("scalar.yaml", "5");
        Write("deep.yaml", "a: " + new string('[', 20_000) + new string(']', 20_000));
        Write("bad-escape.yaml", "a: \"\\U8010FFFF\"");
        Write("bad-tag.yaml", "%TAG ! \n---\na: !x b");
        Write("duplicate.yaml", Context + Cluster + "users: [{name: u, user: {token: a}}]\nusers: []\n");
        Write("no-context.yaml", Cluster + "users: [{name: u, user: {token: a}}]\n");
        Write("unknown-field.yaml", Context + Cluster + "users: [{name: u, user: {tokn: a}}]\n");
        Write("wrong-type.yaml", Context + "clusters: [{name: c, cluster: {server: [1]}}]\nusers: [{name: u, user: {token: a}}]\n");
        Write("bad-ca.yaml", Context + "clusters: [{name: c, cluster: {server: \"https://x\", certificate-authority-data: \"!!\"}}]\nusers: [{name: u, user: {token: a}}]\n");
        Write("exec-always.yaml", Context + Cluster + "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ./plugin.sh, interactiveMode: Always}}}]\n");
        Write("exec-missing.yaml", Context + Cluster + "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: securedra-no-such-plugin, interactiveMode: Never}}}]\n");
        Write("exec-fails.yaml", Context + Cluster + "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ./failing.sh, interactiveMode: Never}}}]\n");
        Write("exec-garbage.yaml", Context + Cluster + "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ./garbage.sh, interactiveMode: Never}}}]\n");
        Write("unreachable.yaml", Context + Cluster + "users: [{name: u, user: {token: a}}]\n");
        Write("failing.sh", "#!/bin/bash\necho 'plugin: you are not logged in' >&2\nexit 1\n");
        Write("garbage.sh", "#!/bin/bash\nprintf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"\\\\uD800\"}}'\n");
        foreach (var script in new[] { "failing.sh", "garbage.sh" })
        {
            File.SetUnixFileMode(Path.Combine(_dir, script), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        Directory.CreateDirectory(Path.Combine(_dir, "manifests"));
        Write("cert.pem", "not a certificate");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Write(string name, string text) => File.WriteAllText(Path.Combine(_dir, name), text);

    public static TheoryData<string, int> Invocations => new()
    {
        { "--bogus", 2 },
        { "", 2 },
        { "audit --kubeconfig {dir}/missing.yaml", 2 },
        { "audit --kubeconfig {dir}", 2 },
        { "audit --kubeconfig {dir}/empty.yaml", 2 },
        { "audit --kubeconfig {dir}/not-yaml.yaml", 2 },
        { "audit --kubeconfig {dir}/scalar.yaml", 2 },
        { "audit --kubeconfig {dir}/deep.yaml", 2 },
        { "audit --kubeconfig {dir}/bad-escape.yaml", 2 },
        { "audit --kubeconfig {dir}/bad-tag.yaml", 2 },
        { "audit --kubeconfig {dir}/duplicate.yaml", 2 },
        { "audit --kubeconfig {dir}/no-context.yaml", 2 },
        { "audit --kubeconfig {dir}/unknown-field.yaml", 2 },
        { "audit --kubeconfig {dir}/wrong-type.yaml", 2 },
        { "audit --kubeconfig {dir}/bad-ca.yaml", 2 },
        { "audit --kubeconfig {dir}/exec-always.yaml", 2 },
        { "audit --kubeconfig {dir}/exec-missing.yaml", 2 },
        { "audit --kubeconfig {dir}/exec-fails.yaml", 2 },
        { "audit --kubeconfig {dir}/exec-garbage.yaml", 2 },
        { "audit --kubeconfig {dir}/unreachable.yaml", 2 },
        { "audit --kubeconfig {dir}/missing-a.yaml:{dir}/missing-b.yaml", 2 },
        { "audit --kubeconfig http://127.0.0.1:1", 2 },
        { "audit --manifests {dir}/missing", 2 },
        { "audit --manifests {dir}/manifests --output yaml", 2 },
        { "audit --manifests {dir}/manifests --kubeconfig {dir}/empty.yaml", 2 },
        { "audit", 2 },
        { "audit --bogus", 2 },
        { "validate", 2 },
        { "validate {dir}/missing.yaml", 2 },
        { "validate --bogus", 2 },
        { "controller --bogus", 2 },
        { "controller", 2 },
        { "controller --tls-cert-file {dir}/cert.pem --tls-private-key-file {dir}/cert.pem --kubeconfig {dir}/not-yaml.yaml", 2 },
        { "controller --tls-cert-file {dir}/cert.pem --tls-private-key-file {dir}/cert.pem --kubeconfig {dir}/exec-always.yaml", 2 },
        { "controller --tls-cert-file {dir}/cert.pem --tls-private-key-file {dir}/cert.pem --audit-interval 0", 2 },
        { "kubelet-plugin --bogus", 2 },
        { "kubelet-plugin", 2 },
        { "kubelet-plugin --node-name n --gpu-backend simulated --kubeconfig {dir}/not-yaml.yaml", 2 },
        { "kubelet-plugin --node-name n --gpu-backend simulated --kubeconfig {dir}/deep.yaml", 2 },
        { "kubelet-plugin --node-name n --gpu-backend simulated --kubeconfig {dir}/exec-always.yaml", 2 },
        { "proxy --bogus", 2 },
        { "proxy", 2 },
        { "proxy --node-name n --gpu-backend simulated --kubeconfig {dir}/not-yaml.yaml", 2 },
        { "proxy --node-name n --gpu-backend simulated --allow-mps maybe", 2 },
        { "local-apiserver --listen nope", 2 },
        { "local-apiserver --kubernetes-version 1.20", 2 },
        { "demo --simulated-gpus 1", 2 },
        { "demo --bogus", 2 },
        { "scrub", 2 },
        { "scrub --bogus", 2 },
    };

    [Theory]
    [MemberData(nameof(Invocations))]
    public async Task Bad_invocations_end_with_one_line_the_documented_exit_code_and_no_stack_trace(string invocation, int expectedExit)
    {
        var args = invocation.Replace("{dir}", _dir, StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);

        var (exit, stdout, stderr) = await CliProcess.RunAsync(new Dictionary<string, string?> { ["HOME"] = _dir }, args);

        var output = $"exit {exit}\nstdout:\n{stdout}\nstderr:\n{stderr}";
        Assert.False(CliProcess.HasStackTrace(stdout + stderr), output);
        Assert.True(exit == expectedExit, output);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('{')).ToList();
        Assert.True(lines.Count >= 1, output);
        Assert.DoesNotContain("internal error", stderr, StringComparison.Ordinal);

        // One contract for every subcommand (CliInvocation.UsageError): the line that names the problem says who speaks.
        var speaker = args.Length == 0 || args[0].StartsWith('-') ? "securedra: " : $"securedra {args[0]}: ";
        Assert.True(lines.Any(l => l.StartsWith(speaker, StringComparison.Ordinal)), output);
    }

    [Fact]
    public async Task The_exec_plugins_stderr_is_passed_through_and_the_error_names_the_field()
    {
        var (exit, _, stderr) = await CliProcess.RunAsync("audit", "--kubeconfig", Path.Combine(_dir, "exec-fails.yaml"));

        Assert.Equal(2, exit);
        Assert.Contains("plugin: you are not logged in", stderr, StringComparison.Ordinal);
        Assert.Contains("users[u].user.exec.command", stderr, StringComparison.Ordinal);
        Assert.Contains("exited with code 1", stderr, StringComparison.Ordinal);
    }
}
