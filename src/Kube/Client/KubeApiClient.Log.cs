using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SecureDra.Kube.Client;

public sealed partial class KubeApiClient
{
    [LoggerMessage(EventId = EventIds.KubeApiClient.TransportFailure, Level = LogLevel.Warning, Message = "Kubernetes API {Method} {Path} failed: {Failure}")]
    private static partial void LogTransportFailure(ILogger logger, string method, string path, string failure);

    [LoggerMessage(EventId = EventIds.KubeApiClient.TokenRejected, Level = LogLevel.Information, Message = "Kubernetes API {Method} {Path} answered 401: fetching a fresh token and retrying once")]
    private static partial void LogTokenRejected(ILogger logger, string method, string path);

    [LoggerMessage(EventId = EventIds.KubeApiClient.ApiError, Level = LogLevel.Debug, Message = "Kubernetes API {Method} {Path} answered {StatusCode} {Reason}")]
    private static partial void LogApiError(ILogger logger, string method, string path, int statusCode, string reason);
}
