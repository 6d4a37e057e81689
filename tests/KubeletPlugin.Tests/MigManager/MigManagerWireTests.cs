using Google.Protobuf;
using Grpc.Core;
using SecureDra.KubeletPlugin.MigManager;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using Wire = SecureDra.Protocol.MigManager.V1;

namespace SecureDra.KubeletPlugin.Tests.MigManager;

/// <summary>
/// Both sides' checks of the MIG manager contract without a process: the manager's request fields and unknown-field
/// detection, the plugin's checks of answers (a broken or hostile manager's answer is never believed), and error codes
/// that cross the socket unchanged.
/// </summary>
public sealed class MigManagerWireTests
{
    [Fact]
    public void Unknown_fields_are_detected_at_any_depth_and_known_ones_are_not()
    {
        var clean = new Wire.CreateGpuInstanceRequest { GpuUuid = "GPU-1", ProfileId = 19, Placement = new Wire.Placement { Start = 1, Size = 1 } };
        Assert.False(StrictRequestInterceptor.HasUnknownFields(clean));

        var topLevel = Wire.CreateGpuInstanceRequest.Parser.ParseFrom([.. clean.ToByteArray(), 0xF8, 0x06, 0x01]);
        Assert.True(StrictRequestInterceptor.HasUnknownFields(topLevel));

        // Field 3 (placement) carrying an extra field 9 inside it.
        var placement = new Wire.Placement { Start = 1, Size = 1 }.ToByteArray().Concat(new byte[] { 0x48, 0x07 }).ToArray();
        var nested = Wire.CreateGpuInstanceRequest.Parser.ParseFrom([.. new Wire.CreateGpuInstanceRequest { GpuUuid = "GPU-1" }.ToByteArray(), 0x1A, (byte)placement.Length, .. placement]);
        Assert.True(StrictRequestInterceptor.HasUnknownFields(nested));
    }

    [Theory]
    [InlineData(-1, 1)]
    [InlineData(0, 0)]
    [InlineData(7, 2)]
    [InlineData(8, 1)]
    public void Placements_outside_the_eight_memory_slices_are_refused_naming_the_field(int start, int size)
    {
        var e = Assert.Throws<ArgumentException>(() => MigManagerWire.Placement(new Wire.Placement { Start = start, Size = size }, "placement"));
        Assert.StartsWith("placement: must lie within memory slices 0 to 7", e.Message, StringComparison.Ordinal);
        Assert.Equal("placement: required", Assert.Throws<ArgumentException>(() => MigManagerWire.Placement(null, "placement")).Message);
    }

    [Fact]
    public void Request_ids_and_uuids_are_bounded()
    {
        Assert.Equal("gpu_instance_id: must be from 0 to 64, got 65", Assert.Throws<ArgumentException>(() => MigManagerWire.Id(65, "gpu_instance_id")).Message);
        Assert.Throws<ArgumentException>(() => MigManagerWire.GpuUuid(""));
        Assert.Throws<ArgumentException>(() => MigManagerWire.GpuUuid(new string('a', 97)));
        Assert.Throws<ArgumentException>(() => MigManagerWire.GpuUuid("GPU-\u0000"));
        Assert.Throws<ArgumentException>(() => MigManagerWire.InstanceUuid("GPU-1"));
        Assert.Equal("MIG-1", MigManagerWire.InstanceUuid("MIG-1"));
    }

