using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace SecureDra.KubeletPlugin.Hosting;

/// <summary>
/// Keeps each socket to its job: the registration socket serves only <c>pluginregistration</c>,
/// the DRA socket only the DRA and health services, the HTTP endpoint only /healthz, /readyz and
/// /metrics. Anything else gets gRPC Unimplemented (or 404 over plain HTTP).
/// </summary>
public sealed class ListenerScopeMiddleware(RequestDelegate next)
{
    internal const string ItemKey = "securedra.listener";

    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var kind = context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ItemKey, out var value) == true && value is ListenerKind k
            ? k
            : ListenerKind.Http;
        var path = context.Request.Path.Value ?? "";
        var allowed = kind switch
        {
            ListenerKind.Registration => path.StartsWith("/pluginregistration.Registration/", StringComparison.Ordinal),
            ListenerKind.Dra => !path.StartsWith("/pluginregistration.", StringComparison.Ordinal) && path.Count(c => c == '/') == 2,
            _ => path is "/healthz" or "/readyz" or "/metrics",
        };
        if (allowed)
        {
            return next(context);
        }

        if (kind == ListenerKind.Http)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        // Trailers-only gRPC answer: status in the headers, no body.
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = "12";
        context.Response.Headers["grpc-message"] = "method not served on this socket";
        return Task.CompletedTask;
    }

    /// <summary>Connection middleware that tags every connection of a listener with its kind.</summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> Tag(ListenerKind kind) =>
        next => connection =>
        {
            connection.Items[ItemKey] = kind;
            return next(connection);
        };
}
