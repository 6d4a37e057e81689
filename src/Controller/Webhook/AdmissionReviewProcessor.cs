using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Unicode;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using SecureDra.Api.Validation;
using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Webhook;

/// <summary>
/// Turns the bytes of an AdmissionReview into the answer: validates every opaque config for this driver in
/// ResourceClaims and ResourceClaimTemplates of resource.k8s.io v1, v1beta2 and v1beta1, and allows everything
/// else. Pure over bytes so it is tested without a server; never throws for bad input.
/// </summary>
/// <remarks>
/// Failure policy: <c>Fail</c>, with the claim ValidatingAdmissionPolicy as backstop. The ValidatingWebhookConfiguration
/// registers CREATE and UPDATE of resource.k8s.io resourceclaims and resourceclaimtemplates with apiVersions
/// v1, v1beta2 and v1beta1 (1.32 serves only v1beta1, so a v1-only rule would never match there) and
/// <c>matchPolicy: Equivalent</c> (a future version is converted to one we know instead of bypassing us),
/// <c>admissionReviewVersions: [v1]</c>, <c>sideEffects: None</c>, <c>timeoutSeconds: 5</c>, and a matchCondition that
/// sends only objects carrying an opaque config for this driver, e.g. for claims
/// <c>has(object.spec.devices) &amp;&amp; has(object.spec.devices.config) &amp;&amp; object.spec.devices.config.exists(c, has(c.opaque) &amp;&amp; c.opaque.driver == 'gpu.nvidia.com')</c>
/// and the same at <c>object.spec.spec</c> for templates.
/// Why not Ignore: with Ignore a controller outage silently admits a malformed config that then fails only at
/// NodePrepareResources, leaving the pod stuck with the reason buried in events; with Fail the tenant gets an
/// immediate, retryable error, and the matchCondition keeps an outage from touching any claim that does not use this
/// driver's configs. The webhook runs on every replica (not only the leader) behind a PodDisruptionBudget. The security
/// invariant itself does not rest on the webhook: the claim policy (in-process in the API server, no availability
/// dependency) pins resetPolicy, and the kubelet plugin re-validates every config with the same validator at prepare
/// and fails closed.
/// </remarks>
public sealed class AdmissionReviewProcessor
{
    private const string ResourceGroup = "resource.k8s.io";
    private static readonly HashSet<string> ServedVersions = new(StringComparer.Ordinal) { "v1", "v1beta2", "v1beta1" };
    // Kubernetes' own bounds: a group is a DNS subdomain (253), a version and a resource a DNS label (63); an operation is
    // one of four words; the review's apiVersion and kind are fixed strings.
    private const int MaxGroupChars = 253;
    private const int MaxVersionChars = 63;
    private const int MaxResourceChars = 63;
    private const int MaxOperationChars = 16;
    private const int MaxApiVersionChars = 64;
    private const int MaxKindChars = 64;

    /// <summary>Stands for a field value longer than Kubernetes allows; it equals no known value and maps to no label.</summary>
    private const string OverLong = "(over-long)";

    private static readonly HashSet<string> ReviewApiVersions = new(StringComparer.Ordinal) { "admission.k8s.io/v1", "admission.k8s.io/v1beta1" };

    // Label values come from the request, i.e. from whoever can reach the webhook port: only these are kept, the
    // rest count as "other" (issue 11: unique 2.5 MiB resource names as label values exhausted the controller's memory).
    private readonly ClosedSet _resourceLabels = new("resourceclaims", "resourceclaimtemplates");
    private readonly ClosedSet _operationLabels = new("CREATE", "UPDATE", "DELETE", "CONNECT");

    private readonly ResourceObjectValidator _validator;
    private readonly AdmissionWebhookOptions _options;
    private readonly ILogger _logger;
    private readonly Counter _reviews;
    private readonly Histogram _latency;

    public AdmissionReviewProcessor(ResourceObjectValidator validator, AdmissionWebhookOptions options, MetricsRegistry metrics, ILogger<AdmissionReviewProcessor> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _validator = validator;
        _options = options;
        _logger = logger;
        _reviews = metrics.Counter("securedra_admission_reviews_total", "Admission reviews answered, by resource, operation and result.", "resource", "operation", "result");
        _latency = metrics.Histogram("securedra_admission_review_duration_seconds", "Time to decide one admission review.", MetricsRegistry.LatencyBuckets);
    }

