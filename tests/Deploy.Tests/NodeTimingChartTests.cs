using System.Text.Json.Nodes;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>
/// The node daemon's timing settings as chart values (kubeletPlugin.unprepareBudget, scrubRetryInitial,
/// kubeRequestTimeout, healthResendInterval, healthRecoveryInitial, trimMemoryWhenIdle; docs/operations.md): each reaches the daemon
/// container as its flag only when set, at both ends of its range; the schema refuses the first value past either
/// end, which the binary refuses too (exit 2 naming the flag), so the two bounds cannot drift apart; a plugin-only
/// value in proxy mode fails the render instead of being ignored.
/// </summary>
[Collection(ChartCollection.Name)]
public sealed class NodeTimingChartTests(RenderedChart chart)
{
    private const string Ns = RenderedChart.Namespace;

    /// <summary>Value, flag, whether `securedra proxy` has it, the range's ends as the schema accepts them, and the first value past each end.</summary>
    public static TheoryData<string, string, bool, string, string, string, string> Timings => new()
    {
        { "unprepareBudget", "--unprepare-budget", false, "1ms", "40s", "0ms", "41s" },
        { "scrubRetryInitial", "--scrub-retry-initial", true, "1ms", "1h", "0s", "61m" },
        { "kubeRequestTimeout", "--kube-request-timeout", true, "1ms", "5m", "0ms", "301s" },
        { "healthResendInterval", "--health-resend-interval", false, "10ms", "15s", "9ms", "15001ms" },
        { "healthRecoveryInitial", "--health-recovery-initial", false, "10ms", "10m", "9ms", "601s" },
        { "trimMemoryWhenIdle", "--trim-memory-when-idle", false, "1s", "1h", "999ms", "61m" },
    };

    private static IReadOnlyList<string> DaemonArgs(IReadOnlyList<JsonObject> objects) =>
        objects.Single(o => o.Str("kind") == "DaemonSet").Items("spec.template.spec.containers").First().Strings("args");

    private IReadOnlyList<JsonObject> RenderWith(params string[] sets) =>
        RenderedChart.Parse(chart.TempFile($"timings-{Guid.NewGuid():N}.yaml", RenderedChart.Render(Ns, [.. sets.SelectMany(s => new[] { "--set", s })])));

    private static Tool.Result RenderRaw(params string[] sets) =>
        Tool.Run(RepoPaths.Helm, ["template", "securedra", RepoPaths.Chart, "--namespace", Ns, .. sets.SelectMany(s => new[] { "--set", s })]);

    [Fact]
    public void By_default_no_timing_flag_is_passed_and_the_daemons_defaults_apply()
    {
        foreach (var mode in new[] { "plugin", "proxy" })
        {
            var args = DaemonArgs(RenderWith($"mode={mode}"));
            foreach (var flag in new[] { "--unprepare-budget", "--scrub-retry-initial", "--kube-request-timeout", "--health-resend-interval", "--health-recovery-initial", "--trim-memory-when-idle" })
            {
                Assert.DoesNotContain(args, a => a.StartsWith(flag + "=", StringComparison.Ordinal));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Timings))]
    public void Each_value_reaches_the_daemon_as_its_flag_at_both_ends_of_its_range(string value, string flag, bool proxyHasIt, string min, string max, string belowMin, string aboveMax)
    {
        _ = belowMin;
        _ = aboveMax;
        foreach (var mode in proxyHasIt ? new[] { "plugin", "proxy" } : ["plugin"])
        {
            var subcommand = mode == "proxy" ? "proxy" : "kubelet-plugin";
            Assert.Contains(flag, SecuredraCli.HelpOf(subcommand).Flags);
            foreach (var setting in new[] { min, max })
            {
                var args = DaemonArgs(RenderWith($"mode={mode}", $"kubeletPlugin.{value}={setting}"));
                Assert.Equal(subcommand, args[0]);
                Assert.Equal([$"{flag}={setting}"], args.Where(a => a.StartsWith(flag + "=", StringComparison.Ordinal)));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Timings))]
    public void The_schema_refuses_the_first_value_past_either_end_and_so_does_the_binary(string value, string flag, bool proxyHasIt, string min, string max, string belowMin, string aboveMax)
    {
        _ = proxyHasIt;
        _ = min;
        _ = max;
        // Past the ends, not a duration, negative, and two units (the values say: one number and one unit).
        foreach (var outside in new[] { belowMin, aboveMax, "forever", "-5s", "1m30s" })
        {
            var r = RenderRaw($"kubeletPlugin.{value}={outside}");
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains($"/kubeletPlugin/{value}", r.StdErr, StringComparison.Ordinal);
        }

        // The same values past the ends are what the daemon itself refuses at start: the schema's range is the flag's.
        foreach (var outside in new[] { belowMin, aboveMax })
        {
            var binary = SecuredraCli.Run("kubelet-plugin", "--node-name=node-1", "--gpu-backend=simulated", $"{flag}={outside}");
            Assert.Equal(2, binary.ExitCode);
            Assert.Contains($"{flag}: {outside} is outside", binary.StdErr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_idle_memory_trim_is_switched_off_with_0s_which_the_chart_passes_and_the_binary_accepts()
    {
        var args = DaemonArgs(RenderWith("mode=plugin", "kubeletPlugin.trimMemoryWhenIdle=0s"));
        Assert.Equal(["--trim-memory-when-idle=0s"], args.Where(a => a.StartsWith("--trim-memory-when-idle=", StringComparison.Ordinal)));
        // The binary takes 0s as "never", not as out of range: the flag parsed after it is the first one refused.
        var binary = SecuredraCli.Run("kubelet-plugin", "--node-name=node-1", "--gpu-backend=simulated", "--trim-memory-when-idle=0s", "--http-max-connections=0");
        Assert.Equal(2, binary.ExitCode);
        Assert.Contains("--http-max-connections: '0' is not a whole number", binary.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("--trim-memory-when-idle", binary.StdErr, StringComparison.Ordinal);

        // Zero in another spelling is refused by the schema, and so is a bare 0 from --set (a number, not a string):
        // refused, never dropped (a number 0 would be falsy in the template and silently keep the 10s default).
        foreach (var refused in new[] { "0ms", "0m", "00s", "0" })
        {
            var r = RenderRaw($"kubeletPlugin.trimMemoryWhenIdle={refused}");
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("/kubeletPlugin/trimMemoryWhenIdle", r.StdErr, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("unprepareBudget")]
    [InlineData("healthResendInterval")]
    [InlineData("healthRecoveryInitial")]
    [InlineData("trimMemoryWhenIdle")]
    public void A_plugin_only_value_in_proxy_mode_fails_the_render_instead_of_being_ignored(string value)
    {
        var r = RenderRaw("mode=proxy", $"kubeletPlugin.{value}=10s");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"kubeletPlugin.{value} applies to mode plugin only", r.StdErr, StringComparison.Ordinal);
    }
}
