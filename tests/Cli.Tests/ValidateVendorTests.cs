using System.Diagnostics;

namespace SecureDra.Cli.Tests;

/// <summary><c>securedra validate --vendor nvidia</c>: NVIDIA's config kinds under the proxy's policy, as the webhook in proxy mode.</summary>
public sealed class ValidateVendorTests : IDisposable
{
    private const string Claim = """
        apiVersion: resource.k8s.io/v1
        kind: ResourceClaim
        metadata: {name: c, namespace: t}
        spec:
          devices:
            requests:
            - name: gpu
              exactly: {deviceClassName: gpu.nvidia.com}
            config:
            - opaque:
                driver: gpu.nvidia.com
                parameters:
                  apiVersion: resource.nvidia.com/v1beta1
                  kind: GpuConfig
                  sharing:
                    strategy: SHARING
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("securedra-validate-vendor-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteClaim(string sharing)
    {
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".yaml");
        File.WriteAllText(path, Claim.Replace("strategy: SHARING", sharing, StringComparison.Ordinal));
        return path;
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "securedra.dll"));
        start.ArgumentList.Add("validate");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Nvidia_time_slicing_with_an_interval_is_valid_and_an_empty_time_slicing_config_is_not()
    {
        var good = WriteClaim("strategy: TimeSlicing\n            timeSlicingConfig: {interval: Long}");
        var empty = WriteClaim("strategy: TimeSlicing\n            timeSlicingConfig: {}");
        var (code, stdout, stderr) = await RunAsync("--vendor", "nvidia", good);
        Assert.True(code == 0, stdout + stderr);

        (code, stdout, _) = await RunAsync("--vendor", "nvidia", empty);
        Assert.Equal(1, code);
        Assert.Contains("spec.devices.config[0].opaque.parameters.sharing.timeSlicingConfig.interval: required", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mps_is_a_violation_unless_allowed_and_the_securedra_validator_rejects_nvidia_kinds()
    {
        var mps = WriteClaim("strategy: MPS");
        var (code, stdout, _) = await RunAsync("--vendor", "nvidia", mps);
        Assert.Equal(1, code);
        Assert.Contains("--allow-mps is off", stdout, StringComparison.Ordinal);

        (code, stdout, var stderr) = await RunAsync("--vendor", "nvidia", "--allow-mps", mps);
        Assert.True(code == 0, stdout + stderr);

        // Without --vendor the plugin's own validator judges it: NVIDIA's apiVersion is not SecureDra's.
        (code, stdout, _) = await RunAsync(mps);
        Assert.Equal(1, code);
        Assert.Contains("apiVersion", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--vendor", "amd")]
    [InlineData("--allow-mps")]
    public async Task A_bad_vendor_or_a_policy_flag_without_the_nvidia_vendor_is_a_usage_error(params string[] args)
    {
        var (code, _, stderr) = await RunAsync([.. args, WriteClaim("strategy: MPS")]);
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("SECUREDRA_ALLOW_MPS", "true", 0)]
    [InlineData("SECUREDRA_ALLOW_MPS", "1", 0)]
    [InlineData("SECUREDRA_ALLOW_MPS", "false", 1)]
    [InlineData("SECUREDRA_ALLOW_VFIO", "true", 1)]
    public async Task The_policy_flags_read_the_shared_variable_scheme(string variable, string value, int expected)
    {
        // --allow-mps <-> SECUREDRA_ALLOW_MPS, parsed by the same EnvFlag as every other boolean flag (true/1, false/0).
        var (code, stdout, stderr) = await CliProcess.RunAsync(new Dictionary<string, string?> { [variable] = value }, "validate", "--vendor", "nvidia", WriteClaim("strategy: MPS"));
        Assert.True(code == expected, $"exit {code}\n{stdout}{stderr}");
    }

    [Fact]
    public async Task A_policy_variable_that_is_not_a_boolean_is_one_usage_line_naming_it()
    {
        var (code, _, stderr) = await CliProcess.RunAsync(new Dictionary<string, string?> { ["SECUREDRA_ALLOW_COMPUTE_DOMAIN"] = "yes" }, "validate", "--vendor", "nvidia", WriteClaim("strategy: MPS"));
        Assert.Equal(2, code);
        Assert.Equal("securedra validate: SECUREDRA_ALLOW_COMPUTE_DOMAIN: must be true or false, got \"yes\"", stderr.Trim());
    }

    [Fact]
    public async Task A_policy_variable_without_the_nvidia_vendor_is_the_same_usage_error_as_the_flag()
    {
        var (code, _, stderr) = await CliProcess.RunAsync(new Dictionary<string, string?> { ["SECUREDRA_ALLOW_VFIO"] = "true" }, "validate", WriteClaim("strategy: MPS"));
        Assert.Equal(2, code);
        Assert.Equal("securedra validate: --allow-mps, --allow-vfio and --allow-compute-domain apply only with --vendor nvidia", stderr.Trim());
    }

    [Fact]
    public async Task The_command_line_wins_over_the_variable()
    {
        var (code, stdout, _) = await CliProcess.RunAsync(new Dictionary<string, string?> { ["SECUREDRA_ALLOW_MPS"] = "true" }, "validate", "--vendor", "nvidia", "--allow-mps", "false", WriteClaim("strategy: MPS"));
        Assert.Equal(1, code);
        Assert.Contains("--allow-mps is off", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Allow_empty_reads_the_scheme_and_its_legacy_name_with_a_warning()
    {
        var empty = Path.Combine(_dir, "empty.yaml");
        await File.WriteAllTextAsync(empty, "# nothing\n");

        var (code, _, stderr) = await CliProcess.RunAsync(new Dictionary<string, string?> { ["SECUREDRA_ALLOW_EMPTY"] = "1" }, "validate", empty);
        Assert.True(code == 0, stderr);
        Assert.DoesNotContain("deprecated", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await CliProcess.RunAsync(new Dictionary<string, string?> { ["ALLOW_EMPTY"] = "true" }, "validate", empty);
        Assert.True(code == 0, stderr);
        Assert.Contains("securedra validate: environment variable ALLOW_EMPTY is deprecated; use SECUREDRA_ALLOW_EMPTY", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await CliProcess.RunAsync(new Dictionary<string, string?> { ["SECUREDRA_ALLOW_EMPTY"] = "maybe" }, "validate", empty);
        Assert.Equal(2, code);
        Assert.Equal("securedra validate: SECUREDRA_ALLOW_EMPTY: must be true or false, got \"maybe\"", stderr.Trim());
    }
}

/// <summary><c>securedra audit --mode proxy --kubelet-registry-dir</c>: the node side of the proxy-mode audit on a real directory.</summary>
public sealed class AuditRegistryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("securedra-audit-registry-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "securedra.dll"));
        start.ArgumentList.Add("audit");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("KUBECONFIG");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await stdout, await stderr);
    }

    private static System.Net.Sockets.Socket Bind(string path)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        return socket;
    }

    [Fact]
    public async Task Two_registrations_of_the_driver_exit_1_and_the_proxys_alone_is_advisory()
    {
        using var proxy = Bind(Path.Combine(_dir, "gpu.nvidia.com-0f8fad5b-reg.sock"));
        var (code, stdout, stderr) = await RunAsync("--mode", "proxy", "--kubelet-registry-dir", _dir);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("ADVISORY kubelet-registry-single-registration", stdout, StringComparison.Ordinal);

        Directory.CreateDirectory(Path.Combine(_dir, ".vendor"));
        using var vendor = Bind(Path.Combine(_dir, ".vendor", "gpu.nvidia.com-reg.sock"));
        (code, stdout, _) = await RunAsync("--mode", "proxy", "--kubelet-registry-dir", _dir);
        Assert.Equal(1, code);
        Assert.Contains("OPEN kubelet-registry-rival-registration", stdout, StringComparison.Ordinal);
        Assert.Contains(".vendor/gpu.nvidia.com-reg.sock", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_registry_check_is_a_usage_error_outside_proxy_mode()
    {
        var (code, _, stderr) = await RunAsync("--kubelet-registry-dir", _dir);
        Assert.Equal(2, code);
        Assert.Contains("needs --mode proxy", stderr, StringComparison.Ordinal);
    }
}
