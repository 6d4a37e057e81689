namespace SecureDra.Cli.Tests;

/// <summary>Runs the real <c>securedra validate</c> process on real files and checks its output and exit code.</summary>
public sealed class ValidateCommandTests : IDisposable
{
    private const string SeedClass = """
        apiVersion: resource.k8s.io/v1
        kind: DeviceClass
        metadata:
          name: nvidia-gpu-shared
        spec:
          selectors:
          - cel:
              expression: "device.driver == 'gpu.nvidia.com'"
          config:
          - opaque:
              driver: gpu.nvidia.com
              parameters:
                apiVersion: resource.securedra.io/v1alpha1
                kind: GpuConfig
                resetPolicy: "ZeroVRAMOnRelease"
        """;

    private const string Removed = "unknown field (removed: GPU sharing was never applied, and time-slicing would put two tenants' contexts in one GPU's memory, which nothing on a node can isolate; every claim gets whole GPUs); the allowed fields are apiVersion, kind, resetPolicy";

    private const string BadClaim = """
        apiVersion: resource.k8s.io/v1
        kind: ResourceClaim
        metadata: {name: c, namespace: t}
        spec:
          devices:
            requests:
            - name: gpu
              exactly: {deviceClassName: nvidia-gpu-shared}
            config:
            - opaque:
                driver: gpu.example.com
                parameters: {whatever: 1}
            - opaque:
                driver: gpu.nvidia.com
                parameters:
                  apiVersion: resource.securedra.io/v1alpha1
                  kind: GpuConfig
                  sharingStrategy: TimeSlicing
                  sharingTimeSliceMs: 0
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("securedra-validate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteFile(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var result = await SecuredraProcess.RunAsync(["validate", .. args], env, TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode != -1, result.Stderr); // -1: killed at the deadline
        return (result.ExitCode, result.Stdout, result.Stderr);
    }

    [Fact]
    public async Task Clean_seed_class_exits_zero()
    {
        var seed = WriteFile("seed.yaml", SeedClass);
        var (code, stdout, stderr) = await RunAsync(null, seed);
        Assert.Equal(0, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Contains("1 object(s) checked", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Violations_are_printed_as_file_path_message_and_exit_one()
    {
        var claim = WriteFile("claim.yaml", BadClaim);
        var raw = WriteFile("raw.json", """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"None","sharingTimeSliceMs":1.0}""");
        var seed = WriteFile("seed.yaml", SeedClass);
        var (code, stdout, _) = await RunAsync(null, claim, raw, seed);
        Assert.Equal(1, code);
        Assert.Equal(
            [
                $"{claim}: spec.devices.config[1].opaque.parameters.sharingStrategy: {Removed}",
                $"{claim}: spec.devices.config[1].opaque.parameters.sharingTimeSliceMs: {Removed}",
                $"{raw}: sharingTimeSliceMs: {Removed}",
                $"{raw}: resetPolicy: None is not allowed in a claim; a claim may only set ZeroVRAMOnRelease",
            ],
            stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Flags_and_their_environment_variables_apply()
    {
        var classNone = WriteFile("class.yaml", SeedClass.Replace("\"ZeroVRAMOnRelease\"", "None", StringComparison.Ordinal));
        Assert.Equal(1, (await RunAsync(null, classNone)).ExitCode);
        // The override flag is gone (nothing ever read the stored policy): the flag is a usage error, and its
        // old environment variable no longer lets a class turn off the scrub.
        var (removedCode, _, removedStderr) = await RunAsync(null, "--allow-class-reset-policy-override", classNone);
        Assert.Equal(2, removedCode);
        Assert.Contains("--allow-class-reset-policy-override", removedStderr, StringComparison.Ordinal);
        Assert.Equal(1, (await RunAsync(new Dictionary<string, string> { ["ALLOW_CLASS_RESET_POLICY_OVERRIDE"] = "true" }, classNone)).ExitCode);

        // Another driver name: this driver's configs are now someone else's, so nothing is checked.
        Assert.Equal(0, (await RunAsync(null, "--driver-name", "gpu.example.com", classNone)).ExitCode);
        Assert.Equal(0, (await RunAsync(new Dictionary<string, string> { ["DRIVER_NAME"] = "gpu.example.com" }, classNone)).ExitCode);

        var seed = WriteFile("seed.yaml", SeedClass);
        var (code, stdout, _) = await RunAsync(null, "--max-config-bytes", "64", seed);
        Assert.Equal(1, code);
        Assert.Equal($"{seed}: spec.config[0].opaque.parameters: more than 64 bytes exceeds the maximum 64 bytes", stdout.Trim());
        Assert.Equal(1, (await RunAsync(new Dictionary<string, string> { ["MAX_CONFIG_BYTES"] = "64" }, seed)).ExitCode);
    }

    [Theory]
    [InlineData("securedra validate: {missing}: no such file", "{missing}")]
    [InlineData("securedra validate: --max-config-bytes: \"99999\" is not an integer from 1 to 10240", "--max-config-bytes", "99999", "{seed}")]
    [InlineData("securedra validate: --max-config-bytes: \"0\" is not an integer from 1 to 10240", "--max-config-bytes", "0", "{seed}")]
    [InlineData("securedra validate: --driver-name: \"Not_A_Name\" is not a DNS subdomain (lowercase letters, digits, '-' and '.', at most 253 characters)", "--driver-name", "Not_A_Name", "{seed}")]
    [InlineData("securedra validate: --config-origin: \"tenant\" is not claim or class", "--config-origin", "tenant", "{seed}")]
    [InlineData("securedra validate: no FILE given; usage: securedra validate FILE...")]
    [InlineData("securedra validate: Required argument missing for option: '--max-config-bytes'.", "{seed}", "--max-config-bytes")]
    public async Task UsageErrorsAreOneLineAndExitTwo(string expected, params string[] args)
    {
        var seed = WriteFile("seed.yaml", SeedClass);
        var missing = Path.Combine(_dir, "missing.yaml");
        var resolved = args.Select(a => a.Replace("{seed}", seed, StringComparison.Ordinal).Replace("{missing}", missing, StringComparison.Ordinal)).ToArray();
        var (code, stdout, stderr) = await RunAsync(null, resolved);
        Assert.Equal(2, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal(expected.Replace("{missing}", missing, StringComparison.Ordinal), stderr.TrimEnd('\n'));
    }

    [Fact]
    public async Task Bad_environment_value_is_a_usage_error()
    {
        var seed = WriteFile("seed.yaml", SeedClass);
        var (code, _, stderr) = await RunAsync(new Dictionary<string, string> { ["MAX_CONFIG_BYTES"] = "maybe" }, seed);
        Assert.Equal(2, code);
        Assert.Equal("securedra validate: --max-config-bytes: \"maybe\" is not an integer from 1 to 10240", stderr.Trim());
    }

    [Theory]
    [InlineData("")]
    [InlineData("# a comment only\n")]
    [InlineData("---\n---\n")]
    [InlineData("\uFEFF\n\n")]
    public async Task AFileWithNoObjectsFailsWithOneLineUnlessAllowed(string content)
    {
        // Issue 16 defect 7: a truncated or empty manifest in a CI gate must not pass silently.
        var empty = WriteFile("empty.yaml", content);
        var seed = WriteFile("seed.yaml", SeedClass);
        var (code, stdout, stderr) = await RunAsync(null, empty, seed);
        Assert.Equal(1, code);
        Assert.Equal($"{empty}: $: no objects in the file (empty or only comments); pass --allow-empty if that is expected", stdout.TrimEnd('\n'));
        Assert.Contains("1 violation(s)", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);

        Assert.Equal(0, (await RunAsync(null, "--allow-empty", empty, seed)).ExitCode);
        Assert.Equal(0, (await RunAsync(new Dictionary<string, string> { ["ALLOW_EMPTY"] = "true" }, empty)).ExitCode);
        Assert.Equal(1, (await RunAsync(new Dictionary<string, string> { ["ALLOW_EMPTY"] = "false" }, empty)).ExitCode);
        Assert.Equal(2, (await RunAsync(new Dictionary<string, string> { ["ALLOW_EMPTY"] = "maybe" }, empty)).ExitCode);
    }

    [Fact]
    public async Task A_root_non_finite_scalar_is_a_violation_not_an_empty_file()
    {
        // Issue 16 defect 3: ".nan" alone read as an empty document and passed.
        var nan = WriteFile("nan.yaml", ".nan\n");
        var (code, stdout, _) = await RunAsync(null, "--allow-empty", nan);
        Assert.Equal(1, code);
        Assert.Contains("\".nan\" is not allowed; JSON has no NaN or Infinity", stdout, StringComparison.Ordinal);
    }
}
