using System.Net;

namespace SecureDra.Kube.Client;

/// <summary>An error answer from the API server (or no answer): status code, Status reason and message.</summary>
public sealed class KubeApiException : Exception
{
    public KubeApiException() { }
    public KubeApiException(string message) : base(message) { }
    public KubeApiException(string message, Exception innerException) : base(message, innerException) { }

    public KubeApiException(HttpStatusCode statusCode, string reason, string message, Exception? innerException = null)
        : base($"{(int)statusCode} {reason}: {message}", innerException)
    {
        StatusCode = statusCode;
        Reason = reason;
    }

    public HttpStatusCode StatusCode { get; }

    /// <summary>The Status body's reason, e.g. Conflict, NotFound, AlreadyExists, TooManyRequests.</summary>
    public string Reason { get; } = "";

    public bool IsConflict => StatusCode == HttpStatusCode.Conflict;
    public bool IsNotFound => StatusCode == HttpStatusCode.NotFound;

    /// <summary>Worth retrying with backoff: 429, 5xx, timeouts and transport failures (status 0).</summary>
    public bool IsTransient => StatusCode == 0 || StatusCode == HttpStatusCode.TooManyRequests || (int)StatusCode >= 500;
}
