using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace SecureDra.Compatibility.Tests;

/// <summary>Plain JSON over HTTP to the local API server, as kubectl or the scheduler would send it.</summary>
public sealed class ApiHttp(Uri baseAddress) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };

    public async Task<(HttpStatusCode Status, JsonObject Body)> SendAsync(HttpMethod method, string path, JsonNode? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? [] : JsonNode.Parse(text)!.AsObject());
    }

    public async Task<JsonObject> GetAsync(string path)
    {
        var (status, body) = await SendAsync(HttpMethod.Get, path);
        Assert.True(status == HttpStatusCode.OK, $"GET {path}: {(int)status} {body.ToJsonString()}");
        return body;
    }

    public async Task<JsonObject> CreateAsync(string path, JsonObject body)
    {
        var (status, created) = await SendAsync(HttpMethod.Post, path, body);
        Assert.True(status == HttpStatusCode.Created, $"POST {path}: {(int)status} {created.ToJsonString()}");
        return created;
    }

    public async Task<JsonObject> PutAsync(string path, JsonObject body)
    {
        var (status, updated) = await SendAsync(HttpMethod.Put, path, body);
        Assert.True(status == HttpStatusCode.OK, $"PUT {path}: {(int)status} {updated.ToJsonString()}");
        return updated;
    }

    public void Dispose() => _http.Dispose();
}
