using System.Net;
using SecureDra.LocalCluster.Kubelet;

namespace SecureDra.KubeletPlugin.Tests;

public class HttpEndpointTests
{
    [Fact]
    public async Task Metrics_count_grpc_calls_by_service_method_and_code_with_durations()
    {
        await using var plugin = await TestPlugin.StartAsync(http: true);
        await using var emulator = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = plugin.Options.KubeletRegistrarDirectoryPath, GetInfoTimeout = TestTimeouts.DirectGetInfo });
        var registered = await emulator.RegisterAsync(plugin.Layout.RegistrationSocketPath);
        await registered.PrepareAsync([new KubeletClaim("default", "c", "u1")]);
        await registered.PrepareAsync([new KubeletClaim("../../etc", "c", "u2")]);
        await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(() => registered.PrepareAsync(Enumerable.Range(0, 200).Select(i => new KubeletClaim("d", "c", $"u{i}"))));

        using var http = new HttpClient { BaseAddress = plugin.HttpBase };
        var response = await http.GetAsync(new Uri("metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain; version=0.0.4", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("securedra_grpc_server_handled_total{service=\"k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin\",method=\"NodePrepareResources\",code=\"OK\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("securedra_grpc_server_handled_total{service=\"k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin\",method=\"NodePrepareResources\",code=\"InvalidArgument\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("securedra_grpc_server_handled_total{service=\"pluginregistration.Registration\",method=\"GetInfo\",code=\"OK\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("securedra_grpc_server_handling_seconds_bucket{service=\"k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin\",method=\"NodePrepareResources\",code=\"OK\",le=\"+Inf\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("securedra_kubelet_claim_rejections_total{operation=\"prepare\",reason=\"invalid_field\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("securedra_kubelet_claim_rejections_total{operation=\"prepare\",reason=\"too_many_claims\"} 1", text, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("healthz", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri("pluginregistration.Registration/GetInfo", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Healthz_fails_when_a_socket_is_deleted_under_the_plugin()
    {
        await using var plugin = await TestPlugin.StartAsync(http: true);
        using var http = new HttpClient { BaseAddress = plugin.HttpBase };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("healthz", UriKind.Relative))).StatusCode);
        File.Delete(plugin.Layout.RegistrationSocketPath);
        var response = await http.GetAsync(new Uri("healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("socket missing", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
