using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.Api.Validation;
using SecureDra.Controller.Tests.Support;
using SecureDra.Controller.Webhook;
using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Tests.Webhook;

/// <summary>
/// Found by the admission-review fuzz target (corpus entry fuzz/corpus/admission-review/kind-mismatch.json): a
/// ResourceClaim CREATE whose object called itself a DeviceClass was validated as a DeviceClass (configs at
/// spec.config, none there) and allowed with resetPolicy None at spec.devices.config. The API server never sends
/// such an object, so this is defence in depth: the object's kind must be the resource's.
/// </summary>
public sealed class AdmissionKindMismatchTests
{
    private readonly AdmissionReviewProcessor _processor = new(
        new ResourceObjectValidator(new GpuConfigValidator(new GpuConfigLimits()), "gpu.nvidia.com"),
        new AdmissionWebhookOptions(), new MetricsRegistry(), NullLogger<AdmissionReviewProcessor>.Instance);

    private static readonly string ResetNone = Claims.ValidParameters.Replace("ZeroVRAMOnRelease", "None", StringComparison.Ordinal);

    [Theory]
    [InlineData("resourceclaims", "DeviceClass")]
    [InlineData("resourceclaims", "ResourceClaimTemplate")]
    [InlineData("resourceclaims", null)]
    [InlineData("resourceclaimtemplates", "ResourceClaim")]
    public void An_object_whose_kind_is_not_the_resources_is_denied(string plural, string? kind)
    {
        var source = plural == "resourceclaims" ? Claims.Claim("v1", ResetNone) : Claims.Template("v1", ResetNone);
        var obj = JsonNode.Parse(source)!.AsObject();
        obj.Remove("kind");
        if (kind is not null)
        {
            obj["kind"] = kind;
        }

        var outcome = _processor.Process(Encoding.UTF8.GetBytes(Claims.Review(obj.ToJsonString(), plural: plural)));

        var response = outcome.Review!["response"]!.AsObject();
        Assert.False(response["allowed"]!.GetValue<bool>());
        Assert.Equal(400, response["status"]!["code"]!.GetValue<int>());
        Assert.StartsWith("request.object.kind: ", response["status"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_object_with_its_own_kind_is_judged_on_its_configs()
    {
        var outcome = _processor.Process(Encoding.UTF8.GetBytes(Claims.Review(Claims.Claim("v1", ResetNone))));

        var response = outcome.Review!["response"]!.AsObject();
        Assert.False(response["allowed"]!.GetValue<bool>());
        Assert.Equal(422, response["status"]!["code"]!.GetValue<int>());
    }
}
