using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>An API failure answered with a Kubernetes Status body (kind Status, status Failure).</summary>
public sealed class ApiError : Exception
{
    public ApiError(int code, string reason, string message, string? kind = null, string? name = null, string? group = null, IReadOnlyList<StatusCause>? causes = null, int? retryAfterSeconds = null)
        : base(message)
    {
        Code = code;
        Reason = reason;
        Kind = kind;
        Name = name;
        Group = group;
        Causes = causes ?? [];
        RetryAfterSeconds = retryAfterSeconds;
    }

    public ApiError()
        : this(500, "InternalError", "internal error")
    {
    }

    public ApiError(string message)
        : this(500, "InternalError", message)
    {
    }

    public ApiError(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = 500;
        Reason = "InternalError";
        Causes = [];
    }

    public int Code { get; }

    public string Reason { get; }

    public string? Kind { get; }

    public string? Name { get; }

    public string? Group { get; }

    public IReadOnlyList<StatusCause> Causes { get; }

    public int? RetryAfterSeconds { get; }

    public static ApiError NotFound(ResourceType type, string name) =>
        new(404, "NotFound", $"{Qualified(type)} \"{name}\" not found", type.Plural, name, type.Group);

    public static ApiError AlreadyExists(ResourceType type, string name) =>
        new(409, "AlreadyExists", $"{Qualified(type)} \"{name}\" already exists", type.Plural, name, type.Group);

    public static ApiError Conflict(ResourceType type, string name, string detail) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {Qualified(type)} \"{name}\": {detail}", type.Plural, name, type.Group);

    public static ApiError BadRequest(string message) => new(400, "BadRequest", message);

    public static ApiError Invalid(ResourceType type, string name, IReadOnlyList<StatusCause> causes)
    {
        var list = string.Join(", ", causes.Select(c => c.Message.Length == 0 ? c.Field : $"{c.Field}: {c.Message}"));
        var message = causes.Count == 1
            ? $"{type.Kind}.{type.Group} \"{name}\" is invalid: {list}"
            : $"{type.Kind}.{type.Group} \"{name}\" is invalid: [{list}]";
        if (type.Group.Length == 0)
        {
            message = message.Replace($"{type.Kind}. \"", $"{type.Kind} \"", StringComparison.Ordinal);
        }

        return new ApiError(422, "Invalid", message, type.Kind, name, type.Group, causes);
    }

    public static ApiError MethodNotAllowed(string message) => new(405, "MethodNotAllowed", message);

    public static string Qualified(ResourceType type) => type.Group.Length == 0 ? type.Plural : $"{type.Plural}.{type.Group}";

    /// <summary>The Status body the real API server sends for this failure.</summary>
    public JsonObject ToStatus()
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = Message,
            ["reason"] = Reason,
            ["code"] = Code,
        };
        if (Kind is not null || Name is not null || Causes.Count > 0 || RetryAfterSeconds is not null)
        {
            var details = new JsonObject();
            if (Name is not null)
            {
                details["name"] = Name;
            }

            if (Group is not null)
            {
                details["group"] = Group;
            }

            if (Kind is not null)
            {
                details["kind"] = Kind;
            }

            if (Causes.Count > 0)
            {
                var causes = new JsonArray();
                foreach (var cause in Causes)
                {
                    causes.Add((JsonNode)new JsonObject { ["reason"] = cause.Reason, ["message"] = cause.Message, ["field"] = cause.Field });
                }

                details["causes"] = causes;
            }

            if (RetryAfterSeconds is { } retry)
            {
                details["retryAfterSeconds"] = retry;
            }

            status["details"] = details;
        }

        return status;
    }
}
