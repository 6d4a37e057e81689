namespace SecureDra.Cli.Tests;

/// <summary>
/// <c>securedra canary</c> as a process on simulated GPUs of its own (no plugin): every exit code, and which GPU it picks.
/// The run against a GPU prepared by the real plugin is in tests/EndToEnd.Tests/CanaryTests.
/// </summary>
public sealed class CanaryCommandTests : IDisposable
{
    private readonly string _vram = Directory.CreateTempSubdirectory("securedra-canary-cli-").FullName;

    public void Dispose() => Directory.Delete(_vram, recursive: true);

    private Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IReadOnlyDictionary<string, string?>? environment, params string[] extra) =>
        CliProcess.RunAsync(environment, ["canary", "--gpu-backend", "simulated", "--simulated-gpus", "2", "--simulated-memory", "4Mi", "--simulated-vram-dir", _vram, .. extra]);

    [Fact]
    public async Task Exit_0_on_a_clean_gpu_then_1_on_the_same_gpu_without_a_scrub_other_gpus_untouched()
    {
        var first = await RunAsync(null, "--device", "gpu-1");
        Assert.True(first.ExitCode == 0, first.Stdout + first.Stderr);
        Assert.StartsWith("PASS gpu-1", first.Stdout, StringComparison.Ordinal);

        var again = await RunAsync(null, "--device", "1");
        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith("FAIL gpu-1", again.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"VramCanaryFailed\"", again.Stderr, StringComparison.Ordinal);

        // gpu-0 was never touched: its memory is still all zero.
        Assert.Equal(0, (await RunAsync(null, "--device", "gpu-0")).ExitCode);
    }

    [Fact]
    public async Task Max_bytes_and_its_environment_variable_bound_the_check()
    {
        var flag = await RunAsync(null, "--device", "gpu-0", "--max-bytes", "2Mi");
        Assert.Equal(0, flag.ExitCode);
        Assert.Contains(": 2097152 bytes in 1 allocation(s) read back zero", flag.Stdout, StringComparison.Ordinal);

        var env = await RunAsync(new Dictionary<string, string?> { ["CANARY_MAX_BYTES"] = "2Mi", ["CANARY_DEVICE"] = "gpu-1" });
        Assert.Equal(0, env.ExitCode);
        Assert.Contains("PASS gpu-1", env.Stdout, StringComparison.Ordinal);
        Assert.Contains(": 2097152 bytes", env.Stdout, StringComparison.Ordinal);

        // Without the bound, the whole 4 MiB.
        var all = await RunAsync(null, "--device", "gpu-0");
        Assert.Equal(1, all.ExitCode);
        Assert.Contains("non-zero data in 1 of 1 allocation(s), covering 4194304 of 4194304 bytes", all.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_gpu_comes_from_nvidia_visible_devices_when_no_device_is_given()
    {
        var uuid = SecureDra.Nvml.Backends.Simulated.SimulatedDeviceCatalog.Uuid(1);
        var run = await RunAsync(new Dictionary<string, string?> { ["NVIDIA_VISIBLE_DEVICES"] = uuid });
        Assert.Equal(0, run.ExitCode);
        Assert.Contains($"gpu-1 ({uuid})", run.Stdout, StringComparison.Ordinal);

        // Two GPUs visible and none named: a usage error, not a guess.
        var ambiguous = await RunAsync(null);
        Assert.Equal(2, ambiguous.ExitCode);
        Assert.StartsWith("securedra canary: --device: 2 GPUs are visible", ambiguous.Stderr.Trim(), StringComparison.Ordinal);

        var all = await RunAsync(new Dictionary<string, string?> { ["NVIDIA_VISIBLE_DEVICES"] = "all" });
        Assert.Equal(2, all.ExitCode);
    }

    [Fact]
    public async Task Exit_3_when_the_check_cannot_finish()
    {
        // The simulated backend's fault file (read by the test build only): no allocation succeeds.
        await RunAsync(null, "--device", "gpu-0");
        File.WriteAllText(Path.Combine(_vram, "gpu-0.faults.json"), "{\"failAllocations\":true}");
        var run = await CliProcess.RunDllAsync(CliProcess.TestBuildDll, null,
            ["canary", "--gpu-backend", "simulated", "--simulated-gpus", "2", "--simulated-memory", "4Mi", "--simulated-vram-dir", _vram, "--device", "gpu-0"]);
        Assert.Equal(3, run.ExitCode);
        Assert.StartsWith("INCOMPLETE gpu-0", run.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--timeout", "0s")]
    [InlineData("--timeout", "soon")]
    [InlineData("--max-bytes", "-1")]
    [InlineData("--max-bytes", "1Mi")]
    [InlineData("--pod-name", "Not_A_Name")]
    public async Task Bad_flags_exit_2_with_one_line_naming_the_flag(string flag, string value)
    {
        var run = await RunAsync(null, "--device", "gpu-0", flag, value, "--pod-namespace", "default", "--kubeconfig", "http://127.0.0.1:1");
        Assert.Equal(2, run.ExitCode);
        Assert.Single(run.Stderr.Trim().Split('\n'));
        Assert.Contains(flag, run.Stderr, StringComparison.Ordinal);
    }
}
