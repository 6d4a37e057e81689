using System.Text.RegularExpressions;

namespace SecureDra.Kube.Taints;

/// <summary>
/// One device, as a DeviceTaintRule's selector names it. All three fields are required and checked: a
/// selector with an empty field matches every device of the others, so a missing device name would
/// withdraw a whole node and a missing pool the whole cluster.
/// </summary>
public sealed partial record DeviceTaintRuleTarget
{
    public DeviceTaintRuleTarget(string driver, string pool, string device)
    {
        if (driver is not { Length: > 0 and <= 63 } || !DnsSubdomain().IsMatch(driver))
        {
            throw new ArgumentException($"driver {Show(driver)} must be a DNS subdomain of 1 to 63 characters", nameof(driver));
        }

        // Pool names are one or more DNS subdomains joined by '/', 253 characters at most (ResourceSlice validation).
        if (pool is not { Length: > 0 and <= 253 } || !pool.Split('/').All(part => part.Length > 0 && DnsSubdomain().IsMatch(part)))
        {
            throw new ArgumentException($"pool {Show(pool)} must be 1 to 253 characters of DNS subdomains separated by '/'", nameof(pool));
        }

        if (device is not { Length: > 0 and <= 63 } || !DnsLabel().IsMatch(device))
        {
            throw new ArgumentException($"device {Show(device)} must be a DNS label of 1 to 63 characters", nameof(device));
        }

        Driver = driver;
        Pool = pool;
        Device = device;
    }

    public string Driver { get; }

    public string Pool { get; }

    public string Device { get; }

    public override string ToString() => $"{Driver}/{Pool}/{Device}";

    private static string Show(string? value) => value is null ? "null" : "'" + (value.Length > 64 ? value[..64] + "…" : value) + "'";

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", RegexOptions.CultureInvariant)]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex DnsLabel();
}
