using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace SecureDra.Cli.Tests;

/// <summary>
/// The shipped build (src/Cli, what `dotnet publish` and the image contain) has no failure injection: it refuses the
/// hook variables, its local API server has no fault endpoint, and its simulated backend reads no fault files. Each
/// test also runs the test build (tests/TestBuild) the same way, so a pass is not an accident of the setup.
/// </summary>
public sealed partial class ShippedBuildTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("securedra-shipped-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("SECUREDRA_CRASH_AT", "unprepare:after-scrub")]
    [InlineData("SECUREDRA_STALE_CLAIM_CHECK_INTERVAL_MS", "50")]
    public async Task Shipped_build_refuses_a_test_hook_variable_with_one_line_and_exit_2(string variable, string value)
    {
        var environment = new Dictionary<string, string?> { [variable] = value };
        var args = new[] { "kubelet-plugin", "--node-name", "n1", "--gpu-backend", "simulated", "--simulated-vram-dir", _dir, "--kubeconfig", "http://127.0.0.1:9" };

        var (code, stdout, stderr) = await CliProcess.RunAsync(environment, args);

        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.Equal($"securedra kubelet-plugin: {variable}: a test hook that only the test build of securedra has; this binary has no failure injection, unset it", line);

        // Every subcommand, not only the plugin: the variable is refused before any command runs.
        (code, _, stderr) = await CliProcess.RunAsync(environment, "validate", "--help");
        Assert.Equal(2, code);
        Assert.Contains($"{variable}: a test hook", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_build_accepts_the_crash_variable_but_still_names_a_wrong_crash_point()
    {
        var (code, _, stderr) = await CliProcess.RunDllAsync(CliProcess.TestBuildDll, new Dictionary<string, string?> { ["SECUREDRA_CRASH_AT"] = "nowhere" },
            ["kubelet-plugin", "--node-name", "n1", "--gpu-backend", "simulated", "--simulated-vram-dir", _dir, "--kubeconfig", "http://127.0.0.1:9"]);
        Assert.Equal(2, code);
        Assert.Contains("SECUREDRA_CRASH_AT=nowhere is not a crash point", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shipped_local_apiserver_has_no_fault_endpoint_the_test_build_has()
    {
        Assert.Equal(HttpStatusCode.NotFound, await PostFaultAsync(CliProcess.ProductDll));
        Assert.Equal(HttpStatusCode.Created, await PostFaultAsync(CliProcess.TestBuildDll));
    }

    [Fact]
    public async Task Shipped_simulated_backend_reads_no_fault_file_the_test_build_does()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "gpu-0.faults.json"), """{"failSession": true}""");
        string[] args = ["scrub", "--gpu-backend", "simulated", "--simulated-gpus", "1", "--simulated-memory", "1Mi", "--simulated-vram-dir", _dir, "--device", "gpu-0"];

        var shipped = await CliProcess.RunDllAsync(CliProcess.ProductDll, null, args);
        Assert.True(shipped.ExitCode == 0, $"exit {shipped.ExitCode}\n{shipped.Stdout}\n{shipped.Stderr}");

        var test = await CliProcess.RunDllAsync(CliProcess.TestBuildDll, null, args);
        Assert.True(test.ExitCode == 1, $"exit {test.ExitCode}\n{test.Stdout}\n{test.Stderr}");
        Assert.Contains("injected fault failSession", test.Stdout, StringComparison.Ordinal);
    }

    /// <summary>Starts local-apiserver on port 0, reads the address it prints, and POSTs one fault rule.</summary>
    private static async Task<HttpStatusCode> PostFaultAsync(string dll)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in new[] { dll, "local-apiserver", "--listen", "127.0.0.1:0" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var line = await process.StandardOutput.ReadLineAsync(deadline.Token) ?? throw new InvalidOperationException("local-apiserver exited: " + await process.StandardError.ReadToEndAsync(deadline.Token));
            var address = AddressPattern().Match(line);
            Assert.True(address.Success, line);
            using var http = new HttpClient { BaseAddress = new Uri(address.Value) };
            using var body = new StringContent("""{"count":1,"status":500}""", System.Text.Encoding.UTF8, "application/json");
            using var response = await http.PostAsync("/_securedra/faults", body, deadline.Token);
            return response.StatusCode;
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+")]
    private static partial Regex AddressPattern();
}
