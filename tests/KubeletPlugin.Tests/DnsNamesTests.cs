using SecureDra.KubeletPlugin.Grpc;
using SecureDra.KubeletPlugin.Hosting;

namespace SecureDra.KubeletPlugin.Tests;

public class DnsNamesTests
{
    [Theory]
    [InlineData("default", true)]
    [InlineData("a-b-1", true)]
    [InlineData("-a", false)]
    [InlineData("a-", false)]
    [InlineData("Default", false)]
    [InlineData("a.b", false)]
    [InlineData("", false)]
    [InlineData("../../etc", false)]
    public void Labels(string value, bool valid) => Assert.Equal(valid, DnsNames.IsLabel(value));

    [Fact]
    public void Label_length_limit_is_63() =>
        Assert.Equal((true, false), (DnsNames.IsLabel(new string('a', 63)), DnsNames.IsLabel(new string('a', 64))));

    [Theory]
    [InlineData("gpu.nvidia.com", true)]
    [InlineData("claim-0.x", true)]
    [InlineData("a..b", false)]
    [InlineData(".a", false)]
    [InlineData("a_b", false)]
    [InlineData("a/b", false)]
    public void Subdomains(string value, bool valid) => Assert.Equal(valid, DnsNames.IsSubdomain(value));

    [Fact]
    public void Subdomain_length_limit_is_253()
    {
        var ok = string.Join('.', Enumerable.Repeat(new string('a', 63), 4))[..253];
        Assert.True(DnsNames.IsSubdomain(ok.TrimEnd('.')));
        Assert.False(DnsNames.IsSubdomain(ok + "a"));
    }

    [Fact]
    public void Option_validation_names_each_flag()
    {
        var errors = KubeletPluginOptionsValidator.Validate(new KubeletPluginOptions
        {
            DriverName = "x".PadRight(64, 'x'),
            NodeName = "",
            KubeletRegistrarDirectoryPath = "relative",
            HttpEndpoint = "127.0.0.1",
            LogFormat = "xml",
            PodUid = "a/b",
        });
        Assert.Equal(6, errors.Count);
        Assert.Collection(errors,
            e => Assert.StartsWith("--driver-name:", e, StringComparison.Ordinal),
            e => Assert.StartsWith("--node-name: required", e, StringComparison.Ordinal),
            e => Assert.StartsWith("--kubelet-registrar-directory-path:", e, StringComparison.Ordinal),
            e => Assert.StartsWith("--pod-uid:", e, StringComparison.Ordinal),
            e => Assert.StartsWith("--http-endpoint:", e, StringComparison.Ordinal),
            e => Assert.StartsWith("--log-format:", e, StringComparison.Ordinal));
        Assert.Empty(KubeletPluginOptionsValidator.Validate(new KubeletPluginOptions { NodeName = "node-1", HttpEndpoint = "[::1]:8080", PodUid = "abc-123" }));
    }
}
