using System.Text.Json.Nodes;
using SecureDra.Kube.Client;

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
}
