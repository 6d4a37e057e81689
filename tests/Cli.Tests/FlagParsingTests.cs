using System.Net;
using SecureDra.Cli.Hosting;

namespace SecureDra.Cli.Tests;

public sealed class FlagParsingTests
{
    [Theory]
    [InlineData("0.0.0.0:8443", "0.0.0.0", 8443)]
    [InlineData("127.0.0.1:8080", "127.0.0.1", 8080)]
    [InlineData(":9443", "0.0.0.0", 9443)]
    [InlineData("[::]:8443", "::", 8443)]
    public void Endpoints_parse(string text, string address, int port)
    {
        var endpoint = FlagParsing.Endpoint("--webhook-listen", text);
        Assert.Equal(IPAddress.Parse(address), endpoint.Address);
        Assert.Equal(port, endpoint.Port);
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("0.0.0.0")]
    [InlineData("0.0.0.0:0")]
    [InlineData("0.0.0.0:70000")]
    [InlineData("host.example.com:443")]
    public void Bad_endpoints_name_the_flag(string text)
    {
        var e = Assert.Throws<FormatException>(() => FlagParsing.Endpoint("--webhook-listen", text));
        Assert.StartsWith("--webhook-listen: ", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("5m", 300)]
    [InlineData("1h30m", 5400)]
    [InlineData("00:02:00", 120)]
    [InlineData("0", 0)]
    public void Durations_parse(string text, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), FlagParsing.Duration("--audit-interval", text, TimeSpan.FromSeconds(30), TimeSpan.FromHours(24)));

    [Theory]
    [InlineData("5x")]
    [InlineData("soon")]
    [InlineData("1s")]
    [InlineData("48h")]
    public void Bad_or_out_of_range_durations_name_the_flag(string text)
    {
        var e = Assert.Throws<FormatException>(() => FlagParsing.Duration("--audit-interval", text, TimeSpan.FromSeconds(30), TimeSpan.FromHours(24)));
        Assert.StartsWith("--audit-interval: ", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0s")]
    [InlineData("0ms")]
    [InlineData("00:00:00")]
    public void A_non_zero_duration_refuses_0_as_outside_the_range_naming_the_flag(string text)
    {
        Assert.Equal(TimeSpan.Zero, FlagParsing.Duration("--unprepare-budget", text, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(40)));
        var e = Assert.Throws<FormatException>(() => FlagParsing.NonZeroDuration("--unprepare-budget", text, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(40)));
        Assert.StartsWith($"--unprepare-budget: {text} is outside ", e.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(40), FlagParsing.NonZeroDuration("--unprepare-budget", "40s", TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(40)));
        Assert.Throws<FormatException>(() => FlagParsing.NonZeroDuration("--unprepare-budget", "41s", TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(40)));
    }

    [Theory]
    [InlineData("gpu.nvidia.com", true)]
    [InlineData("securedra", true)]
    [InlineData("GPU.nvidia.com", false)]
    [InlineData("-bad", false)]
    [InlineData("a..b", false)]
    [InlineData("", false)]
    public void Dns_names_are_checked(string text, bool ok)
    {
        if (ok)
        {
            Assert.Equal(text, FlagParsing.DnsSubdomain("--driver-name", text));
        }
        else
        {
            Assert.Throws<FormatException>(() => FlagParsing.DnsSubdomain("--driver-name", text));
        }
    }

    [Fact]
    public void Booleans_and_choices_parse()
    {
        Assert.True(FlagParsing.Bool("--leader-election", "true"));
        Assert.False(FlagParsing.Bool("--leader-election", "FALSE"));
        Assert.Throws<FormatException>(() => FlagParsing.Bool("--leader-election", "maybe"));
        Assert.Equal("json", FlagParsing.OneOf("--output", "json", "table", "json"));
        Assert.Throws<FormatException>(() => FlagParsing.OneOf("--output", "yaml", "table", "json"));
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData(" 1 ", true)]
    [InlineData("false", false)]
    [InlineData("False", false)]
    [InlineData("0", false)]
    public void One_boolean_rule_for_flag_values_and_variables(string text, bool expected)
    {
        Assert.Equal(expected, FlagParsing.TryBool(text));
        Assert.Equal(expected, FlagParsing.Bool("--allow-mps", text));
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("no")]
    [InlineData("on")]
    [InlineData("")]
    [InlineData("2")]
    public void Anything_else_is_not_a_boolean_and_the_error_names_the_flag(string text)
    {
        Assert.Null(FlagParsing.TryBool(text));
        var e = Assert.Throws<FormatException>(() => FlagParsing.Bool("--allow-mps", text));
        Assert.Equal($"--allow-mps: '{text}' is not true or false", e.Message);
    }

    [Theory]
    [InlineData("SECUREDRA_ALLOW_MPS", "--allow-mps")]
    [InlineData("SECUREDRA_DEVICE_TAINT_RULES", "--device-taint-rules")]
    public async Task A_string_flag_and_its_variable_refuse_yes_as_the_boolean_flags_do(string variable, string flag)
    {
        // The proxy's policy flags are string flags parsed by FlagParsing.Bool; validate's are EnvFlags: one rule.
        var (code, _, stderr) = await CliProcess.RunAsync(new Dictionary<string, string?> { [variable] = "yes" }, "proxy", "--node-name", "n", "--gpu-backend", "simulated");
        Assert.Equal(2, code);
        Assert.Contains($"securedra proxy: {flag}: 'yes' is not true or false", stderr, StringComparison.Ordinal);
    }
}
