namespace SecureDra.Observability.Metrics;

/// <summary>
/// A label's allowed values, written in code: anything else is recorded as <see cref="LabelLimits.Overflow"/>. Use it
/// wherever a label value comes from a request, so the series count is known before the first request arrives.
/// </summary>
public sealed class ClosedSet
{
    private readonly HashSet<string> _values;

    public ClosedSet(params string[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        _values = new HashSet<string>(values, StringComparer.Ordinal);
    }

    public IReadOnlyCollection<string> Values => _values;

    /// <summary><paramref name="value"/> when it is one of the set, else <see cref="LabelLimits.Overflow"/>.</summary>
    public string Map(string? value) => value is not null && _values.Contains(value) ? value : LabelLimits.Overflow;
}
