using System.Text.Json.Nodes;

namespace SecureDra.Controller.Webhook;

/// <summary>
/// What the webhook answers: an AdmissionReview (HTTP 200, allowed or denied) or, for a request that is not a
/// usable review at all, an HTTP error with a one-line reason.
/// </summary>
public sealed record AdmissionOutcome(int HttpStatus, JsonObject? Review, string? Error)
{
    public static AdmissionOutcome Answer(JsonObject review) => new(200, review, null);

    public static AdmissionOutcome Fail(int httpStatus, string error) => new(httpStatus, null, error);
}
