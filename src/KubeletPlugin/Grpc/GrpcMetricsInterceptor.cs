using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Grpc;

/// <summary>
/// Counts and times every gRPC call by service, method and outcome (the gRPC status code), and turns
/// an unexpected exception into a plain Internal status so no stack trace leaves the process.
/// </summary>
public sealed partial class GrpcMetricsInterceptor : Interceptor
{
    private readonly Counter _handled;
    private readonly Histogram _duration;
    private readonly Gauge _inFlight;
    private readonly TimeProvider _time;
    private readonly ILogger<GrpcMetricsInterceptor> _logger;

    public GrpcMetricsInterceptor(MetricsRegistry metrics, TimeProvider time, ILogger<GrpcMetricsInterceptor> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _time = time;
        _logger = logger;
        _handled = metrics.Counter(
            "securedra_grpc_server_handled_total",
            "gRPC calls completed by the kubelet plugin, by service, method and status code.",
            "service", "method", "code");
        _duration = metrics.Histogram(
            "securedra_grpc_server_handling_seconds",
            "Time the kubelet plugin took to answer a gRPC call, by service, method and status code.",
            MetricsRegistry.LatencyBuckets,
            "service", "method", "code");
        _inFlight = metrics.Gauge(
            "securedra_grpc_server_in_flight",
            "gRPC calls the kubelet plugin is answering now, by service and method (only methods the plugin serves reach here: a closed set).",
            "service", "method");
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        return ObserveAsync(context, () => continuation(request, context));
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        return ObserveAsync(context, async () =>
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            return true;
        });
    }

    /// <summary>One call, unary or streaming: in flight while it runs, then counted and timed by its status code.</summary>
    private async Task<T> ObserveAsync<T>(ServerCallContext context, Func<Task<T>> call)
    {
        var started = _time.GetTimestamp();
        var code = StatusCode.OK;
        var (service, method) = Split(context.Method);
        _inFlight.Add(1, service, method);
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            var mapped = Map(ex, context);
            code = mapped.StatusCode;
            throw mapped;
        }
        finally
        {
            _inFlight.Add(-1, service, method);
            Record(context.Method, code, started);
        }
    }

    private RpcException Map(Exception exception, ServerCallContext context)
    {
        switch (exception)
        {
            case RpcException rpc:
                return rpc;
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return new RpcException(new Status(StatusCode.Cancelled, "call cancelled or deadline exceeded"));
            default:
                LogUnexpected(exception, context.Method);
                return new RpcException(new Status(StatusCode.Internal, "internal error in the kubelet plugin (see its log)"));
        }
    }

    private void Record(string fullMethod, StatusCode code, long started)
    {
        var (service, method) = Split(fullMethod);
        var codeName = code.ToString();
        _handled.Inc(service, method, codeName);
        _duration.Observe(_time.GetElapsedTime(started).TotalSeconds, service, method, codeName);
    }

    /// <summary>"/pkg.Service/Method" → ("pkg.Service", "Method").</summary>
    internal static (string Service, string Method) Split(string fullMethod)
    {
        var trimmed = fullMethod.AsSpan().TrimStart('/');
        var slash = trimmed.LastIndexOf('/');
        return slash < 0 ? ("", trimmed.ToString()) : (trimmed[..slash].ToString(), trimmed[(slash + 1)..].ToString());
    }
}
