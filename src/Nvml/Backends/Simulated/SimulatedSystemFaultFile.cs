using System.Text.Json;
using SecureDra.Nvml.Backends.Confidential;

namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>
/// <c>DIR/system.faults.json</c> (see <see cref="SimulatedSystemFaults"/>), for example
/// <code>{ "confidentialCompute": { "environment": "production", "ccFeature": true, "devToolsMode": false, "multiGpuMode": "none", "gpusReady": false } }</code>
/// Bounded, unknown fields rejected, errors name the file and the field; a missing file means no CC.
/// </summary>
public static class SimulatedSystemFaultFile
{
    public const int MaxBytes = 16 * 1024;
    public const string FileName = "system.faults.json";

    public static string PathFor(string vramDirectory) => Path.Combine(vramDirectory, FileName);

    public static SimulatedSystemFaults Read(string vramDirectory)
    {
        var path = PathFor(vramDirectory);
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length > MaxBytes)
            {
                throw new GpuBackendException($"system fault file {path}: {stream.Length} bytes exceeds the limit of {MaxBytes}");
            }

            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (FileNotFoundException)
        {
            return SimulatedSystemFaults.None;
        }
        catch (DirectoryNotFoundException)
        {
            return SimulatedSystemFaults.None;
        }

        if (bytes.Length == 0)
        {
            return SimulatedSystemFaults.None;
        }

        SimulatedSystemFaults faults;
        try
        {
            faults = JsonSerializer.Deserialize(bytes, SimulatedFaultsJsonContext.Default.SimulatedSystemFaults) ?? SimulatedSystemFaults.None;
        }
        catch (JsonException e)
        {
            throw new GpuBackendException($"system fault file {path}: {e.Message}", e);
        }

        if (faults.ConfidentialCompute is { } cc)
        {
            if (ParseEnvironment(cc.Environment) is null)
            {
                throw new GpuBackendException($"system fault file {path}: confidentialCompute.environment must be unavailable, simulation or production, got '{cc.Environment}'");
            }

            if (cc.MultiGpuMode is not null && ParseMultiGpuMode(cc.MultiGpuMode) is null)
            {
                throw new GpuBackendException($"system fault file {path}: confidentialCompute.multiGpuMode must be none, protected-pcie or nvle, got '{cc.MultiGpuMode}'");
            }
        }

        return faults;
    }

    public static void Write(string vramDirectory, SimulatedSystemFaults faults)
    {
        ArgumentNullException.ThrowIfNull(faults);
        Directory.CreateDirectory(vramDirectory);
        var path = PathFor(vramDirectory);
        var temp = path + $".{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(faults, SimulatedFaultsJsonContext.Default.SimulatedSystemFaults));
        File.Move(temp, path, overwrite: true);
    }

    internal static CcEnvironment? ParseEnvironment(string value) => value switch
    {
        "unavailable" => CcEnvironment.Unavailable,
        "simulation" => CcEnvironment.Simulation,
        "production" => CcEnvironment.Production,
        _ => null,
    };

    internal static CcMultiGpuMode? ParseMultiGpuMode(string value) => value switch
    {
        "none" => CcMultiGpuMode.None,
        "protected-pcie" => CcMultiGpuMode.ProtectedPcie,
        "nvle" => CcMultiGpuMode.Nvle,
        _ => null,
    };
}
