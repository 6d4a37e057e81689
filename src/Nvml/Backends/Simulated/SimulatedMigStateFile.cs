using System.Text.Json;
using SecureDra.Nvml.Backends.Mig;

namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>
/// Reads and atomically replaces <c>DIR/&lt;device&gt;.mig.json</c>. A missing file is "no instances"; an oversized,
/// malformed or inconsistent one (overlapping placements, duplicate ids, too many instances) is an error naming the
/// file, never silently repaired: the plugin must not publish or scrub on made-up state.
/// </summary>
public static class SimulatedMigStateFile
{
    public const int MaxBytes = 64 * 1024;
    public const string Suffix = ".mig.json";

    public static string PathFor(string vramDirectory, string deviceName) => Path.Combine(vramDirectory, deviceName + Suffix);

    public static SimulatedMigState Read(string vramDirectory, string deviceName)
    {
        var path = PathFor(vramDirectory, deviceName);
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length > MaxBytes)
            {
                throw new GpuBackendException($"MIG state file {path}: {stream.Length} bytes exceeds the limit of {MaxBytes}");
            }

            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (FileNotFoundException)
        {
            return SimulatedMigState.Empty;
        }
        catch (DirectoryNotFoundException)
        {
            return SimulatedMigState.Empty;
        }

        SimulatedMigState state;
        try
        {
            state = JsonSerializer.Deserialize(bytes, SimulatedFaultsJsonContext.Default.SimulatedMigState) ?? SimulatedMigState.Empty;
        }
        catch (JsonException e)
        {
            throw new GpuBackendException($"MIG state file {path}: {e.Message}", e);
        }

        // Absent or null lists read as empty (the serializer leaves them null); a null instance is malformed.
        if (state.Instances is null)
        {
            return SimulatedMigState.Empty;
        }

        if (state.Instances.Any(i => i is null))
        {
            throw new GpuBackendException($"MIG state file {path}: instances must not contain null");
        }

        state = state with { Instances = [.. state.Instances.Select(i => i.ComputeInstanceIds is null ? i with { ComputeInstanceIds = [] } : i)] };
        Validate(path, state);
        return state;
    }

    public static void Write(string vramDirectory, string deviceName, SimulatedMigState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        Directory.CreateDirectory(vramDirectory);
        var path = PathFor(vramDirectory, deviceName);
        var temp = path + $".{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(state, SimulatedFaultsJsonContext.Default.SimulatedMigState));
        File.Move(temp, path, overwrite: true);
    }

    private static void Validate(string path, SimulatedMigState state)
    {
        if (state.Instances.Count > MigPlacement.MemorySliceCount)
        {
            throw new GpuBackendException($"MIG state file {path}: {state.Instances.Count} instances exceeds the limit of {MigPlacement.MemorySliceCount}");
        }

        for (var i = 0; i < state.Instances.Count; i++)
        {
            var a = state.Instances[i];
            var placement = new MigPlacement(a.Start, a.Size);
            if (!placement.IsValid || a.ComputeInstanceIds.Count > 1 || a.GpuInstanceId < 0)
            {
                throw new GpuBackendException($"MIG state file {path}: instance {a.GpuInstanceId} is invalid (placement {placement}, {a.ComputeInstanceIds.Count} compute instances; at most 1)");
            }

            for (var j = 0; j < i; j++)
            {
                var b = state.Instances[j];
                if (b.GpuInstanceId == a.GpuInstanceId || new MigPlacement(b.Start, b.Size).Overlaps(placement))
                {
                    throw new GpuBackendException($"MIG state file {path}: instances {b.GpuInstanceId} and {a.GpuInstanceId} collide");
                }
            }
        }
    }
}
