using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.Api.Validation;
using SecureDra.Controller.Webhook;
using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Tests.Webhook;

/// <summary>The decision logic without a server: answers that do not depend on the config validator.</summary>
public sealed class AdmissionReviewProcessorTests
{
    private readonly MetricsRegistry _metrics = new();

    private AdmissionReviewProcessor Processor() => new(
        new ResourceObjectValidator(new GpuConfigValidator(new GpuConfigLimits()), "gpu.nvidia.com"),
        new AdmissionWebhookOptions(), _metrics, NullLogger<AdmissionReviewProcessor>.Instance);

    [Fact]
    public void Review_v1beta1_is_answered_in_v1beta1()
    {
        var outcome = Processor().Process(Encoding.UTF8.GetBytes("""
            {"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u","operation":"DELETE",
             "resource":{"group":"resource.k8s.io","version":"v1beta1","resource":"resourceclaims"}}}
            """));
        Assert.Equal(200, outcome.HttpStatus);
        Assert.Equal("admission.k8s.io/v1beta1", (string?)outcome.Review!["apiVersion"]);
        Assert.True((bool)outcome.Review["response"]!["allowed"]!);
    }

    [Fact]
    public void Deeply_nested_review_beyond_the_parse_depth_is_a_400_not_a_crash()
    {
        var deep = string.Concat(Enumerable.Repeat("[", 1000)) + string.Concat(Enumerable.Repeat("]", 1000));
        var outcome = Processor().Process(Encoding.UTF8.GetBytes("""{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","x":""" + deep + "}"));
        Assert.Equal(400, outcome.HttpStatus);
        Assert.Contains("not valid JSON", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_node_types_in_the_request_are_a_400()
    {
        var outcome = Processor().Process(Encoding.UTF8.GetBytes("""
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":7,"operation":"CREATE"}}
            """));
        Assert.Equal(400, outcome.HttpStatus);
        Assert.Contains("request.uid", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Template_update_with_unchanged_spec_is_allowed_and_counted()
    {
        var template = """{"kind":"ResourceClaimTemplate","metadata":{"name":"t"},"spec":{"spec":{"devices":{"config":[{"opaque":{"driver":"gpu.nvidia.com","parameters":{"resetPolicy":"None"}}}]}}}}""";
        var outcome = Processor().Process(Encoding.UTF8.GetBytes("""
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"UPDATE",
             "resource":{"group":"resource.k8s.io","version":"v1","resource":"resourceclaimtemplates"},"object":
            """ + template + ",\"oldObject\":" + template + "}}"));
        Assert.True((bool)outcome.Review!["response"]!["allowed"]!);
        Assert.Contains("securedra_admission_reviews_total{resource=\"resourceclaimtemplates\",operation=\"UPDATE\",result=\"unchanged\"} 1", _metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_reviews_are_counted()
    {
        var processor = Processor();
        processor.Process(Encoding.UTF8.GetBytes("{"));
        Assert.Contains("result=\"malformed\"} 1", _metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public void Attacker_chosen_resources_and_operations_are_counted_as_other()
    {
        var processor = Processor();
        for (var i = 0; i < 500; i++)
        {
            var resource = $"things-{i}-{new string('x', 200)}";
            processor.Process(Encoding.UTF8.GetBytes(
                "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u" + i + "\",\"operation\":\"OP" + i +
                "\",\"resource\":{\"group\":\"evil.example\",\"version\":\"v1\",\"resource\":\"" + resource + "\"}}}"));
        }

        Assert.Equal(1, _metrics.SeriesCount("securedra_admission_reviews_total"));
        Assert.Contains("securedra_admission_reviews_total{resource=\"other\",operation=\"other\",result=\"not-validated\"} 500", _metrics.Render(), StringComparison.Ordinal);
    }
}
