using System.Text.Json.Nodes;

namespace SecureDra.Cli.Tests;

/// <summary>
/// <c>securedra scrub</c> as a real process on simulated GPUs: coverage of total memory, the bytes not
/// covered split into reserved baseline and not-allocatable, and what <c>--scrub-min-coverage</c> changes.
/// </summary>
public sealed class ScrubCommandTests : IDisposable
{
    private const long Size = 8L * 1024 * 1024;
    private readonly string _vram = Directory.CreateTempSubdirectory("securedra-scrub-test-").FullName;

    public void Dispose() => Directory.Delete(_vram, recursive: true);

    [Fact]
    public async Task Json_reports_coverage_of_total_memory_and_no_uncovered_bytes_on_a_clean_device()
    {
        var (code, stdout, stderr) = await RunAsync("--device", "all", "--output", "json");

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var reports = JsonNode.Parse(stdout)!["reports"]!.AsArray();
        Assert.Equal(2, reports.Count);
        foreach (var r in reports)
        {
            Assert.Equal(Size, (long)r!["totalBytes"]!);
            Assert.Equal(1.0, (double)r["coverage"]!);
            Assert.Equal(0, (long)r["uncoveredBytes"]!);
            Assert.Equal(0, (long)r["baselineReservedBytes"]!);
            Assert.Equal(0, (long)r["unallocatableBytes"]!);
            Assert.Equal(0, (long)r["baselineBytes"]!);
            Assert.Equal(4096, (long)r["toleranceBytes"]!);
        }
    }

    [Fact]
    public async Task Two_percent_not_allocatable_fails_by_default_and_is_the_baseline_with_a_lower_min_coverage()
    {
        await File.WriteAllTextAsync(Path.Combine(_vram, "gpu-1.faults.json"), """{"allocatableFraction": 0.98}""");

        var (code, stdout, stderr) = await RunAsync("--device", "gpu-1");
        Assert.True(code == 1, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("RESERVED", stdout, StringComparison.Ordinal);
        Assert.Contains("UNALLOC", stdout, StringComparison.Ordinal);
        Assert.Contains("FAILED", stdout, StringComparison.Ordinal);
        Assert.Contains("is below the minimum 0.9900 of total memory", stdout, StringComparison.Ordinal);

        (code, stdout, stderr) = await RunAsync("--device", "gpu-1", "--output", "json", "--scrub-min-coverage", "0.97");
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var report = JsonNode.Parse(stdout)!["reports"]![0]!;
        Assert.True((long)report["baselineReservedBytes"]! > 0);
        Assert.Equal((long)report["uncoveredBytes"]!, (long)report["baselineReservedBytes"]!);
        Assert.Equal(0, (long)report["unallocatableBytes"]!);
    }

    [Fact]
    public async Task Simulated_reserved_memory_is_reported_as_the_reserved_baseline_not_as_a_gap()
    {
        var (code, stdout, stderr) = await RunAsync("--device", "gpu-0", "--output", "json", "--simulated-reserved-memory", "64Ki");

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var report = JsonNode.Parse(stdout)!["reports"]![0]!;
        Assert.Equal(Size - (64 * 1024), (long)report["bytesZeroed"]!);
        Assert.Equal(Size - (64 * 1024), (long)report["freeBytesBefore"]!);
        Assert.Equal(64 * 1024, (long)report["baselineReservedBytes"]!);
        Assert.Equal(0, (long)report["unallocatableBytes"]!);
    }

    [Theory]
    [InlineData("--simulated-reserved-memory", "lots", "--simulated-reserved-memory: must be a size")]
    [InlineData("--simulated-reserved-memory", "100", "--simulated-reserved-memory: must be a multiple of 4096")]
    [InlineData("--simulated-reserved-memory", "8Mi", "--simulated-reserved-memory: must be a multiple of 4096 below the device memory")]
    public async Task Bad_simulated_reserved_memory_is_one_line_and_exit_two(string flag, string value, string message)
    {
        var (code, _, stderr) = await RunAsync("--device", "all", flag, value);

        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0.5")]
    [InlineData("1.01")]
    [InlineData("most")]
    public async Task Min_coverage_outside_its_bound_is_one_line_and_exit_two(string value)
    {
        var (code, _, stderr) = await RunAsync("--device", "all", "--scrub-min-coverage", value);

        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("--scrub-min-coverage: must be a number from 0.9 to 1", stderr, StringComparison.Ordinal);
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        // The test build: one test injects a fault through the simulated backend's fault file, which only it reads.
        var result = await SecuredraProcess.RunAsync(
            new[] { "scrub", "--gpu-backend", "simulated", "--simulated-gpus", "2", "--simulated-memory", "8Mi", "--simulated-vram-dir", _vram }.Concat(args),
            timeout: TimeSpan.FromSeconds(120), dll: RepoPaths.TestBuildDll);
        Assert.True(result.ExitCode != -1, result.Stderr); // -1: killed at the deadline
        return (result.ExitCode, result.Stdout, result.Stderr);
    }
}
