using System.Net;
using SecureDra.Api.Config.Nvidia;
using SecureDra.Controller.Tests.Support;

namespace SecureDra.Controller.Tests.Webhook;

/// <summary>
/// Proxy mode (<c>controller --vendor nvidia</c>): the webhook judges the driver's configs as NVIDIA's kinds under the
/// proxy's policy, over real HTTPS, so a claim the proxy would refuse at Prepare is refused at admission instead.
/// </summary>
public sealed class ProxyModeWebhookTests
{
    private const string TimeSliced = """{"apiVersion":"resource.nvidia.com/v1beta1","kind":"GpuConfig","sharing":{"strategy":"TimeSlicing","timeSlicingConfig":{"interval":"Long"}}}""";
    private const string EmptyTimeSlicing = """{"apiVersion":"resource.nvidia.com/v1beta1","kind":"GpuConfig","sharing":{"strategy":"TimeSlicing","timeSlicingConfig":{}}}""";
    private const string Mps = """{"apiVersion":"resource.nvidia.com/v1beta1","kind":"GpuConfig","sharing":{"strategy":"MPS"}}""";

    private static async Task<(bool Allowed, string Message)> ReviewAsync(NvidiaConfigPolicy? policy, string parameters)
    {
        await using var server = await WebhookServer.StartAsync(configure: o => o with { NvidiaConfigPolicy = policy });
        using var client = server.Client();
        using var response = await client.PostAsync(server.WebhookUri, WebhookServer.Json(Claims.Review(Claims.Claim("v1", parameters))));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = Claims.Response(await response.Content.ReadAsStringAsync());
        return ((bool)body["allowed"]!, (string?)body["status"]?["message"] ?? "");
    }

    [Fact]
    public async Task Nvidia_configs_are_judged_by_the_proxys_policy()
    {
        Assert.True((await ReviewAsync(NvidiaConfigPolicy.Strict, TimeSliced)).Allowed);

        var (allowed, message) = await ReviewAsync(NvidiaConfigPolicy.Strict, EmptyTimeSlicing);
        Assert.False(allowed);
        Assert.Contains("spec.devices.config[0].opaque.parameters.sharing.timeSlicingConfig.interval: required", message, StringComparison.Ordinal);

        (allowed, message) = await ReviewAsync(NvidiaConfigPolicy.Strict, Mps);
        Assert.False(allowed);
        Assert.Contains("--allow-mps is off", message, StringComparison.Ordinal);
        Assert.True((await ReviewAsync(new NvidiaConfigPolicy(AllowMps: true), Mps)).Allowed);
    }

    [Fact]
    public async Task In_plugin_mode_the_same_nvidia_config_is_refused_and_in_proxy_mode_securedras_own_is()
    {
        Assert.False((await ReviewAsync(null, TimeSliced)).Allowed);
        Assert.False((await ReviewAsync(NvidiaConfigPolicy.Strict, Claims.ValidParameters)).Allowed);
    }
}
