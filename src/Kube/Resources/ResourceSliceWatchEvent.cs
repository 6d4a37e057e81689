using System.Text.Json.Nodes;

namespace SecureDra.Kube.Resources;

/// <summary>
/// One watch event on ResourceSlices. <see cref="Slice"/> is set for ADDED / MODIFIED / DELETED;
/// BOOKMARK carries only <see cref="ResourceVersion"/>; ERROR carries the Status in <see cref="Object"/>
/// (410 Expired: list again).
/// </summary>
public sealed record ResourceSliceWatchEvent(string Type, ResourceSliceModel? Slice, string? ResourceVersion, JsonObject Object);
