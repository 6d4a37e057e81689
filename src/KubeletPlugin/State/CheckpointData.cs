using System.Text.Json;
using System.Text.Json.Serialization;

namespace SecureDra.KubeletPlugin.State;

/// <summary>
/// The checkpoint payload. Every type keeps fields it does not know in
/// <c>Extra</c> and writes them back, so a downgrade followed by an upgrade loses nothing.
/// </summary>
public sealed class CheckpointData
{
    /// <summary>Payload format; readers refuse a higher major they cannot interpret.</summary>
    public const int CurrentFormat = 1;

    [JsonPropertyName("format")]
    public int Format { get; set; } = CurrentFormat;

    [JsonPropertyName("bootId")]
    public string? BootId { get; set; }

    [JsonPropertyName("claims")]
    public Dictionary<string, CheckpointClaim> Claims { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Each device's durable state, written by <c>DeviceInventory</c> only. Null in a checkpoint
    /// written before this field existed: then no device has proof of a verified scrub.
    /// </summary>
    [JsonPropertyName("devices")]
    public Dictionary<string, CheckpointDeviceRecord>? Devices { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class CheckpointClaim
{
    [JsonPropertyName("namespace")]
    public string Namespace { get; set; } = "";

    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    [JsonPropertyName("state")]
    public ClaimCheckpointState State { get; set; }

    [JsonPropertyName("devices")]
    public List<CheckpointDevice> Devices { get; set; } = [];

    /// <summary>The answer given to the kubelet; a repeated Prepare returns exactly this.</summary>
    [JsonPropertyName("prepared")]
    public List<CheckpointPreparedDevice>? Prepared { get; set; }

    /// <summary>In <see cref="ClaimCheckpointState.ScrubFailed"/>: devices still waiting for a verified scrub.</summary>
    [JsonPropertyName("dirtyDevices")]
    public List<string>? DirtyDevices { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class CheckpointDevice
{
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    [JsonPropertyName("uuid")]
    public string Uuid { get; set; } = "";

    /// <summary>The effective GpuConfig reset policy, for evidence.</summary>
    [JsonPropertyName("resetPolicy")]
    public string? ResetPolicy { get; set; }

    /// <summary>
    /// Dynamic MIG: the instance this claim creates for the placement. Written (without ids) and made durable before the
    /// create call, so a crash after it still tells the restart that memory behind the placement may be in an instance;
    /// the ids and the MIG UUID are added once the instance exists.
    /// </summary>
    [JsonPropertyName("migInstance")]
    public CheckpointMigInstance? MigInstance { get; set; }

    /// <summary>
    /// A MIG device (static or dynamic): the instance whose nodes the claim's CDI spec hands out, so the spec can be
    /// rebuilt from the checkpoint, through the same instance found again, when it is lost. Written with the Prepared
    /// commit (dynamic: with the instance's ids). Absent in checkpoints written before it existed: those specs are
    /// not rebuilt. An optional field, as <c>memorySlices</c> was: format 1 is unchanged, and a version that does not
    /// know it keeps it and writes it back.
    /// </summary>
    [JsonPropertyName("migSpec")]
    public CheckpointMigSpec? MigSpec { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>A MIG instance created by the plugin for a claim (dynamic MIG): where, and once created, which.</summary>
public sealed class CheckpointMigInstance
{
    /// <summary>The parent GPU's device name.</summary>
    [JsonPropertyName("parent")]
    public string Parent { get; set; } = "";

    [JsonPropertyName("profileId")]
    public int ProfileId { get; set; }

    [JsonPropertyName("start")]
    public int Start { get; set; }

    [JsonPropertyName("size")]
    public int Size { get; set; }

    /// <summary>Null until the GPU instance exists.</summary>
    [JsonPropertyName("gpuInstanceId")]
    public int? GpuInstanceId { get; set; }

    /// <summary>Null until the compute instance exists.</summary>
    [JsonPropertyName("computeInstanceId")]
    public int? ComputeInstanceId { get; set; }

    /// <summary>The MIG UUID; null until the compute instance exists.</summary>
    [JsonPropertyName("uuid")]
    public string? Uuid { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }

    public CheckpointMigInstance Clone() => new()
    {
        Parent = Parent, ProfileId = ProfileId, Start = Start, Size = Size, GpuInstanceId = GpuInstanceId,
        ComputeInstanceId = ComputeInstanceId, Uuid = Uuid, Extra = Extra,
    };
}

/// <summary>
/// The MIG instance a prepared claim's CDI spec was built from: its parent GPU and ids (the MIG UUID is the device's
/// <c>uuid</c>). A rebuild finds the instance at the placement again and uses it only when all of them still match.
/// </summary>
public sealed class CheckpointMigSpec
{
    /// <summary>The parent GPU's UUID: a GPU swapped under the same name is another GPU.</summary>
    [JsonPropertyName("parentUuid")]
    public string ParentUuid { get; set; } = "";

    [JsonPropertyName("gpuInstanceId")]
    public int GpuInstanceId { get; set; }

    [JsonPropertyName("computeInstanceId")]
    public int ComputeInstanceId { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }

    public CheckpointMigSpec Clone() => new() { ParentUuid = ParentUuid, GpuInstanceId = GpuInstanceId, ComputeInstanceId = ComputeInstanceId, Extra = Extra };
}

/// <summary>One device's durable state; a device without a record has no proof of being clean.</summary>
public sealed class CheckpointDeviceRecord
{
    /// <summary>The UUID the state was recorded for: a different GPU under the same name starts unknown.</summary>
    [JsonPropertyName("uuid")]
    public string Uuid { get; set; } = "";

    [JsonPropertyName("state")]
    public DurableDeviceState State { get; set; }

    /// <summary>The claim in Prepared and Releasing.</summary>
    [JsonPropertyName("claim")]
    public string? Claim { get; set; }

    /// <summary>In Dirty: VramDirty (interrupted, unverified) or ScrubFailed.</summary>
    [JsonPropertyName("reason")]
    public string? Reason { get; set; }

    [JsonPropertyName("detail")]
    public string? Detail { get; set; }

    /// <summary>
    /// A partitioned (MIG) GPU: the state of each of its 8 memory slices. While any slice is not
    /// Clean the record itself says Dirty, so a plugin version that does not know this field scrubs
    /// the whole GPU rather than offering it; this version reads the slices instead.
    /// </summary>
    [JsonPropertyName("memorySlices")]
    public List<CheckpointMemorySlice>? MemorySlices { get; set; }

    /// <summary>True: the GPU itself is Clean and <see cref="State"/> says Dirty only for versions that do not read <see cref="MemorySlices"/>.</summary>
    [JsonPropertyName("slicesHoldState")]
    public bool? SlicesHoldState { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>One memory slice of a partitioned GPU: Clean, Prepared/Releasing for a claim, or Dirty with a reason.</summary>
public sealed class CheckpointMemorySlice
{
    [JsonPropertyName("state")]
    public DurableDeviceState State { get; set; }

    [JsonPropertyName("claim")]
    public string? Claim { get; set; }

    [JsonPropertyName("reason")]
    public string? Reason { get; set; }

    [JsonPropertyName("detail")]
    public string? Detail { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class CheckpointPreparedDevice
{
    [JsonPropertyName("requestNames")]
    public List<string> RequestNames { get; set; } = [];

    [JsonPropertyName("poolName")]
    public string PoolName { get; set; } = "";

    [JsonPropertyName("deviceName")]
    public string DeviceName { get; set; } = "";

    [JsonPropertyName("cdiDeviceIds")]
    public List<string> CdiDeviceIds { get; set; } = [];

    [JsonPropertyName("shareId")]
    public string? ShareId { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

[JsonSourceGenerationOptions(
    WriteIndented = false,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowDuplicateProperties = false,
    MaxDepth = 32)]
[JsonSerializable(typeof(CheckpointData))]
internal sealed partial class CheckpointJsonContext : JsonSerializerContext;
