using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using SecureDra.LocalCluster.ApiServer;

namespace SecureDra.LocalCluster.Tests;

/// <summary>A real local API server on 127.0.0.1 with an HttpClient pointed at it.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private TestServer(LocalApiServer server)
    {
        Server = server;
        Http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    public LocalApiServer Server { get; }

    public HttpClient Http { get; }

    public static async Task<TestServer> StartAsync(string version = "1.36", Action<LocalApiServerOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new LocalApiServerOptions { Listen = "127.0.0.1:0", KubernetesVersion = version };
        configure?.Invoke(options);
        return new TestServer(await LocalApiServer.StartAsync(options, null, time ?? TimeProvider.System, CancellationToken.None));
    }

    public Task<(HttpStatusCode Status, JsonObject Body)> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    public Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(string path, JsonNode body) => SendAsync(HttpMethod.Post, path, body);

    public Task<(HttpStatusCode Status, JsonObject Body)> PutAsync(string path, JsonNode body) => SendAsync(HttpMethod.Put, path, body);

    public Task<(HttpStatusCode Status, JsonObject Body)> DeleteAsync(string path, JsonNode? body = null) => SendAsync(HttpMethod.Delete, path, body);

    public Task<(HttpStatusCode Status, JsonObject Body)> PatchAsync(string path, JsonNode body, string contentType = "application/merge-patch+json") =>
        SendAsync(HttpMethod.Patch, path, body, contentType);

    public async Task<(HttpStatusCode Status, JsonObject Body)> SendAsync(HttpMethod method, string path, JsonNode? body, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        }

        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? [] : JsonNode.Parse(text)!.AsObject());
    }

    /// <summary>Creates an object and asserts 201.</summary>
    public async Task<JsonObject> CreateAsync(string path, string json)
    {
        var (status, body) = await PostAsync(path, JsonNode.Parse(json)!);
        Assert.True(status == HttpStatusCode.Created, $"create {path}: {(int)status} {body.ToJsonString()}");
        return body;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}
