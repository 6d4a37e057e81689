using System.Net.Sockets;
using SecureDra.KubeletPlugin.NodeHardening;

namespace SecureDra.KubeletPlugin.Tests.NodeHardening;

/// <summary>
/// Proxy mode's node-side audit: no second registration of the proxied driver in the kubelet's registry. Fixture
/// listings for every naming the kubelet helper uses, plus a real directory with real Unix sockets.
/// </summary>
public sealed class KubeletRegistryCheckTests : IDisposable
{
    private const string Driver = "gpu.nvidia.com";
    private const string Registry = "/var/lib/kubelet/plugins_registry";
    private static readonly string[] Own = ["gpu.nvidia.com-0f8fad5b-reg.sock"];

    private readonly string _dir = Directory.CreateTempSubdirectory("securedra-registry-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static IReadOnlyList<NodeFinding> Evaluate(params string[] sockets) =>
        KubeletRegistryCheck.Evaluate(sockets.Select(s => new RegistryEntry(s, IsSocket: true)), Registry, Driver, Own);

    [Fact]
    public void Only_the_proxys_own_registration_and_other_drivers_is_clean()
    {
        Assert.Empty(Evaluate("gpu.nvidia.com-0f8fad5b-reg.sock", "gpu.example.com-reg.sock", "compute-domain.nvidia.com-reg.sock", "csi.sock"));
    }

    [Theory]
    [InlineData("gpu.nvidia.com-reg.sock")]
    [InlineData("gpu.nvidia.com-2d9a1f1c-aaaa-bbbb-cccc-123456789012-reg.sock")]
    [InlineData("gpu.nvidia.com-AbCdEf12-reg.sock")]
    [InlineData("vendor/gpu.nvidia.com-reg.sock")]
    [InlineData("a/b/c/gpu.nvidia.com-reg.sock")]
    // The kubelet's start-up walk descends into dot-directories and checks only the socket's own name.
    [InlineData(".hidden/gpu.nvidia.com-reg.sock")]
    [InlineData("./gpu.nvidia.com-reg.sock")]
    public void A_vendor_registration_anywhere_in_the_registry_is_an_open_finding(string socket)
    {
        var finding = Assert.Single(Evaluate("gpu.nvidia.com-0f8fad5b-reg.sock", socket));
        Assert.Equal("kubelet-registry-rival-registration", finding.Id);
        Assert.Equal(NodeFindingState.Open, finding.State);
        Assert.Equal($"{Registry}/{socket.Replace("./", "", StringComparison.Ordinal)}", finding.Source);
        Assert.Contains("kubeletPlugin.kubeletRegistrarDirectoryPath", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void A_registration_that_does_not_name_its_driver_is_advisory()
    {
        var finding = Assert.Single(Evaluate("dra-q1w2e3r4t5y6u7i8o9p0as-reg.sock"));
        Assert.Equal("kubelet-registry-unnamed-registration", finding.Id);
        Assert.Equal(NodeFindingState.Advisory, finding.State);
    }

    [Theory]
    [InlineData(".gpu.nvidia.com-reg.sock")]
    [InlineData("gpu.nvidia.com-reg.sock.bak")]
    [InlineData("gpu.nvidia.comx-reg.sock")]
    public void Names_the_kubelet_ignores_or_that_are_another_driver_are_not_findings(string socket)
    {
        Assert.Empty(Evaluate(socket));
    }

    [Fact]
    public void Offline_without_the_proxys_name_two_registrations_are_open_and_one_is_advisory()
    {
        var two = KubeletRegistryCheck.Evaluate(
            [new RegistryEntry("gpu.nvidia.com-0f8fad5b-reg.sock", true), new RegistryEntry("gpu.nvidia.com-reg.sock", true)], Registry, Driver, []);
        Assert.Equal(2, two.Count);
        Assert.All(two, f => Assert.Equal(NodeFindingState.Open, f.State));

        var one = Assert.Single(KubeletRegistryCheck.Evaluate([new RegistryEntry("gpu.nvidia.com-reg.sock", true)], Registry, Driver, []));
        Assert.Equal("kubelet-registry-single-registration", one.Id);
        Assert.Equal(NodeFindingState.Advisory, one.State);
    }

    [Fact]
    public void A_symlink_is_not_followed_or_counted()
    {
        Assert.Empty(KubeletRegistryCheck.Evaluate([new RegistryEntry("gpu.nvidia.com-reg.sock", IsSocket: false)], Registry, Driver, Own));
    }

    [Fact]
    public void A_real_directory_with_real_sockets_is_walked_recursively()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "nested"));
        using var own = Bind(Path.Combine(_dir, Own[0]));
        using var rival = Bind(Path.Combine(_dir, "nested", "gpu.nvidia.com-reg.sock"));
        using var other = Bind(Path.Combine(_dir, "gpu.example.com-reg.sock"));
        // The kubelet lstat()s: a symlink is not a socket to it, so it is not a registration either.
        File.CreateSymbolicLink(Path.Combine(_dir, "gpu.nvidia.com-link-reg.sock"), Path.Combine(_dir, "nested", "gpu.nvidia.com-reg.sock"));

        var finding = Assert.Single(new KubeletRegistryCheck(_dir, Driver, Own).Run());
        Assert.Equal("kubelet-registry-rival-registration", finding.Id);
        Assert.EndsWith("/nested/gpu.nvidia.com-reg.sock", finding.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_registry_too_deep_or_missing_cannot_pass_silently()
    {
        var deep = _dir;
        for (var i = 0; i < KubeletRegistryCheck.MaxDepth + 1; i++)
        {
            deep = Path.Combine(deep, "d");
        }

        Directory.CreateDirectory(deep);
        Assert.Equal("kubelet-registry-unreadable", Assert.Single(new KubeletRegistryCheck(_dir, Driver, Own).Run()).Id);
        Assert.Equal("kubelet-registry-unreadable", Assert.Single(new KubeletRegistryCheck(Path.Combine(_dir, "missing"), Driver, Own).Run()).Id);
    }

    private static Socket Bind(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        return socket;
    }
}
