using Grpc.Core;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;

namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>
/// How a backend failure crosses the socket and comes back as the same exception: a <see cref="MigException"/> keeps
/// its <see cref="MigErrorCode"/> (trailer <see cref="CodeTrailer"/>), any other <see cref="GpuBackendException"/>
/// becomes one again. A failure without the trailer (socket gone, deadline, refused) is the manager being
/// unreachable: <see cref="MigManagerUnavailableException"/>, which callers treat as fail-closed.
/// </summary>
public static class MigManagerErrors
{
    public const string CodeTrailer = "securedra-mig-error";
    public const string BackendCode = "backend";
    private const int MaxMessageChars = 512;

    public static RpcException ToRpc(GpuBackendException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var (status, code) = exception is MigException mig
            ? (mig.Code switch
            {
                MigErrorCode.InsufficientResources => StatusCode.ResourceExhausted,
                MigErrorCode.InUse => StatusCode.FailedPrecondition,
                MigErrorCode.NoPermission => StatusCode.PermissionDenied,
                MigErrorCode.NotSupported => StatusCode.Unimplemented,
                MigErrorCode.NotFound => StatusCode.NotFound,
                MigErrorCode.InvalidArgument => StatusCode.InvalidArgument,
                _ => StatusCode.Internal,
            }, mig.Code.ToString())
            : (StatusCode.Internal, BackendCode);
        return new RpcException(new Status(status, Truncate(exception.Message)), new Metadata { { CodeTrailer, code } });
    }

    /// <summary>The exception the local backend would have thrown for <paramref name="exception"/>.</summary>
    public static GpuBackendException FromRpc(RpcException exception, string operation, string socketPath)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var code = exception.Trailers.GetValue(CodeTrailer);
        var message = Truncate(exception.Status.Detail);
        if (code == BackendCode)
        {
            return new GpuBackendException($"MIG manager, {operation}: {message}", exception);
        }

        if (code is not null && Enum.TryParse<MigErrorCode>(code, ignoreCase: false, out var mig) && Enum.IsDefined(mig))
        {
            return new MigException(mig, $"MIG manager, {operation}: {message}", exception);
        }

        return new MigManagerUnavailableException($"MIG manager at {socketPath} did not answer {operation} ({exception.StatusCode}: {message}); MIG devices stay withdrawn until it does", exception);
    }

    public static string Truncate(string? text) =>
        text is null ? "" : text.Length <= MaxMessageChars ? text : text[..MaxMessageChars] + "…";
}
