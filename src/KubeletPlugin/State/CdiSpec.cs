using System.Text.Json.Serialization;

namespace SecureDra.KubeletPlugin.State;

/// <summary>The subset of the CDI spec (github.com/cncf-tags/container-device-interface SPEC.md) we write.</summary>
public sealed record CdiSpec(
    [property: JsonPropertyName("cdiVersion")] string CdiVersion,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("annotations")] IReadOnlyDictionary<string, string>? Annotations,
    [property: JsonPropertyName("devices")] IReadOnlyList<CdiDevice> Devices);

public sealed record CdiDevice(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("containerEdits")] CdiContainerEdits ContainerEdits);

public sealed record CdiContainerEdits(
    [property: JsonPropertyName("env")] IReadOnlyList<string> Env,
    [property: JsonPropertyName("deviceNodes")] IReadOnlyList<CdiDeviceNode> DeviceNodes);

public sealed record CdiDeviceNode([property: JsonPropertyName("path")] string Path);

[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CdiSpec))]
internal sealed partial class CdiJsonContext : JsonSerializerContext;
