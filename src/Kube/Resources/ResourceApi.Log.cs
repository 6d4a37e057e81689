using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.Kube.Client;
using SecureDra.Kube.Resources.Wire;

namespace SecureDra.Kube.Resources;

public sealed partial class ResourceApi
{
    [LoggerMessage(EventId = EventIds.ResourceApi.Negotiated, Level = LogLevel.Information, Message = "Using resource.k8s.io/{ResourceApiVersion} (served: {ServedVersions}; previous: {PreviousVersion})")]
    private static partial void LogNegotiated(ILogger logger, string resourceApiVersion, string servedVersions, string previousVersion);

    [LoggerMessage(EventId = EventIds.ResourceApi.NoneServed, Level = LogLevel.Error, Message = "No usable resource.k8s.io version (served: {ServedVersions}): {Reason}")]
    private static partial void LogNoneServed(ILogger logger, string servedVersions, string reason);

    [LoggerMessage(EventId = EventIds.ResourceApi.VersionGone, Level = LogLevel.Warning, Message = "resource.k8s.io/{ResourceApiVersion} is no longer served (served: {ServedVersions}); negotiating again")]
    private static partial void LogVersionGone(ILogger logger, string resourceApiVersion, string servedVersions);
}
