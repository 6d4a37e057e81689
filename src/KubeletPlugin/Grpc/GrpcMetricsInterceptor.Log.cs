using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Grpc;

public sealed partial class GrpcMetricsInterceptor
{
    [LoggerMessage(EventId = EventIds.GrpcMetricsInterceptor.Unexpected, Level = LogLevel.Error, Message = "Unexpected exception in gRPC method {GrpcMethod}; answered Internal")]
    private partial void LogUnexpected(Exception exception, string grpcMethod);
}
