using System.Text.Json;

namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>
/// The cross-process fault-injection file of one simulated GPU: <c>DIR/&lt;device&gt;.faults.json</c>,
/// for example <c>/tmp/vram/gpu-3.faults.json</c>:
/// <code>
/// {
///   "runningProcesses": [ { "pid": 4242, "usedMemoryBytes": 1048576 } ],
///   "failAllocations": false,
///   "allocatableFraction": 0.5,
///   "memoryDelayMs": 0,
///   "failVerification": false,
///   "failSession": false,
///   "migEnabled": false,
///   "migPending": false,
///   "migModel": "H100-80GB",
///   "migFailCreate": false,
///   "migDestroyInUse": false,
///   "migFailVerifySlice": 3,
///   "migDriverZeroesOnDestroy": false,
///   "healthEvents": [ { "kind": "xid", "data": 79, "description": "fell off the bus" } ]
/// }
/// </code>
/// All fields are optional; a missing file means no faults; unknown fields and files over
/// <see cref="MaxBytes"/> are rejected with an error naming the file. Writers replace the file
/// atomically (<see cref="Write"/>), readers re-read it on every operation and health poll.
/// </summary>
public static class SimulatedFaultFile
{
    public const int MaxBytes = 64 * 1024;
    public const string Suffix = ".faults.json";

    public static string PathFor(string vramDirectory, string deviceName) => Path.Combine(vramDirectory, deviceName + Suffix);

    public static SimulatedFaults Read(string vramDirectory, string deviceName)
    {
        var path = PathFor(vramDirectory, deviceName);
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length > MaxBytes)
            {
                throw new GpuBackendException($"fault file {path}: {stream.Length} bytes exceeds the limit of {MaxBytes}");
            }

            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (FileNotFoundException)
        {
            return SimulatedFaults.None;
        }
        catch (DirectoryNotFoundException)
        {
            return SimulatedFaults.None;
        }

        if (bytes.Length == 0)
        {
            return SimulatedFaults.None;
        }

        try
        {
            var faults = JsonSerializer.Deserialize(bytes, SimulatedFaultsJsonContext.Default.SimulatedFaults) ?? SimulatedFaults.None;
            Validate(path, faults);
            return faults;
        }
        catch (JsonException e)
        {
            throw new GpuBackendException($"fault file {path}: {e.Message}", e);
        }
    }

    public static void Write(string vramDirectory, string deviceName, SimulatedFaults faults)
    {
        ArgumentNullException.ThrowIfNull(faults);
        Directory.CreateDirectory(vramDirectory);
        var path = PathFor(vramDirectory, deviceName);
        var temp = path + $".{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(faults, SimulatedFaultsJsonContext.Default.SimulatedFaults));
        File.Move(temp, path, overwrite: true);
    }

    public static void Delete(string vramDirectory, string deviceName) => File.Delete(PathFor(vramDirectory, deviceName));

    private static void Validate(string path, SimulatedFaults faults)
    {
        if (faults.AllocatableFraction is { } f && (double.IsNaN(f) || f < 0 || f > 1))
        {
            throw new GpuBackendException($"fault file {path}: allocatableFraction must be between 0 and 1, got {f}");
        }

        if (faults.MemoryDelayMs is < 0 or > 600_000)
        {
            throw new GpuBackendException($"fault file {path}: memoryDelayMs must be between 0 and 600000, got {faults.MemoryDelayMs}");
        }

        if (faults.RunningProcesses is { Count: > 1024 } || faults.HealthEvents is { Count: > 1024 })
        {
            throw new GpuBackendException($"fault file {path}: runningProcesses and healthEvents are limited to 1024 entries");
        }

        if (faults.MigFailVerifySlice is { } slice && (slice < 0 || slice >= Mig.MigPlacement.MemorySliceCount))
        {
            throw new GpuBackendException($"fault file {path}: migFailVerifySlice must be between 0 and {Mig.MigPlacement.MemorySliceCount - 1}, got {slice}");
        }

        if (faults.MigModel is { } model && SimulatedMigModels.Parse(model) is null)
        {
            throw new GpuBackendException($"fault file {path}: migModel must be one of {string.Join(", ", SimulatedMigModels.Names)}, got '{model}'");
        }

        foreach (var e in faults.HealthEvents ?? [])
        {
            _ = e.ParseKind();
        }
    }
}
