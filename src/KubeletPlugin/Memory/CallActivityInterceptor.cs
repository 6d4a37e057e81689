using Grpc.Core;
using Grpc.Core.Interceptors;

namespace SecureDra.KubeletPlugin.Memory;

/// <summary>
/// Marks each unary gRPC call's start and end in <see cref="CallActivity"/>. Unary only: the device health stream
/// (WatchResources) stays open for the plugin's life and would make it look busy forever. Registered only when the
/// idle trim is on, so a plugin without it pays nothing.
/// </summary>
public sealed class CallActivityInterceptor(CallActivity activity) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        activity.Begin();
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        finally
        {
            activity.End();
        }
    }
}
