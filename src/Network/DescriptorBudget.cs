namespace SecureDra.Network;

/// <summary>
/// Checks at start that the TCP connection caps leave a reserve of descriptors for the process's own files
/// (checkpoint, CDI specs, sockets, GPU handles, logs): a flood of connections must never make those fail.
/// </summary>
public static class DescriptorBudget
{
    /// <summary>
    /// Null when <paramref name="caps"/> plus <paramref name="reserve"/> fit under <paramref name="limit"/> (or the
    /// limit is unknown), else a one-line error naming the flags, the limit and the reserve.
    /// </summary>
    public static string? Check(long? limit, int reserve, params (string Flag, ListenerLimits Limits)[] caps)
    {
        ArgumentNullException.ThrowIfNull(caps);
        if (limit is not { } nofile)
        {
            return null;
        }

        var total = caps.Sum(c => (long)c.Limits.DescriptorCeiling);
        if (total + reserve <= nofile)
        {
            return null;
        }

        var flags = string.Join(" + ", caps.Select(c => $"{c.Flag} {c.Limits.MaxConnections} (up to {c.Limits.DescriptorCeiling} descriptors from accept to close)"));
        return $"{caps[0].Flag}: {flags} plus a reserve of {reserve} descriptors for the process's own files exceed the open-file limit (RLIMIT_NOFILE) of {nofile}; lower the flag or raise the limit";
    }
}
