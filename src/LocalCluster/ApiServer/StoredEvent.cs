using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>A committed change, in the stored shape; <see cref="Previous"/> lets watchers apply selectors to both sides.</summary>
public sealed record StoredEvent(long ResourceVersion, string TypeKey, string? Namespace, string EventType, JsonObject Object, JsonObject? Previous);
