using System.Globalization;
using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>Collects validation causes worded like apimachinery's field.ErrorList.</summary>
public sealed class FieldErrors
{
    private readonly List<StatusCause> _causes = [];

    public IReadOnlyList<StatusCause> Causes => _causes;

    public bool Any => _causes.Count > 0;

    public void Required(string field, string detail = "") =>
        _causes.Add(new("FieldValueRequired", field, detail.Length == 0 ? "Required value" : $"Required value: {detail}"));

    public void Invalid(string field, JsonNode? value, string detail) =>
        _causes.Add(new("FieldValueInvalid", field, $"Invalid value: {Render(value)}: {detail}"));

    public void Invalid(string field, string value, string detail) => Invalid(field, JsonValue.Create(value), detail);

    public void TooLong(string field, int max) =>
        _causes.Add(new("FieldValueTooLong", field, $"Too long: may not be more than {max} bytes"));

    public void TooMany(string field, int actual, int max) =>
        _causes.Add(new("FieldValueTooMany", field, $"Too many: {actual}: must have at most {max} items"));

    public void Duplicate(string field, string value) =>
        _causes.Add(new("FieldValueDuplicate", field, $"Duplicate value: \"{value}\""));

    public void NotSupported(string field, string value, IEnumerable<string> allowed) =>
        _causes.Add(new("FieldValueNotSupported", field, $"Unsupported value: \"{value}\": supported values: {string.Join(", ", allowed.Select(a => $"\"{a}\""))}"));

    public void Forbidden(string field, string detail) =>
        _causes.Add(new("FieldValueForbidden", field, $"Forbidden: {detail}"));

    private static string Render(JsonNode? value) => value switch
    {
        null => "null",
        JsonValue v when v.TryGetValue<string>(out var s) => $"\"{s}\"",
        _ => value.ToJsonString(),
    };

    public static string Index(string path, int i) => string.Create(CultureInfo.InvariantCulture, $"{path}[{i}]");
}