    [Fact]
    public void Answers_that_break_the_bounds_are_not_believed()
    {
        var tooMany = new Wire.InstancesResponse();
        tooMany.Instances.AddRange(Enumerable.Range(0, 65).Select(i => Instance(i)));
        Assert.Contains("instances: at most 64 entries", Assert.Throws<ArgumentException>(() => MigManagerWire.FromWire(tooMany, "gpu-0")).Message, StringComparison.Ordinal);

        var badPlacement = new Wire.InstancesResponse();
        badPlacement.Instances.Add(Instance(1, start: 6, size: 4));
        Assert.Contains("instance.placement", Assert.Throws<ArgumentException>(() => MigManagerWire.FromWire(badPlacement, "gpu-0")).Message, StringComparison.Ordinal);

        var badUuid = new Wire.InstancesResponse();
        badUuid.Instances.Add(Instance(1, uuid: "GPU-not-a-mig-uuid"));
        Assert.Contains("instance_uuid", Assert.Throws<ArgumentException>(() => MigManagerWire.FromWire(badUuid, "gpu-0")).Message, StringComparison.Ordinal);

        var negative = new Wire.InstancesResponse();
        negative.Instances.Add(Instance(1, memory: -1));
        Assert.Contains("instance.memory_bytes", Assert.Throws<ArgumentException>(() => MigManagerWire.FromWire(negative, "gpu-0")).Message, StringComparison.Ordinal);

        // A good answer carries this side's parent name, whatever the manager calls the GPU.
        var good = new Wire.InstancesResponse();
        good.Instances.Add(Instance(3));
        var instance = Assert.Single(MigManagerWire.FromWire(good, "gpu-7"));
        Assert.Equal("gpu-7", instance.ParentDeviceName);
        Assert.Equal(new MigPlacement(2, 1), instance.Placement);
    }

    [Theory]
    [InlineData(MigErrorCode.InsufficientResources, StatusCode.ResourceExhausted)]
    [InlineData(MigErrorCode.InUse, StatusCode.FailedPrecondition)]
    [InlineData(MigErrorCode.NoPermission, StatusCode.PermissionDenied)]
    [InlineData(MigErrorCode.NotFound, StatusCode.NotFound)]
    [InlineData(MigErrorCode.InvalidArgument, StatusCode.InvalidArgument)]
    [InlineData(MigErrorCode.NotSupported, StatusCode.Unimplemented)]
    [InlineData(MigErrorCode.Other, StatusCode.Internal)]
    public void Mig_error_codes_cross_the_socket_unchanged(MigErrorCode code, StatusCode status)
    {
        var rpc = MigManagerErrors.ToRpc(new MigException(code, "gpu-0: it failed"));
        Assert.Equal(status, rpc.StatusCode);
        var back = Assert.IsType<MigException>(MigManagerErrors.FromRpc(new RpcException(rpc.Status, rpc.Trailers), "Op", "/s"));
        Assert.Equal(code, back.Code);
        Assert.Contains("gpu-0: it failed", back.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failure_without_the_managers_code_is_the_manager_being_unavailable_and_long_messages_are_cut()
    {
        var backend = MigManagerErrors.FromRpc(new RpcException(MigManagerErrors.ToRpc(new GpuBackendException("nvml gone")).Status, MigManagerErrors.ToRpc(new GpuBackendException("x")).Trailers), "Op", "/s");
        Assert.IsNotType<MigException>(backend);
        Assert.IsNotType<MigManagerUnavailableException>(backend);

        var forged = new Metadata { { MigManagerErrors.CodeTrailer, "NotAnErrorCode" } };
        Assert.IsType<MigManagerUnavailableException>(MigManagerErrors.FromRpc(new RpcException(new Status(StatusCode.Internal, "x"), forged), "Op", "/s"));
        var unavailable = MigManagerErrors.FromRpc(new RpcException(new Status(StatusCode.Unavailable, new string('x', 10_000))), "Ping", "/run/s.sock");
        Assert.IsType<MigManagerUnavailableException>(unavailable);
        Assert.True(unavailable.Message.Length < 1000, unavailable.Message.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("MIG devices stay withdrawn", unavailable.Message, StringComparison.Ordinal);
    }

    private static Wire.Instance Instance(int gi, int start = 2, int size = 1, long memory = 1 << 20, string? uuid = null)
    {
        var i = new Wire.Instance { GpuInstanceId = gi % 64, ProfileId = 19, ProfileName = "1g.10gb", Placement = new Wire.Placement { Start = start, Size = size }, MemoryBytes = memory, Uuid = uuid ?? $"MIG-{gi}" };
        i.ComputeInstances.Add(new Wire.ComputeInstance { Id = 0, ProfileId = 0 });
        return i;
    }
}
