using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.Api.Validation;
using SecureDra.Controller.Webhook;
using SecureDra.Fuzz.Oracles;
using SecureDra.Observability.Metrics;

namespace SecureDra.Fuzz.Targets;

/// <summary>
/// <see cref="AdmissionReviewProcessor.Process"/>: request body → verdict. Documented: never throws; a body
/// that is not an AdmissionReview is a 400, anything else a 200 review. Oracles: the answer carries the
/// request's uid; an allowed CREATE or UPDATE of a claim or template (spec changed) holds only configs for the
/// driver that are valid to <see cref="GpuConfigReference"/>, read at the location the resource named in the
/// request (not the object's own kind) puts them.
/// </summary>
public sealed class AdmissionReviewTarget : IFuzzTarget
{
    private static readonly GpuConfigLimits Limits = new();
    private readonly AdmissionReviewProcessor _processor = new(
        new ResourceObjectValidator(new GpuConfigValidator(Limits), OpaqueConfigs.Driver),
        new AdmissionWebhookOptions(),
        new MetricsRegistry(),
        NullLogger<AdmissionReviewProcessor>.Instance);

    public string Name => "admission-review";

    public int MaxInputBytes => 32 * 1024;

    public FuzzVerdict Run(ReadOnlySpan<byte> input)
    {
        AdmissionOutcome outcome;
        try
        {
            outcome = _processor.Process(input.ToArray());
        }
        catch (Exception ex)
        {
            throw FuzzFindingException.Escaped(Name, ex);
        }

        if (outcome.HttpStatus != 200)
        {
            return outcome.HttpStatus == 400 && outcome.Review is null && !string.IsNullOrEmpty(outcome.Error)
                ? FuzzVerdict.Rejected
                : throw new FuzzFindingException($"{Name}: a failure must be a 400 with an error, got {outcome.HttpStatus} ({outcome.Error})");
        }

        var request = KubeJson.Parse(input)?["request"] as JsonObject
            ?? throw new FuzzFindingException($"{Name}: answered a body without a request object");
        var response = outcome.Review?["response"] as JsonObject ?? throw new FuzzFindingException($"{Name}: a 200 without a response");
        if (!JsonNode.DeepEquals(response["uid"], request["uid"]))
        {
            throw new FuzzFindingException($"{Name}: the response uid {response["uid"]?.ToJsonString()} is not the request's {request["uid"]?.ToJsonString()}");
        }

        if (response["allowed"]?.GetValue<bool>() != true)
        {
            return FuzzVerdict.Rejected;
        }

        string? why;
        try
        {
            why = WhyNotAllowed(request);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            why = $"allowed a request whose object cannot be read ({ex.GetType().Name}: {ex.Message})";
        }

        if (why is not null)
        {
            throw FuzzFindingException.WrongAccept(Name, why);
        }

        return FuzzVerdict.Accepted;
    }

    private static string? WhyNotAllowed(JsonObject request)
    {
        var resource = request["resource"] as JsonObject;
        var kind = Text(resource?["resource"]) switch
        {
            "resourceclaims" => "ResourceClaim",
            "resourceclaimtemplates" => "ResourceClaimTemplate",
            _ => null,
        };
        if (kind is null || Text(resource?["group"]) != "resource.k8s.io" || Text(request["operation"]) is not ("CREATE" or "UPDATE")
            || (Text(request["subResource"]) ?? "").Length != 0 || request["object"] is not JsonObject obj)
        {
            return null;
        }

        if (Text(request["operation"]) == "UPDATE" && request["oldObject"] is JsonObject old && JsonNode.DeepEquals(obj["spec"], old["spec"]))
        {
            // Documented: an unchanged (immutable) spec is not re-validated.
            return null;
        }

        var copy = (JsonObject)obj.DeepClone();
        copy["kind"] = kind;
        return OpaqueConfigs.FirstInvalid(copy, Limits) is { } why ? $"allowed a {kind} {Text(request["operation"])} with {why}" : null;
    }

    private static string? Text(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
