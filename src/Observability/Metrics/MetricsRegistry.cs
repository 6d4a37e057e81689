using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace SecureDra.Observability.Metrics;

/// <summary>
/// A small Prometheus registry, one per host (registered as a DI singleton, never static), that
/// renders the text exposition format 0.0.4 for <c>/metrics</c>. Written in-house because the
/// common .NET client pulls dependencies that are not Native-AOT clean.
/// </summary>
/// <remarks>
/// Label values are bounded by the registry itself, so no metric, present or future, can be made to grow without
/// limit by whoever chooses a label value (issue 11: attacker-chosen resource names as label values took the
/// controller from 63 MiB to 545 MiB). A value that is too long or outside a conservative character set is
/// recorded as <see cref="LabelLimits.Overflow"/>, and once a family holds <see cref="LabelLimits.MaxSeriesPerFamily"/>
/// series every new label set is recorded under one series whose values are all <see cref="LabelLimits.Overflow"/>.
/// Each such substitution is counted in <c>securedra_metric_label_overflow_total{metric}</c>, whose only label is a
/// registered family name (a closed set written in code). Callers still map their inputs onto closed sets
/// (<see cref="ClosedSet"/>); the registry is the backstop.
/// </remarks>
public sealed class MetricsRegistry
{
    private const string OverflowMetricName = "securedra_metric_label_overflow_total";

    private readonly ConcurrentDictionary<string, MetricFamily> _families = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Action> _collectors = new(StringComparer.Ordinal);
    private readonly LabelLimits _limits;
    private readonly Counter _overflow;

    public MetricsRegistry()
        : this(new LabelLimits())
    {
    }

    public MetricsRegistry(LabelLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        _limits = limits;
        _overflow = Register<Counter>(OverflowMetricName, ["metric"], () => new Counter(
            OverflowMetricName, "Observations whose label values were replaced by \"other\" (value too long, unsafe characters, or the family's series limit reached), by metric.", ["metric"], limits, null));
    }

    /// <summary>The bounds every family of this registry enforces.</summary>
    public LabelLimits Limits => _limits;

    public Counter Counter(string name, string help, params string[] labelNames) =>
        Register<Counter>(name, labelNames, () => new Counter(name, help, labelNames, _limits, OnOverflow));

    public Gauge Gauge(string name, string help, params string[] labelNames) =>
        Register<Gauge>(name, labelNames, () => new Gauge(name, help, labelNames, _limits, OnOverflow));

    public Histogram Histogram(string name, string help, double[] buckets, params string[] labelNames) =>
        Register<Histogram>(name, labelNames, () => new Histogram(name, help, buckets, labelNames, _limits, OnOverflow));

    /// <summary>
    /// Runs <paramref name="collect"/> before every <see cref="Render"/>, for values read from a source at scrape time
    /// (process, runtime, device inventory) rather than updated as events happen. One collector per key: registering a
    /// key again keeps the first, so two components that both ask for the standard metrics render them once.
    /// </summary>
    public bool AddCollector(string key, Action collect)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(collect);
        return _collectors.TryAdd(key, collect);
    }

    /// <summary>Runs every collector (as <see cref="Render"/> does); for tests that read values without rendering.</summary>
    public void Collect()
    {
        foreach (var collect in _collectors.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Value))
        {
            collect();
        }
    }

    /// <summary>Number of series (label sets) a family holds now; for tests and the overflow bound.</summary>
    public int SeriesCount(string name) => _families.TryGetValue(name, out var family) ? family.SeriesCount : 0;

    private void OnOverflow(string familyName) => _overflow.Inc(familyName);

    /// <summary>
    /// Returns the family registered under <paramref name="name"/>, creating it once. Two components
    /// that register one name with another type or other labels is a bug: it fails at registration
    /// (start-up), not at the first observation deep inside a scrub.
    /// </summary>
    private T Register<T>(string name, string[] labelNames, Func<T> create)
        where T : MetricFamily
    {
        var family = _families.GetOrAdd(name, _ => create());
        if (family is not T typed || !family.LabelNames.SequenceEqual(labelNames))
        {
            throw new InvalidOperationException(
                $"metric {name} is already registered as a {family.GetType().Name.ToLowerInvariant()} with labels [{string.Join(", ", family.LabelNames)}]; cannot register it as a {typeof(T).Name.ToLowerInvariant()} with labels [{string.Join(", ", labelNames)}]");
        }

        return typed;
    }

    /// <summary>Default latency buckets in seconds, from 100 µs to 60 s.</summary>
    public static double[] LatencyBuckets { get; } = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    /// <summary>
    /// Buckets for operations that take seconds to minutes (a VRAM scrub: tens of milliseconds for a small simulated GPU,
    /// seconds to a minute for an 80-141 GB one): 10 ms to 10 min, so a p99 near any alert threshold up to 5 min
    /// falls between two finite buckets.
    /// </summary>
    public static double[] SecondsBuckets { get; } = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600];

    /// <summary>Byte-size buckets from 16 MiB to 256 GiB in factors of 4 (a GPU's memory, a scrub's bytes).</summary>
    public static double[] BytesBuckets { get; } = [.. Enumerable.Range(0, 8).Select(i => (double)(16L << 20 << (2 * i)))];

    /// <summary>Fraction buckets close to 1, where a scrub's coverage lives (the floor is 0.9).</summary>
    public static double[] CoverageBuckets { get; } = [0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999, 1];

    public string Render()
    {
        Collect();
        var sb = new StringBuilder();
        foreach (var family in _families.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            family.Render(sb);
        }

        return sb.ToString();
    }

    /// <summary>The content type Prometheus expects for <see cref="Render"/>.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";
}

