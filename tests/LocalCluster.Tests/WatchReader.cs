using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.Tests;

/// <summary>Reads a watch response one JSON event per line.</summary>
public sealed class WatchReader : IDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(10));

    private WatchReader(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public System.Net.HttpStatusCode Status => _response.StatusCode;

    public static async Task<WatchReader> OpenAsync(TestServer t, string path, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        var response = await t.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        return new WatchReader(response, new StreamReader(stream));
    }

    public async Task<JsonObject> NextAsync()
    {
        var line = await _reader.ReadLineAsync(_cts.Token);
        Assert.NotNull(line);
        return JsonNode.Parse(line)!.AsObject();
    }

    /// <summary>Null when the server ended the stream.</summary>
    public async Task<string?> NextLineAsync() => await _reader.ReadLineAsync(_cts.Token);

    public void Dispose()
    {
        _reader.Dispose();
        _response.Dispose();
        _cts.Dispose();
    }
}
