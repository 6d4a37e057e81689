using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SecureDra.Kube.Client;

/// <summary>
/// <see cref="IKubeApiClient"/> over HttpClient. JSON is handled as <see cref="JsonNode"/> only
/// (no reflection serializer, so Native AOT stays clean). Every non-2xx answer becomes a
/// <see cref="KubeApiException"/> carrying the Status reason and message; transport failures and
/// timeouts become one with status 0 (transient). Response bodies are read with a size bound.
/// </summary>
public sealed partial class KubeApiClient : IKubeApiClient, IDisposable
{
    private static readonly MediaTypeWithQualityHeaderValue JsonMediaType = new("application/json");

    /// <summary>
    /// The API server stores opaque parameters up to 10 KiB at any nesting depth; the default limit of 64
    /// would fail the whole claim read with a vague error. 1000 is Utf8JsonWriter's own limit, so whatever
    /// parses can also be written back as raw text for the strict validator, which applies the real limit.
    /// </summary>
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 1000 };

    /// <summary>First buffer for a body of unknown length: most answers (a claim, a lease) are a few KiB.</summary>
    private const int UndeclaredInitialBytes = 16 * 1024;

    /// <summary>The most a declared length alone makes the client allocate before the bytes arrive.</summary>
    private const int DeclaredInitialMaxBytes = 1024 * 1024;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly Uri _server;
    private readonly KubeApiClientOptions _options;
    private readonly IKubeTokenSource? _tokens;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <param name="httpClient">Its own Timeout is ignored: per-request timeouts come from <paramref name="options"/>.</param>
    public KubeApiClient(
        HttpClient httpClient,
        Uri server,
        KubeApiClientOptions? options = null,
        IKubeTokenSource? tokenSource = null,
        TimeProvider? timeProvider = null,
        ILogger<KubeApiClient>? logger = null,
        bool ownsHttpClient = false)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(server);
        if (!server.IsAbsoluteUri || (server.Scheme != Uri.UriSchemeHttp && server.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"server {server} must be an absolute http:// or https:// URL", nameof(server));
        }

        _http = httpClient;
        _ownsHttp = ownsHttpClient;
        _http.Timeout = Timeout.InfiniteTimeSpan;
        _server = server;
        _options = options ?? new KubeApiClientOptions();
        _tokens = tokenSource;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The API server's base URL.</summary>
    public Uri Server => _server;

    public async Task<JsonObject?> GetAsync(KubeResource resource, string? @namespace, string name, CancellationToken cancellationToken)
    {
        var path = KubeApiPaths.Item(resource, @namespace, name);
        var node = await SendAsync(HttpMethod.Get, path, null, notFoundIsNull: true, cancellationToken).ConfigureAwait(false);
        return node is null ? null : AsObject(node, path);
    }

    public async Task<JsonObject> ListAsync(KubeResource resource, string? @namespace, KubeListOptions? options, CancellationToken cancellationToken)
    {
        var path = KubeApiPaths.ReadCollection(resource, @namespace) + KubeApiPaths.Query(options, watch: false);
        var node = await SendAsync(HttpMethod.Get, path, null, notFoundIsNull: false, cancellationToken).ConfigureAwait(false);
        return AsObject(node, path);
    }

    public async Task<JsonObject> CreateAsync(KubeResource resource, string? @namespace, JsonObject body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var path = KubeApiPaths.Collection(resource, @namespace);
        var node = await SendAsync(HttpMethod.Post, path, body, notFoundIsNull: false, cancellationToken).ConfigureAwait(false);
        return AsObject(node, path);
    }

    public async Task<JsonObject> UpdateAsync(KubeResource resource, string? @namespace, string name, JsonObject body, CancellationToken cancellationToken, string? subresource = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        var path = KubeApiPaths.Item(resource, @namespace, name, subresource);
        var node = await SendAsync(HttpMethod.Put, path, body, notFoundIsNull: false, cancellationToken).ConfigureAwait(false);
        return AsObject(node, path);
    }

    public async Task DeleteAsync(KubeResource resource, string? @namespace, string name, CancellationToken cancellationToken)
    {
        var path = KubeApiPaths.Item(resource, @namespace, name);
        await SendAsync(HttpMethod.Delete, path, null, notFoundIsNull: true, cancellationToken).ConfigureAwait(false);
    }

    public Task<JsonNode?> GetPathAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!path.StartsWith('/'))
        {
            throw new ArgumentException($"path {path} must start with '/'", nameof(path));
        }

        return SendAsync(HttpMethod.Get, path, null, notFoundIsNull: true, cancellationToken);
    }

    public async IAsyncEnumerable<KubeWatchEvent> WatchAsync(
        KubeResource resource, string? @namespace, KubeListOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var path = KubeApiPaths.ReadCollection(resource, @namespace) + KubeApiPaths.Query(options, watch: true);
        var response = await OpenWatchAsync(path, cancellationToken).ConfigureAwait(false);

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw await ErrorFromResponseAsync(response, HttpMethod.Get, path, cancellationToken).ConfigureAwait(false);
            }

            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                // Disposing the stream (also when the caller stops enumerating or the token fires) closes the connection.
                using var closeOnCancel = cancellationToken.Register(static s => ((Stream)s!).Dispose(), stream);
                var reader = new WatchLineReader(stream, _options.MaxWatchLineBytes);
                while (true)
                {
                    byte[]? line;
                    try
                    {
                        line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is IOException or ObjectDisposedException or HttpRequestException)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        throw Transport(HttpMethod.Get, path, ex);
                    }

                    if (line is null)
                    {
                        yield break;
                    }

                    if (line.Length == 0)
                    {
                        continue;
                    }

                    yield return ParseWatchEvent(line, path);
                }
            }
        }
    }

    /// <summary>Sends the watch GET; a 401 with a refreshable token is retried once with a fresh token.</summary>
    private async Task<HttpResponseMessage> OpenWatchAsync(string path, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = await CreateRequestAsync(HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw Transport(HttpMethod.Get, path, ex);
            }

            if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0 && RefreshToken(request, HttpMethod.Get, path))
            {
                response.Dispose();
                continue;
            }

            return response;
        }
    }

    /// <summary>
    /// One line of a watch stream as an event. Any defect (not JSON, invalid UTF-8, a lone surrogate, a duplicate
    /// key, no type or object) is a <see cref="KubeApiException"/> with reason InvalidWatchEvent, never another type.
    /// </summary>
    public static KubeWatchEvent ParseWatchEvent(byte[] line, string path)
    {
        ArgumentNullException.ThrowIfNull(line);
        JsonNode? node;
        try
        {
            node = StrictJson.Parse(line, DocumentOptions.MaxDepth);
        }
        catch (JsonException ex)
        {
            throw new KubeApiException(HttpStatusCode.OK, "InvalidWatchEvent", $"GET {path}: watch event is not valid JSON: {ex.Message}", ex);
        }

        if (node is not JsonObject evt || evt["type"] is not JsonValue typeValue || !typeValue.TryGetValue<string>(out var type)
            || evt["object"] is not JsonObject obj)
        {
            throw new KubeApiException(HttpStatusCode.OK, "InvalidWatchEvent", $"GET {path}: watch event lacks type or object");
        }

        return new KubeWatchEvent(type, obj);
    }

    private async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonObject? body, bool notFoundIsNull, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                using var request = await CreateRequestAsync(method, path, body, linked.Token).ConfigureAwait(false);
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0 && RefreshToken(request, method, path))
                {
                    continue;
                }

                return await ReadResponseAsync(response, method, path, notFoundIsNull, linked.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
        {
            LogTransportFailure(_logger, method.Method, path, "timeout");
            throw new KubeApiException(0, "Timeout", $"{method} {path}: no answer within {_options.RequestTimeout.TotalSeconds:0.###} s", ex);
        }
        catch (HttpRequestException ex)
        {
            throw Transport(method, path, ex);
        }
        catch (IOException ex)
        {
            throw Transport(method, path, ex);
        }
        catch (Exception ex) when (ex is InvalidDataException or Config.ExecCredentialException)
        {
            // The token file is empty or oversized (mid-rotation, misconfigured), or the exec plugin failed: no request was sent.
            throw Credentials(method, path, ex);
        }
    }

    private async Task<JsonNode?> ReadResponseAsync(HttpResponseMessage response, HttpMethod method, string path, bool notFoundIsNull, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.NotFound && notFoundIsNull)
        {
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorFromResponseAsync(response, method, path, cancellationToken).ConfigureAwait(false);
        }

        var (buffer, length) = await ReadBoundedAsync(response, method, path, cancellationToken).ConfigureAwait(false);
        try
        {
            return length == 0 ? null : StrictJson.Parse(buffer.AsSpan(0, length), DocumentOptions.MaxDepth);
        }
        catch (JsonException ex)
        {
            throw new KubeApiException(response.StatusCode, "InvalidResponse", $"{method} {path}: response is not valid JSON: {ex.Message}", ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// After a 401: tells a refreshable token source that the token it gave was refused, so the retry carries a
    /// fresh one (client-go re-runs the exec plugin and re-reads a rotated token file the same way). False when
    /// there is nothing to refresh, so the 401 is reported as it is.
    /// </summary>
    private bool RefreshToken(HttpRequestMessage request, HttpMethod method, string path)
    {
        if (_tokens is not IRefreshableTokenSource refreshable || request.Headers.Authorization?.Parameter is not { } used)
        {
            return false;
        }

        refreshable.Invalidate(used);
        LogTokenRejected(_logger, method.Method, path);
        return true;
    }

    private KubeApiException Credentials(HttpMethod method, string path, Exception ex)
    {
        LogTransportFailure(_logger, method.Method, path, "credentials unavailable");
        return new KubeApiException(0, "CredentialsUnavailable", $"{method} {path}: {ex.Message}", ex);
    }

    private KubeApiException Transport(HttpMethod method, string path, Exception ex)
    {
        LogTransportFailure(_logger, method.Method, path, ex.Message);
        return new KubeApiException(0, "TransportError", $"{method} {path} to {_server}: {ex.Message}", ex);
    }

    private async Task<HttpRequestMessage> CreateRequestAsync(HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken)
    {
        string? token = null;
        try
        {
            token = _tokens is null ? null : await _tokens.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidDataException or Config.ExecCredentialException)
        {
            throw Credentials(method, path, ex);
        }

        var request = new HttpRequestMessage(method, new Uri(_server, path));
        request.Headers.Accept.Add(JsonMediaType);
        request.Headers.UserAgent.Clear();
        request.Headers.TryAddWithoutValidation("User-Agent", _options.UserAgent);
        if (token is { Length: > 0 })
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ToJsonString()));
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        return request;
    }

    /// <summary>
    /// Reads the body once, straight into one pooled buffer that the caller parses in place and returns to the pool
    /// (it used to pass through a chunk array and a MemoryStream and be copied out again). The buffer starts at the
    /// declared length plus one byte (so the end is seen without growing; at most 1 MiB before any byte arrived), or
    /// 16 KiB when none is declared, and grows by doubling, never past the limit plus one byte: the bound is checked
    /// on the bytes received, whatever the header said.
    /// </summary>
    private async Task<(byte[] Buffer, int Length)> ReadBoundedAsync(HttpResponseMessage response, HttpMethod method, string path, CancellationToken cancellationToken)
    {
        var limit = _options.MaxResponseBytes;
        var declared = response.Content.Headers.ContentLength;
        if (declared > limit)
        {
            throw TooLarge(response.StatusCode, method, path, limit);
        }

        // One byte past the limit is the most a buffer ever needs: reading it proves the body too large.
        var ceiling = (int)Math.Min(limit + 1, Array.MaxLength);
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Min(declared + 1 ?? UndeclaredInitialBytes, DeclaredInitialMaxBytes), ceiling));
        var length = 0;
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        // Full: grow before reading, since a read into no space returns 0 and would look like the end.
                        if (length >= ceiling)
                        {
                            throw TooLarge(response.StatusCode, method, path, limit); // only when the limit exceeds an array
                        }

                        var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(buffer.Length * 2L, ceiling));
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }

                    var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return (buffer, length);
                    }

                    length += read;
                    if (length > limit)
                    {
                        throw TooLarge(response.StatusCode, method, path, limit);
                    }
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private static KubeApiException TooLarge(HttpStatusCode status, HttpMethod method, string path, long limit) =>
        new(status, "ResponseTooLarge", $"{method} {path}: response body exceeds the limit of {limit} bytes");

    private async Task<KubeApiException> ErrorFromResponseAsync(HttpResponseMessage response, HttpMethod method, string path, CancellationToken cancellationToken)
    {
        const int MaxErrorBody = 64 * 1024;
        string text;
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var buffer = new byte[MaxErrorBody];
                var total = 0;
                int read;
                while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    total += read;
                }

                text = Encoding.UTF8.GetString(buffer, 0, total);
            }
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            text = "";
        }

        var error = KubeStatus.ToException(response.StatusCode, text, $"{method} {path}");
        LogApiError(_logger, method.Method, path, (int)response.StatusCode, error.Reason);
        return error;
    }

    private static JsonObject AsObject(JsonNode? node, string path) =>
        node as JsonObject ?? throw new KubeApiException(HttpStatusCode.OK, "InvalidResponse", $"{path}: expected a JSON object in the response");

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }
}
