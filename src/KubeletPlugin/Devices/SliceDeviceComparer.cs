using SecureDra.Kube.Resources;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// Structural equality of published devices, ignoring what the API server fills in (taint
/// timeAdded). This is what makes a steady state cost zero writes.
/// </summary>
public static class SliceDeviceComparer
{
    public static bool SameDevices(IReadOnlyList<SliceDevice> a, IReadOnlyList<SliceDevice> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count)
        {
            return false;
        }

        for (var i = 0; i < a.Count; i++)
        {
            if (!Same(a[i], b[i]))
            {
                return false;
            }
        }

        return true;
    }

    public static bool Same(SliceDevice a, SliceDevice b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Name == b.Name
            && SameMap(a.Attributes, b.Attributes)
            && SameMap(a.Capacity, b.Capacity)
            && a.Taints.Count == b.Taints.Count
            && a.Taints.Zip(b.Taints).All(p => p.First.Key == p.Second.Key && (p.First.Value ?? "") == (p.Second.Value ?? "") && p.First.Effect == p.Second.Effect)
            && SameList(a.ConsumesCounters, b.ConsumesCounters, (x, y) => x.CounterSet == y.CounterSet && SameMap(x.Counters, y.Counters));
    }

    /// <summary>Equal <c>sharedCounters</c>; null and empty are the same (the server omits an empty list).</summary>
    public static bool SameCounterSets(IReadOnlyList<CounterSet>? a, IReadOnlyList<CounterSet>? b) =>
        SameList(a, b, (x, y) => x.Name == y.Name && SameMap(x.Counters, y.Counters));

    private static bool SameList<T>(IReadOnlyList<T>? a, IReadOnlyList<T>? b, Func<T, T, bool> same)
    {
        a ??= [];
        b ??= [];
        return a.Count == b.Count && a.Zip(b).All(p => same(p.First, p.Second));
    }

    private static bool SameMap<T>(IReadOnlyDictionary<string, T> a, IReadOnlyDictionary<string, T> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        foreach (var (key, value) in a)
        {
            if (!b.TryGetValue(key, out var other) || !EqualityComparer<T>.Default.Equals(value, other))
            {
                return false;
            }
        }

        return true;
    }
}
