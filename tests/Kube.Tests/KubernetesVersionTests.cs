using System.Text.Json.Nodes;
using SecureDra.Kube.Client;
using SecureDra.Kube.Resources;

namespace SecureDra.Kube.Tests;

public sealed class KubernetesVersionTests
{
    [Theory]
    [InlineData("""{"major":"1","minor":"33","gitVersion":"v1.33.2"}""", 1, 33)]
    [InlineData("""{"major":"1","minor":"30+","gitVersion":"v1.30.4-eks-a737599"}""", 1, 30)]
    [InlineData("""{"major":"","minor":"","gitVersion":"v1.35.0-gke.1"}""", 1, 35)]
    public void Parses_version_documents(string json, int major, int minor) =>
        Assert.Equal((major, minor), KubernetesVersion.FromJson(JsonNode.Parse(json)!.AsObject()) is { } v ? (v.Major, v.Minor) : (0, 0));

    [Fact]
    public async Task Reads_version_from_the_server()
    {
        await using var server = await TestApiServer.StartAsync(ctx => TestApiServer.WriteJsonAsync(ctx, 200, """{"major":"1","minor":"34","gitVersion":"v1.34.1"}"""));
        using var client = new KubeApiClient(new HttpClient(), server.Url, ownsHttpClient: true);

        var version = await KubernetesVersion.ReadAsync(client, CancellationToken.None);

        Assert.Equal("1.34", version!.ToString());
        Assert.Equal("/version", Assert.Single(server.Requests).Path);
    }

    [Fact]
    public void Slice_limits_follow_the_server_version()
    {
        var v134 = new KubernetesVersion(1, 34, "");
        var v135 = new KubernetesVersion(1, 35, "");

        Assert.Equal(128, ResourceSliceLimits.MaxDevices(v135, anyDeviceHasTaints: false));
        Assert.Equal(128, ResourceSliceLimits.MaxDevices(v134, anyDeviceHasTaints: true));
        Assert.Equal(64, ResourceSliceLimits.MaxDevices(v135, anyDeviceHasTaints: true));
        Assert.Equal(64, ResourceSliceLimits.MaxDevices(null, anyDeviceHasTaints: true));
        Assert.Equal(4, ResourceSliceLimits.MaxTaintsPerDevice(v134));
        Assert.Equal(16, ResourceSliceLimits.MaxTaintsPerDevice(v135));
        Assert.False(ResourceSliceLimits.SliceCanCarryTaints(new KubernetesVersion(1, 32, "")));
        Assert.True(ResourceSliceLimits.SliceCanCarryTaints(new KubernetesVersion(1, 33, "")));
    }
}
