using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>Source-generated serializer metadata: JsonNode only, so Native AOT needs no reflection.</summary>
[JsonSerializable(typeof(JsonNode))]
internal sealed partial class JsonContext : JsonSerializerContext;
