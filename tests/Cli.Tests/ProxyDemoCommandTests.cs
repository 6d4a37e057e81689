using System.Diagnostics;
using System.Text.RegularExpressions;

namespace SecureDra.Cli.Tests;

/// <summary>
/// <c>securedra demo --mode proxy</c> as a real process: the driver proxy in front of the simulated vendor plugin. The
/// canary must survive the vendor's release (it does not scrub, like real vendors) and be gone after the proxy's.
/// </summary>
public sealed class ProxyDemoCommandTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("securedra-proxy-demo-test-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Proxy_demo_the_vendor_leaves_the_canary_and_the_proxy_scrubs_it()
    {
        var (code, stdout, stderr) = await DemoCommandTests.RunAsync("demo", "--mode", "proxy", "--simulated-gpus", "2", "--simulated-memory", "8Mi", "--work-dir", _work);

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.False(CliProcess.HasStackTrace(stdout + stderr), stdout + stderr);

        // Only the proxy is in the kubelet's registry; the vendor sits in its private one and was accepted by the proxy.
        Assert.Contains("vendor registration accepted by the proxy: True", stdout, StringComparison.Ordinal);
        Assert.Contains("kubelet registry holds: gpu.nvidia.com-reg.sock → endpoint", stdout, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_work, "vendor", "plugins_registry", "gpu.nvidia.com-reg.sock") + " (the kubelet does not watch this directory", stdout, StringComparison.Ordinal);

        // The CDI IDs tenant A's container gets are the vendor's, NVIDIA's shape; the proxy wrote no CDI spec.
        Assert.Matches(@"the vendor's CDI IDs: k8s\.gpu\.nvidia\.com/claim=[-0-9a-f]+-gpu-0", stdout);
        var noCdi = Path.Combine(_work, "plugins", "securedra-proxy", "no-cdi");
        Assert.True(!Directory.Exists(noCdi) || !Directory.EnumerateFileSystemEntries(noCdi).Any(), $"the proxy wrote into {noCdi}");

        // The canary verdicts: there after the vendor's release, gone after the proxy's scrub, nothing for tenant B.
        Assert.Contains("read back: 5/5 present", stdout, StringComparison.Ordinal);
        Assert.Contains("after the vendor's Unprepare: canary copies left in gpu-0's memory: 5 (the vendor does not scrub)", stdout, StringComparison.Ordinal);
        Assert.Contains("verified yes", stdout, StringComparison.Ordinal);
        Assert.Contains("after the proxy's scrub: canary copies left in gpu-0's memory: 0", stdout, StringComparison.Ordinal);
        Assert.Contains("canary found: 0 of 5; non-zero bytes in all 8 MiB: 0", stdout, StringComparison.Ordinal);

        // The proxy's own /metrics, scraped from the running process: its component name and the inventory gauges.
        Assert.Matches(@"securedra_build_info\{component=""proxy"",version=""[^""]+"",commit=""[^""]+"",runtime=""[0-9.]+""\} 1", stdout);
        Assert.DoesNotContain("component=\"kubelet-plugin\"", stdout, StringComparison.Ordinal);
        Assert.Contains("securedra_prepared_devices 0", stdout, StringComparison.Ordinal);
        Assert.Contains("securedra_withdrawn_devices{reason=\"vram_dirty\"} 0", stdout, StringComparison.Ordinal);
        Assert.Matches(@"process_resident_memory_bytes [1-9][0-9]*", stdout);
    }

    [Fact]
    public async Task Kept_running_the_proxy_serves_its_own_metrics_and_a_signal_removes_every_socket()
    {
        var start = SecuredraProcess.StartInfo(["demo", "--mode", "proxy", "--keep-running", "--simulated-gpus", "2", "--simulated-memory", "4Mi", "--work-dir", _work], dll: Path.Combine(AppContext.BaseDirectory, "securedra.dll"));

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var seen = new System.Text.StringBuilder();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line && !line.Contains("Press Ctrl+C to stop.", StringComparison.Ordinal))
            {
                seen.AppendLine(line);
            }

            // The running proxy's /metrics: the standard families under component "proxy" and the inventory gauges.
            var url = Regex.Match(seen.ToString(), @"The proxy's metrics: curl (\S+)").Groups[1].Value;
            Assert.True(url.Length > 0, seen.ToString());
            using var http = new HttpClient();
            var text = await http.GetStringAsync(new Uri(url), deadline.Token);
            foreach (var family in new[] { "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "dotnet_gc_heap_size_bytes", "securedra_devices", "securedra_prepared_devices", "securedra_withdrawn_devices" })
            {
                Assert.Contains($"# TYPE {family} ", text, StringComparison.Ordinal);
            }

            Assert.Matches(@"securedra_build_info\{component=""proxy"",version=""[^""]+"",commit=""[^""]+"",runtime=""[^""]+""\} 1\n", text);
            Assert.Equal(0, StandardMetricsTests.Value(text, "securedra_prepared_devices"));
            Assert.Equal(0, StandardMetricsTests.Value(text, "securedra_withdrawn_devices{reason=\"vram_dirty\"}"));
            Assert.Equal(2, StandardMetricsTests.Value(text, "securedra_devices{state=\"clean\"}"));
            Assert.Equal(1, StandardMetricsTests.Value(text, "securedra_proxy_vendor_connected"));

            Assert.NotEmpty(Directory.EnumerateFiles(_work, "*.sock", SearchOption.AllDirectories));
            using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(deadline.Token);
            }

            await process.StandardOutput.ReadToEndAsync(deadline.Token);
            await process.WaitForExitAsync(deadline.Token);

            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await stderr}");
            Assert.Empty(Directory.EnumerateFiles(_work, "*.sock", SearchOption.AllDirectories));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task An_unknown_demo_mode_is_one_line_and_exit_two()
    {
        var (code, _, stderr) = await DemoCommandTests.RunAsync("demo", "--mode", "vendor", "--work-dir", _work);

        Assert.Equal(2, code);
        Assert.Equal("securedra demo: --mode: must be plugin, proxy or mig, got \"vendor\"", stderr.Trim().Split('\n')[0]);
        Assert.Single(stderr.Trim().Split('\n'));
    }
}
