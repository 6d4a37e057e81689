using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.Hosting;

public sealed partial class SocketLifecycle
{
    [LoggerMessage(EventId = EventIds.SocketLifecycle.Listening, Level = LogLevel.Information, Message = "Kubelet plugin listening: registration {RegistrationSocket}, DRA {DraSocket}")]
    private partial void LogListening(string registrationSocket, string draSocket);

    [LoggerMessage(EventId = EventIds.SocketLifecycle.ClaimFailed, Level = LogLevel.Critical, Message = "Could not set socket modes to 0600; stopping")]
    private partial void LogClaimFailed(Exception exception);
}
