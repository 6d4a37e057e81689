using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.Kube.Client;
using SecureDra.Kube.Resources;

namespace SecureDra.Kube.Taints;

public sealed partial class DeviceTaintRuleWriter
{
    [LoggerMessage(EventId = EventIds.DeviceTaintRuleWriter.Applied, Level = LogLevel.Warning, Message = "DeviceTaintRule {Name} withdraws {Target} ({TaintKey}, NoSchedule) via resource.k8s.io/{Version}")]
    private static partial void LogApplied(ILogger logger, string name, string target, string taintKey, string version);

    [LoggerMessage(EventId = EventIds.DeviceTaintRuleWriter.Removed, Level = LogLevel.Information, Message = "DeviceTaintRule {Name} removed: {Target} is no longer withdrawn")]
    private static partial void LogRemoved(ILogger logger, string name, string target);

    [LoggerMessage(EventId = EventIds.DeviceTaintRuleWriter.NotServed, Level = LogLevel.Warning, Message = "No DeviceTaintRule can be published: {Detail}; withdrawn devices are refused at Prepare only")]
    private static partial void LogNotServed(ILogger logger, string detail);

    [LoggerMessage(EventId = EventIds.DeviceTaintRuleWriter.Forbidden, Level = LogLevel.Error, Message = "The API server refused DeviceTaintRule {Name} for {Target}: {Failure}")]
    private static partial void LogForbidden(ILogger logger, string name, string target, string failure);
}
