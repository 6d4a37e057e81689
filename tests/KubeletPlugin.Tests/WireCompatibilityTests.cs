using Google.Protobuf;
using Grpc.Core;
using V1 = SecureDra.Protocol.Dra.V1;
using V1Beta1 = SecureDra.Protocol.Dra.V1Beta1;

namespace SecureDra.KubeletPlugin.Tests;

public class WireCompatibilityTests
{
    [Fact]
    public void Generated_descriptors_use_the_upstream_full_method_names()
    {
        static string[] Paths(Google.Protobuf.Reflection.ServiceDescriptor service) =>
            [.. service.Methods.Select(m => $"/{service.FullName}/{m.Name}")];

        Assert.Equal(
            ["/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/NodePrepareResources", "/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/NodeUnprepareResources"],
            Paths(V1.DRAPlugin.Descriptor));
        Assert.Equal(
            ["/k8s.io.kubelet.pkg.apis.dra.v1beta1.DRAPlugin/NodePrepareResources", "/k8s.io.kubelet.pkg.apis.dra.v1beta1.DRAPlugin/NodeUnprepareResources"],
            Paths(V1Beta1.DRAPlugin.Descriptor));
        Assert.Equal(
            ["/pluginregistration.Registration/GetInfo", "/pluginregistration.Registration/NotifyRegistrationStatus"],
            Paths(SecureDra.Protocol.Registration.Registration.Descriptor));
        Assert.Equal(
            ["/v1alpha1.DRAResourceHealth/NodeWatchResources"],
            Paths(SecureDra.Protocol.Health.V1Alpha1.DRAResourceHealth.Descriptor));
        Assert.True(SecureDra.Protocol.Health.V1Alpha1.DRAResourceHealth.Descriptor.Methods[0].IsServerStreaming);
    }

    [Fact]
    public void Field_numbers_match_the_reference_sheet()
    {
        var device = V1.Device.Descriptor;
        Assert.Equal(1, device.FindFieldByName("request_names").FieldNumber);
        Assert.Equal(2, device.FindFieldByName("pool_name").FieldNumber);
        Assert.Equal(3, device.FindFieldByName("device_name").FieldNumber);
        Assert.Equal(4, device.FindFieldByName("cdi_device_ids").FieldNumber);
        Assert.Equal(5, device.FindFieldByName("share_id").FieldNumber);
        Assert.Null(V1Beta1.Device.Descriptor.FindFieldByName("share_id"));
        var claim = V1.Claim.Descriptor;
        Assert.Equal([1, 2, 3], new[] { "namespace", "uid", "name" }.Select(n => claim.FindFieldByName(n).FieldNumber));
        Assert.Equal(2, V1.NodePrepareResourceResponse.Descriptor.FindFieldByName("error").FieldNumber);
        Assert.Equal(1, V1.NodeUnprepareResourceResponse.Descriptor.FindFieldByName("error").FieldNumber);
    }

    [Fact]
    public void V1_messages_decode_as_v1beta1_and_back()
    {
        var request = new V1.NodePrepareResourcesRequest();
        request.Claims.Add(new V1.Claim { Namespace = "ns", Name = "claim-a", Uid = "uid-a" });
        var asBeta = V1Beta1.NodePrepareResourcesRequest.Parser.ParseFrom(request.ToByteArray());
        Assert.Equal(("ns", "claim-a", "uid-a"), (asBeta.Claims[0].Namespace, asBeta.Claims[0].Name, asBeta.Claims[0].Uid));
        Assert.Equal(request.ToByteArray(), asBeta.ToByteArray());

        var response = new V1.NodePrepareResourcesResponse();
        var entry = new V1.NodePrepareResourceResponse();
        var device = new V1.Device { PoolName = "node-1", DeviceName = "gpu-0" };
        device.RequestNames.Add("gpu");
        device.CdiDeviceIds.Add("k8s.gpu.nvidia.com/gpu=gpu-0");
        entry.Devices.Add(device);
        response.Claims.Add("uid-a", entry);
        response.Claims.Add("uid-b", new V1.NodePrepareResourceResponse { Error = "boom" });
        var betaResponse = V1Beta1.NodePrepareResourcesResponse.Parser.ParseFrom(response.ToByteArray());
        Assert.Equal("gpu-0", betaResponse.Claims["uid-a"].Devices[0].DeviceName);
        Assert.Equal("k8s.gpu.nvidia.com/gpu=gpu-0", betaResponse.Claims["uid-a"].Devices[0].CdiDeviceIds[0]);
        Assert.Equal("boom", betaResponse.Claims["uid-b"].Error);
        Assert.Equal(response, V1.NodePrepareResourcesResponse.Parser.ParseFrom(betaResponse.ToByteArray()));
    }

    [Fact]
    public async Task Server_answers_on_the_literal_upstream_paths()
    {
        await using var plugin = await TestPlugin.StartAsync();
        using var dra = plugin.DraChannel();
        foreach (var path in new[] { "/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/NodePrepareResources", "/k8s.io.kubelet.pkg.apis.dra.v1beta1.DRAPlugin/NodePrepareResources" })
        {
            var parts = path.Split('/');
            var method = new Method<V1.NodePrepareResourcesRequest, V1.NodePrepareResourcesResponse>(
                MethodType.Unary, parts[1], parts[2],
                Marshallers.Create(m => m.ToByteArray(), V1.NodePrepareResourcesRequest.Parser.ParseFrom),
                Marshallers.Create(m => m.ToByteArray(), V1.NodePrepareResourcesResponse.Parser.ParseFrom));
            var response = await dra.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(), new V1.NodePrepareResourcesRequest());
            Assert.Empty(response.Claims);
        }

        using var reg = plugin.RegistrationChannel();
        var getInfo = new Method<SecureDra.Protocol.Registration.InfoRequest, SecureDra.Protocol.Registration.PluginInfo>(
            MethodType.Unary, "pluginregistration.Registration", "GetInfo",
            Marshallers.Create(m => m.ToByteArray(), SecureDra.Protocol.Registration.InfoRequest.Parser.ParseFrom),
            Marshallers.Create(m => m.ToByteArray(), SecureDra.Protocol.Registration.PluginInfo.Parser.ParseFrom));
        var info = await reg.CreateCallInvoker().AsyncUnaryCall(getInfo, null, new CallOptions(), new SecureDra.Protocol.Registration.InfoRequest());
        Assert.Equal("DRAPlugin", info.Type);
    }
}
