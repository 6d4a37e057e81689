using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>Reading request bodies and writing JSON responses without reflection.</summary>
public static class JsonIo
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 128, AllowDuplicateProperties = false };

    // Like Go's encoding/json output: quotes, apostrophes and '+' stay readable.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task<JsonNode?> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw new ApiError(413, "RequestEntityTooLarge", $"the request body is larger than the limit of {maxBytes} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(buffer.ToArray(), documentOptions: DocumentOptions);
        }
        catch (JsonException e)
        {
            throw ApiError.BadRequest($"the body of the request was in an unknown format - accepted media types include: application/json, application/merge-patch+json, application/strategic-merge-patch+json, application/json-patch+json, application/apply-patch+yaml: {e.Message}");
        }
    }

    public static async Task WriteAsync(HttpResponse response, int status, JsonNode body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(body);
        response.StatusCode = status;
        response.ContentType = "application/json";
        var bytes = Serialize(body);
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
    }

    public static byte[] Line(JsonNode body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            body.WriteTo(writer);
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Serialize(JsonNode body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            body.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
