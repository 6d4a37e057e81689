using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SecureDra.Kube.Client;

namespace SecureDra.Kube.Config;

/// <summary>
/// Reads what an exec credential plugin wrote on stdout: one ExecCredential object of the configured apiVersion
/// with <c>status.token</c> and, optionally, <c>status.expirationTimestamp</c> (RFC 3339). Strict: unknown
/// fields, duplicate keys, invalid UTF-8 and deep nesting are refused with a message naming the field.
/// </summary>
public static class ExecCredentialParser
{
    /// <summary>An ExecCredential is a few KiB even with a certificate; 1 MiB bounds a runaway plugin.</summary>
    public const int MaxOutputBytes = 1024 * 1024;

    private const int MaxDepth = 16;

    /// <exception cref="ExecCredentialException">The output is not a usable ExecCredential.</exception>
    public static ExecCredential Parse(ReadOnlySpan<byte> stdout, string expectedApiVersion)
    {
        if (stdout.Length > MaxOutputBytes)
        {
            throw new ExecCredentialException($"the plugin wrote more than {MaxOutputBytes} bytes on stdout");
        }

        JsonNode? node;
        try
        {
            node = StrictJson.Parse(stdout, MaxDepth);
        }
        catch (JsonException ex)
        {
            throw new ExecCredentialException($"the plugin's output is not an ExecCredential JSON object: {ex.Message}", ex);
        }

        if (node is not JsonObject root)
        {
            throw new ExecCredentialException("the plugin's output is not an ExecCredential JSON object");
        }

        foreach (var (key, _) in root)
        {
            if (key is not ("apiVersion" or "kind" or "spec" or "status"))
            {
                throw new ExecCredentialException($"ExecCredential.{KubeconfigFields.Quote(key)}: unknown field");
            }
        }

        var kind = Text(root, "kind", "ExecCredential");
        if (kind != "ExecCredential")
        {
            throw new ExecCredentialException($"ExecCredential.kind is {Shown(kind)}, expected ExecCredential");
        }

        var apiVersion = Text(root, "apiVersion", "ExecCredential");
        if (apiVersion != expectedApiVersion)
        {
            throw new ExecCredentialException($"ExecCredential.apiVersion is {Shown(apiVersion)}, expected {expectedApiVersion} as configured");
        }

        if (root["spec"] is not (null or JsonObject))
        {
            throw new ExecCredentialException("ExecCredential.spec: must be an object");
        }

        if (root["status"] is not JsonObject status)
        {
            throw new ExecCredentialException("ExecCredential.status is missing or not an object");
        }

        foreach (var (key, _) in status)
        {
            switch (key)
            {
                case "token" or "expirationTimestamp":
                    break;
                case "clientCertificateData" or "clientKeyData":
                    throw new ExecCredentialException($"ExecCredential.status.{key}: client certificates from exec plugins are not supported; return a token");
                default:
                    throw new ExecCredentialException($"ExecCredential.status.{KubeconfigFields.Quote(key)}: unknown field");
            }
        }

        var token = Text(status, "token", "ExecCredential.status");
        if (string.IsNullOrWhiteSpace(token))
        {
            throw new ExecCredentialException("ExecCredential.status.token is missing or empty");
        }

        if (token.Any(c => c is < '!' or > '~'))
        {
            throw new ExecCredentialException("ExecCredential.status.token holds characters that cannot go in an Authorization header");
        }

        DateTimeOffset? expiry = null;
        if (Text(status, "expirationTimestamp", "ExecCredential.status") is { } stamp)
        {
            if (!DateTimeOffset.TryParse(stamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
                || !stamp.Contains('T', StringComparison.Ordinal))
            {
                throw new ExecCredentialException($"ExecCredential.status.expirationTimestamp {Shown(stamp)} is not an RFC 3339 time");
            }

            expiry = parsed;
        }

        return new ExecCredential(token, expiry);
    }

    private static string? Text(JsonObject obj, string key, string where) => obj[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw new ExecCredentialException($"{where}.{key}: must be a string"),
    };

    private static string Shown(string? value) => value is null ? "missing" : KubeconfigFields.Quote(value);
}