    public AdmissionOutcome Process(ReadOnlyMemory<byte> body)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return ProcessCore(body);
        }
        finally
        {
            _latency.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    private AdmissionOutcome ProcessCore(ReadOnlyMemory<byte> body)
    {
        // Parsed over the caller's buffer, not a copy of it (JsonNode.Parse of a span copies a 2.5 MiB body into a fresh
        // large-object array per review); the tree reads the document lazily, so the document lives until the answer is built.
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = _options.MaxJsonDepth });
        }
        catch (JsonException e)
        {
            return Malformed($"body is not valid JSON: {e.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return Malformed("body is not a JSON object");
            }

            return DecideOrMalformed(JsonObject.Create(document.RootElement)!);
        }
    }

    private AdmissionOutcome DecideOrMalformed(JsonObject review)
    {
        try
        {
            return Decide(review);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or JsonException or FormatException)
        {
            // Wrong node types (e.g. "request": 5) or duplicate keys surface when the lazily parsed tree is walked.
            return Malformed($"AdmissionReview is malformed: {e.Message}");
        }
    }

    private AdmissionOutcome Decide(JsonObject review)
    {
        var apiVersion = ShortStringAt(review, "apiVersion", MaxApiVersionChars);
        var reviewKind = ShortStringAt(review, "kind", MaxKindChars);
        if (apiVersion is null || !ReviewApiVersions.Contains(apiVersion) || reviewKind != "AdmissionReview")
        {
            return Malformed($"expected kind AdmissionReview of admission.k8s.io/v1, got kind '{reviewKind}' apiVersion '{apiVersion}'");
        }

        if (review["request"] is not JsonObject request)
        {
            return Malformed("request: required object is missing");
        }

        var uid = StringAt(request, "uid");
        if (string.IsNullOrEmpty(uid))
        {
            return Malformed("request.uid: required string is missing");
        }

        // These are only compared with known values or mapped to metric labels: a value longer than Kubernetes allows
        // is never materialised (a 2.5 MiB name would be a 5 MiB string per review) and stands as OverLong instead.
        var operation = ShortStringAt(request, "operation", MaxOperationChars) ?? "";
        var resource = request["resource"] as JsonObject;
        var group = resource is null ? null : ShortStringAt(resource, "group", MaxGroupChars);
        var version = resource is null ? null : ShortStringAt(resource, "version", MaxVersionChars);
        var plural = resource is null ? null : ShortStringAt(resource, "resource", MaxResourceChars);
        var subResource = ShortStringAt(request, "subResource", MaxResourceChars) ?? "";

        var isOurs = group == ResourceGroup && plural is "resourceclaims" or "resourceclaimtemplates";
        if (!isOurs || subResource.Length != 0 || operation is not ("CREATE" or "UPDATE"))
        {
            // DELETE, CONNECT, status updates and other kinds carry no new opaque config.
            return Allow(apiVersion, uid, plural, operation, "not-validated");
        }

        if (version is null || !ServedVersions.Contains(version))
        {
            // Fail closed: the webhook configuration registers only these versions, so anything else is a misconfiguration.
            return Deny(apiVersion, uid, plural!, operation, 400, "BadRequest",
                $"request.resource.version: {ResourceGroup}/{version} is not supported; the webhook validates v1, v1beta2 and v1beta1");
        }

        if (request["object"] is not JsonObject obj)
        {
            return Deny(apiVersion, uid, plural!, operation, 400, "BadRequest", "request.object: required object is missing");
        }

        // The validator finds the configs by the object's own kind; a kind that disagrees with the resource would
        // send it to the wrong place (a "DeviceClass" claim has no spec.devices.config to check). Found by fuzzing.
        var expectedKind = plural == "resourceclaims" ? ResourceObjectValidator.ResourceClaimKind : ResourceObjectValidator.ResourceClaimTemplateKind;
        if (StringAt(obj, "kind") != expectedKind)
        {
            return Deny(apiVersion, uid, plural!, operation, 400, "BadRequest",
                $"request.object.kind: '{StringAt(obj, "kind")}' is not {expectedKind}, the kind of {ResourceGroup}/{plural}");
        }

        if (operation == "UPDATE" && request["oldObject"] is JsonObject old && JsonNode.DeepEquals(obj["spec"], old["spec"]))
        {
            // The spec is immutable and was validated when created; re-validating it under a newer, stricter validator
            // would block metadata updates such as finalizer removal and so block deletion.
            return Allow(apiVersion, uid, plural, operation, "unchanged");
        }

        IReadOnlyList<ValidationError> errors;
        try
        {
            errors = _validator.Validate(obj);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or JsonException or FormatException)
        {
            return Deny(apiVersion, uid, plural!, operation, 400, "BadRequest", $"request.object is malformed: {e.Message}");
        }
#pragma warning disable CA1031 // The webhook must answer every review; an unexpected validator failure denies, it never crashes the server.
        catch (Exception e)
#pragma warning restore CA1031
        {
            ControllerLog.AdmissionValidatorFailed(_logger, e, plural, StringAt(request, "namespace"), StringAt(request, "name"));
            return Deny(apiVersion, uid, plural!, operation, 500, "InternalError", "the SecureDra webhook could not validate this object; see the controller log");
        }

        if (errors.Count == 0)
        {
            return Allow(apiVersion, uid, plural, operation, "allowed");
        }

        var kind = plural == "resourceclaims" ? "ResourceClaim" : "ResourceClaimTemplate";
        var name = StringAt(request, "name") ?? (obj["metadata"] is JsonObject metadata ? StringAt(metadata, "name") : null);
        var listed = errors.Take(_options.MaxErrorsInMessage).Select(e => e.ToString());
        var more = errors.Count > _options.MaxErrorsInMessage ? $"; and {errors.Count - _options.MaxErrorsInMessage} more" : "";
        var message = $"{kind} {StringAt(request, "namespace")}/{name ?? "(generated)"} rejected by SecureDra: {string.Join("; ", listed)}{more}";
        ControllerLog.AdmissionDenied(_logger, plural, StringAt(request, "namespace"), name, operation, message);
        return Deny(apiVersion, uid, plural!, operation, 422, "Invalid", message);
    }

    private AdmissionOutcome Allow(string apiVersion, string uid, string? plural, string operation, string result)
    {
        _reviews.Inc(_resourceLabels.Map(plural), _operationLabels.Map(operation), result);
        return AdmissionOutcome.Answer(Review(apiVersion, new JsonObject { ["uid"] = uid, ["allowed"] = true }));
    }

    private AdmissionOutcome Deny(string apiVersion, string uid, string plural, string operation, int code, string reason, string message)
    {
        _reviews.Inc(_resourceLabels.Map(plural), _operationLabels.Map(operation), code == 422 ? "denied" : "error");
        return AdmissionOutcome.Answer(Review(apiVersion, new JsonObject
        {
            ["uid"] = uid,
            ["allowed"] = false,
            ["status"] = new JsonObject
            {
                ["status"] = "Failure",
                ["code"] = code,
                ["reason"] = reason,
                ["message"] = message,
            },
        }));
    }

    private AdmissionOutcome Malformed(string error)
    {
        _reviews.Inc("", "", "malformed");
        return AdmissionOutcome.Fail(400, error);
    }

    private static JsonObject Review(string apiVersion, JsonObject response) => new()
    {
        ["apiVersion"] = apiVersion,
        ["kind"] = "AdmissionReview",
        ["response"] = response,
    };

    /// <summary>
    /// The string at <paramref name="name"/>, <see cref="OverLong"/> when its JSON text is too long to hold a string of
    /// <paramref name="maxChars"/> characters (an escape is at most 6 bytes per character), or null when absent or not a string.
    /// </summary>
    private static string? ShortStringAt(JsonObject obj, string name, int maxChars)
    {
        if (obj[name] is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
        {
            return null;
        }

        if (value.TryGetValue<JsonElement>(out var element))
        {
            var raw = JsonMarshal.GetRawUtf8Value(element);
            // The reader does not check UTF-8 inside strings; a value that cannot be read stays malformed as before
            // (the decode throws). Only escapes need the decode; plain bytes are checked without making a string.
            if (raw.Length > 2 + (6 * maxChars) && Utf8.IsValid(raw) && raw.IndexOf((byte)'\\') < 0)
            {
                return OverLong;
            }
        }

        var text = value.GetValue<string>();
        return text.Length > maxChars ? OverLong : text;
    }

    private static string? StringAt(JsonObject obj, string name) =>
        obj[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}
