using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using SecureDra.Nvml.Backends;

namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>
/// Every MIG manager call passes here: a request carrying fields this version does not know is refused (a caller
/// built against another contract must not have part of its request silently ignored), a field out of range is
/// InvalidArgument naming the field, a backend failure crosses the socket with its MIG error code
/// (<see cref="MigManagerErrors"/>), and each call is counted by operation and result.
/// </summary>
public sealed partial class StrictRequestInterceptor(MigManagerMetrics metrics, ILogger<StrictRequestInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        var operation = context.Method[(context.Method.LastIndexOf('/') + 1)..];
        if (request is IMessage message && HasUnknownFields(message))
        {
            metrics.Refused("unknown_fields");
            LogRefused(logger, operation, "the request carries fields this manager does not know");
            metrics.Call(operation, nameof(StatusCode.InvalidArgument));
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"{operation}: the request carries fields this MIG manager does not know; refused"));
        }

        try
        {
            var response = await continuation(request, context).ConfigureAwait(false);
            metrics.Call(operation, "ok");
            return response;
        }
        catch (ArgumentException e)
        {
            metrics.Refused("invalid");
            LogRefused(logger, operation, e.Message);
            metrics.Call(operation, nameof(StatusCode.InvalidArgument));
            throw new RpcException(new Status(StatusCode.InvalidArgument, MigManagerErrors.Truncate(e.Message)));
        }
        catch (GpuBackendException e)
        {
            LogFailed(logger, operation, e.Message);
            var rpc = MigManagerErrors.ToRpc(e);
            metrics.Call(operation, rpc.StatusCode.ToString());
            throw rpc;
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            metrics.Call(operation, nameof(StatusCode.DeadlineExceeded));
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"{operation}: ran past the MIG manager's time limit"));
        }
    }

    /// <summary>
    /// Generated messages keep unknown fields and compare them in Equals: a copy parsed with unknown fields discarded
    /// equals the request exactly when it had none (nested messages included).
    /// </summary>
    public static bool HasUnknownFields(IMessage message)
    {
        var stripped = message.Descriptor.Parser.WithDiscardUnknownFields(true).ParseFrom(message.ToByteString());
        return !stripped.Equals(message);
    }
}
