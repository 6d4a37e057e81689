using System.Net;
using SecureDra.Controller.Hosting;

namespace SecureDra.Controller.Tests.Hosting;

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
}