public abstract class MetricFamily
{
    private readonly LabelLimits _limits;
    private readonly Action<string>? _onOverflow;
    private readonly Lock _createLock = new();

    protected MetricFamily(string name, string help, string[] labelNames, LabelLimits limits, Action<string>? onOverflow)
    {
        Name = name;
        Help = help;
        LabelNames = labelNames;
        _limits = limits;
        _onOverflow = onOverflow;
    }

    public string Name { get; }
    public string Help { get; }
    public IReadOnlyList<string> LabelNames { get; }

    internal abstract int SeriesCount { get; }

    internal abstract void Render(StringBuilder sb);

    /// <summary>The key of an existing series, without creating one (reads never grow a family).</summary>
    protected string Key(string[] values) => Key(values, out _);

    private string Key(string[] values, out bool substituted)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != LabelNames.Count)
        {
            throw new ArgumentException($"metric {Name} takes {LabelNames.Count} label value(s), got {values.Length}", nameof(values));
        }

        substituted = false;
        var safe = new string[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            if (_limits.IsAcceptable(values[i]))
            {
                safe[i] = values[i];
            }
            else
            {
                safe[i] = LabelLimits.Overflow;
                substituted = true;
            }
        }

        return string.Join('\u0001', safe);
    }

    /// <summary>
    /// Finds or creates the series for <paramref name="values"/>, enforcing the registry's label bounds: unsafe values
    /// become <see cref="LabelLimits.Overflow"/>, and a family at its series limit records new label sets under the
    /// all-overflow series (one extra series at most).
    /// </summary>
    protected TCell Cell<TCell>(ConcurrentDictionary<string, TCell> cells, string[] values, Func<TCell> create)
        where TCell : class
    {
        ArgumentNullException.ThrowIfNull(cells);
        var key = Key(values, out var substituted);
        if (cells.TryGetValue(key, out var existing))
        {
            if (substituted)
            {
                _onOverflow?.Invoke(Name);
            }

            return existing;
        }

        TCell cell;
        lock (_createLock)
        {
            if (!cells.ContainsKey(key) && cells.Count >= _limits.MaxSeriesPerFamily)
            {
                key = string.Join('\u0001', Enumerable.Repeat(LabelLimits.Overflow, LabelNames.Count));
                substituted = true;
            }

            cell = cells.GetOrAdd(key, _ => create());
        }

        if (substituted)
        {
            _onOverflow?.Invoke(Name);
        }

        return cell;
    }

    protected string LabelText(string key, string? extraName = null, string? extraValue = null)
    {
        var values = LabelNames.Count == 0 ? [] : key.Split('\u0001');
        var parts = new List<string>(values.Length + 1);
        for (var i = 0; i < LabelNames.Count; i++)
        {
            parts.Add($"{LabelNames[i]}=\"{Escape(values[i])}\"");
        }

        if (extraName is not null)
        {
            parts.Add($"{extraName}=\"{extraValue}\"");
        }

        return parts.Count == 0 ? "" : "{" + string.Join(',', parts) + "}";
    }

    protected static string Format(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : value.ToString("R", CultureInfo.InvariantCulture);

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}

/// <summary>A monotonically increasing value per label set.</summary>
public sealed class Counter : MetricFamily
{
    private readonly ConcurrentDictionary<string, DoubleCell> _cells = new(StringComparer.Ordinal);

    internal Counter(string name, string help, string[] labelNames, LabelLimits limits, Action<string>? onOverflow)
        : base(name, help, labelNames, limits, onOverflow) { }

    internal override int SeriesCount => _cells.Count;

    public void Inc(params string[] labelValues) => Add(1, labelValues);

