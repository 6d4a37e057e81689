using Google.Protobuf.Reflection;
using V1 = SecureDra.Protocol.Dra.V1;
using V1Beta1 = SecureDra.Protocol.Dra.V1Beta1;

namespace SecureDra.Compatibility.Tests;

/// <summary>
/// The DRA gRPC messages as each kubelet sees them (reference sheet §1.3): v1 and v1beta1 share field
/// numbers 1–4 of <c>Device</c>; <c>share_id</c> (field 5, proto3 optional) exists only in v1, so a
/// 1.32/1.33 kubelet on v1beta1 never receives it.
/// </summary>
public class GrpcWireVersionTests
{
    [Fact]
    public void Share_id_is_field_5_of_v1_Device_only()
    {
        var v1 = V1.Device.Descriptor.FindFieldByNumber(5);
        Assert.NotNull(v1);
        Assert.Equal("share_id", v1.Name);
        Assert.Equal(FieldType.String, v1.FieldType);
        Assert.True(v1.HasPresence); // proto3 optional: absent unless set

        Assert.Null(V1Beta1.Device.Descriptor.FindFieldByNumber(5));
        Assert.Null(V1Beta1.Device.Descriptor.FindFieldByName("share_id"));
    }

    [Fact]
    public void Device_fields_1_to_4_are_the_same_on_v1_and_v1beta1()
    {
        foreach (var number in new[] { 1, 2, 3, 4 })
        {
            var v1 = V1.Device.Descriptor.FindFieldByNumber(number);
            var beta = V1Beta1.Device.Descriptor.FindFieldByNumber(number);
            Assert.Equal(v1.Name, beta.Name);
            Assert.Equal(v1.FieldType, beta.FieldType);
            Assert.Equal(v1.IsRepeated, beta.IsRepeated);
        }
    }

    [Fact]
    public void Service_names_on_the_wire_carry_the_full_package()
    {
        Assert.Equal("k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin", V1.DRAPlugin.Descriptor.FullName);
        Assert.Equal("k8s.io.kubelet.pkg.apis.dra.v1beta1.DRAPlugin", V1Beta1.DRAPlugin.Descriptor.FullName);
    }
}
