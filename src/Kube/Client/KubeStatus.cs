using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SecureDra.Kube.Client;

/// <summary>Turns an error answer into a <see cref="KubeApiException"/>: a metav1.Status body when there is one, the raw text otherwise.</summary>
public static class KubeStatus
{
    private const int MaxMessageChars = 1024;

    public static KubeApiException ToException(HttpStatusCode statusCode, string body, string what)
    {
        ArgumentNullException.ThrowIfNull(body);
        string? reason = null;
        string? message = null;
        try
        {
            if (JsonNode.Parse(body) is JsonObject status)
            {
                reason = ReadString(status, "reason");
                message = ReadString(status, "message");
            }
        }
        catch (JsonException)
        {
            // Not a Status (a proxy's HTML page, plain text): fall back to the text itself.
        }
        catch (ArgumentException)
        {
        }

        reason = string.IsNullOrEmpty(reason) ? DefaultReason(statusCode) : reason;
        if (string.IsNullOrEmpty(message))
        {
            var text = body.Trim();
            message = text.Length == 0 ? $"{what}: HTTP {(int)statusCode}" : $"{what}: {Truncate(text)}";
        }

        return new KubeApiException(statusCode, reason, Truncate(message));
    }

    private static string? ReadString(JsonObject obj, string name) =>
        obj[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static string Truncate(string text) => text.Length <= MaxMessageChars ? text : text[..MaxMessageChars] + "…";

    /// <summary>The reasons the API server itself uses for these codes (metav1.StatusReason).</summary>
    public static string DefaultReason(HttpStatusCode statusCode) => (int)statusCode switch
    {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        409 => "Conflict",
        410 => "Gone",
        413 => "RequestEntityTooLarge",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    };
}