    public void Add(double amount, params string[] labelValues)
    {
        if (amount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), "counters only go up");
        }

        Cell(_cells, labelValues, () => new DoubleCell()).Add(amount);
    }

    /// <summary>
    /// Sets the total a source already counts (CPU seconds, GC collections), read at scrape time by a collector. The source
    /// is monotonic, so the counter still only goes up; a lower reading is ignored rather than rendered as a reset.
    /// </summary>
    public void Sample(double total, params string[] labelValues)
    {
        var cell = Cell(_cells, labelValues, () => new DoubleCell());
        cell.SetIfHigher(total);
    }

    public double Value(params string[] labelValues) =>
        _cells.TryGetValue(Key(labelValues), out var cell) ? cell.Value : 0;

    internal override void Render(StringBuilder sb)
    {
        sb.Append("# HELP ").Append(Name).Append(' ').Append(Help).Append('\n');
        sb.Append("# TYPE ").Append(Name).Append(" counter\n");
        foreach (var (key, cell) in _cells.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            sb.Append(Name).Append(LabelText(key)).Append(' ').Append(Format(cell.Value)).Append('\n');
        }
    }
}

/// <summary>A value that goes up and down per label set.</summary>
public sealed class Gauge : MetricFamily
{
    private readonly ConcurrentDictionary<string, DoubleCell> _cells = new(StringComparer.Ordinal);

    internal Gauge(string name, string help, string[] labelNames, LabelLimits limits, Action<string>? onOverflow)
        : base(name, help, labelNames, limits, onOverflow) { }

    internal override int SeriesCount => _cells.Count;

    public void Set(double value, params string[] labelValues) => Cell(_cells, labelValues, () => new DoubleCell()).Set(value);

    public void Add(double amount, params string[] labelValues) => Cell(_cells, labelValues, () => new DoubleCell()).Add(amount);

    public double Value(params string[] labelValues) =>
        _cells.TryGetValue(Key(labelValues), out var cell) ? cell.Value : 0;

    internal override void Render(StringBuilder sb)
    {
        sb.Append("# HELP ").Append(Name).Append(' ').Append(Help).Append('\n');
        sb.Append("# TYPE ").Append(Name).Append(" gauge\n");
        foreach (var (key, cell) in _cells.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            sb.Append(Name).Append(LabelText(key)).Append(' ').Append(Format(cell.Value)).Append('\n');
        }
    }
}

/// <summary>Cumulative buckets, sum and count per label set.</summary>
public sealed class Histogram : MetricFamily
{
    private readonly double[] _buckets;
    private readonly ConcurrentDictionary<string, HistogramCell> _cells = new(StringComparer.Ordinal);

    internal Histogram(string name, string help, double[] buckets, string[] labelNames, LabelLimits limits, Action<string>? onOverflow)
        : base(name, help, labelNames, limits, onOverflow)
    {
        _buckets = [.. buckets.Order()];
    }

    internal override int SeriesCount => _cells.Count;

    public void Observe(double value, params string[] labelValues) =>
        Cell(_cells, labelValues, () => new HistogramCell(_buckets.Length)).Observe(_buckets, value);

    public long Count(params string[] labelValues) =>
        _cells.TryGetValue(Key(labelValues), out var cell) ? cell.Snapshot().Count : 0;

    internal override void Render(StringBuilder sb)
    {
        sb.Append("# HELP ").Append(Name).Append(' ').Append(Help).Append('\n');
        sb.Append("# TYPE ").Append(Name).Append(" histogram\n");
        foreach (var (key, cell) in _cells.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var (counts, count, sum) = cell.Snapshot();
            long cumulative = 0;
            for (var i = 0; i < _buckets.Length; i++)
            {
                cumulative += counts[i];
                sb.Append(Name).Append("_bucket").Append(LabelText(key, "le", Format(_buckets[i]))).Append(' ').Append(cumulative).Append('\n');
            }

            sb.Append(Name).Append("_bucket").Append(LabelText(key, "le", "+Inf")).Append(' ').Append(count).Append('\n');
            sb.Append(Name).Append("_sum").Append(LabelText(key)).Append(' ').Append(Format(sum)).Append('\n');
            sb.Append(Name).Append("_count").Append(LabelText(key)).Append(' ').Append(count).Append('\n');
        }
    }
}

internal sealed class DoubleCell
{
    private readonly Lock _lock = new();
    private double _value;

    public double Value
    {
        get { lock (_lock) { return _value; } }
    }

    public void Add(double amount)
    {
        lock (_lock) { _value += amount; }
    }

    public void Set(double value)
    {
        lock (_lock) { _value = value; }
    }

    public void SetIfHigher(double value)
    {
        lock (_lock) { _value = Math.Max(_value, value); }
    }
}

internal sealed class HistogramCell(int bucketCount)
{
    private readonly Lock _lock = new();
    private readonly long[] _counts = new long[bucketCount];
    private long _count;
    private double _sum;

    public void Observe(double[] bounds, double value)
    {
        lock (_lock)
        {
            for (var i = 0; i < bounds.Length; i++)
            {
                if (value <= bounds[i])
                {
                    _counts[i]++;
                    break;
                }
            }

            _count++;
            _sum += value;
        }
    }

    public (long[] Counts, long Count, double Sum) Snapshot()
    {
        lock (_lock) { return ([.. _counts], _count, _sum); }
    }
}
