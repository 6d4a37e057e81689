namespace SecureDra.Observability.Metrics;

/// <summary>
/// Bounds on label values every family of a <see cref="MetricsRegistry"/> enforces. The defaults are far above what
/// any metric written in code needs (the largest, gRPC calls by service, method and code, has a few dozen series) and
/// far below what makes a scrape slow: 256 series of at most 128 bytes each per family.
/// </summary>
public sealed record LabelLimits
{
    /// <summary>The value recorded in place of a label value the registry will not keep.</summary>
    public const string Overflow = "other";

    /// <summary>Series per family; one more (all labels <see cref="Overflow"/>) absorbs the rest.</summary>
    public int MaxSeriesPerFamily { get; init; } = 256;

    /// <summary>Longest label value kept, in characters.</summary>
    public int MaxValueLength { get; init; } = 128;

    internal void Validate()
    {
        if (MaxSeriesPerFamily < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxSeriesPerFamily), MaxSeriesPerFamily, "at least one series per family");
        }

        if (MaxValueLength < Overflow.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxValueLength), MaxValueLength, $"at least {Overflow.Length} characters");
        }
    }

    /// <summary>
    /// Printable ASCII without quote or backslash, at most <see cref="MaxValueLength"/>: everything our code writes
    /// (names, enum values, gRPC method paths, device names), and nothing that needs escaping or can smuggle a line.
    /// </summary>
    internal bool IsAcceptable(string? value)
    {
        if (value is null || value.Length > MaxValueLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is < ' ' or > '~' or '"' or '\\')
            {
                return false;
            }
        }

        return true;
    }
}
