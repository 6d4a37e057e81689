using System.Text.Json.Serialization;

namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>Source-generated JSON for fault files: camelCase, unknown fields rejected.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
    WriteIndented = true)]
[JsonSerializable(typeof(SimulatedFaults))]
[JsonSerializable(typeof(SimulatedMigState))]
[JsonSerializable(typeof(SimulatedSystemFaults))]
internal sealed partial class SimulatedFaultsJsonContext : JsonSerializerContext;
