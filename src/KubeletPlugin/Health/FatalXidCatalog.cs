using System.Collections.Frozen;
using System.Globalization;

namespace SecureDra.KubeletPlugin.Health;

/// <summary>
/// Which Xid errors make a GPU unhealthy, and why. The defaults follow NVIDIA's Xid catalogue:
/// errors that indicate broken hardware, lost memory integrity or a dead GPU firmware are fatal;
/// errors a tenant's own program causes (13 graphics exception, 31 MMU fault, 43 channel stopped,
/// 45 preemptive cleanup, 68 video decoder exception, 109 context-switch timeout) are not, because
/// withdrawing a GPU whenever a tenant's kernel faults would let any tenant take GPUs out of service.
/// Override with <c>--fatal-xids</c>.
/// </summary>
public sealed class FatalXidCatalog
{
    private static readonly FrozenDictionary<int, string> Descriptions = new Dictionary<int, string>
    {
        [48] = "double-bit ECC error",
        [62] = "internal micro-controller halt",
        [63] = "ECC page retirement or row-remapping recording event",
        [64] = "ECC page retirement or row-remapping failure",
        [74] = "NVLink error",
        [79] = "GPU has fallen off the bus",
        [92] = "high single-bit ECC error rate",
        [94] = "contained ECC error",
        [95] = "uncontained ECC error",
        [119] = "GSP RPC timeout",
        [120] = "GSP error",
        [140] = "unrecovered ECC error",
    }.ToFrozenDictionary();

    private readonly FrozenSet<int> _fatal;

    public FatalXidCatalog(IEnumerable<int>? fatalXids = null)
    {
        _fatal = (fatalXids ?? Descriptions.Keys).ToFrozenSet();
    }

    /// <summary>The default fatal list, for help texts and docs.</summary>
    public static IReadOnlyCollection<int> DefaultFatalXids => Descriptions.Keys;

    public IReadOnlyCollection<int> FatalXids => _fatal;

    public bool IsFatal(int xid) => _fatal.Contains(xid);

    /// <summary>
    /// The backend's application-Xid filter minus every Xid this catalog treats as fatal: an Xid the
    /// operator declares fatal must reach the health monitor, or the override would do nothing.
    /// </summary>
    public IReadOnlySet<ulong> LetThrough(IEnumerable<ulong> applicationXids)
    {
        ArgumentNullException.ThrowIfNull(applicationXids);
        return applicationXids.Where(x => x > int.MaxValue || !_fatal.Contains((int)x)).ToHashSet();
    }

    /// <summary>E.g. <c>Xid 79: GPU has fallen off the bus</c>.</summary>
    public static string Describe(int xid) =>
        Descriptions.TryGetValue(xid, out var text)
            ? string.Create(CultureInfo.InvariantCulture, $"Xid {xid}: {text}")
            : string.Create(CultureInfo.InvariantCulture, $"Xid {xid}");

    /// <summary>Parses a comma-separated list such as "48,79,94"; throws FormatException naming the bad entry.</summary>
    public static IReadOnlyList<int> Parse(string list)
    {
        ArgumentNullException.ThrowIfNull(list);
        var result = new List<int>();
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var xid) || xid <= 0 || xid > 1000)
            {
                throw new FormatException($"--fatal-xids: \"{part}\" is not an Xid number between 1 and 1000");
            }

            result.Add(xid);
        }

        return result;
    }
}
