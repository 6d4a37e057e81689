using System.Security.Cryptography;
using System.Text;

namespace SecureDra.Kube.Taints;

/// <summary>
/// The name of the rule for one device: a readable part (pool and device, lowercased, reduced to DNS characters,
/// at most 40) and 16 hex digits of SHA-256 over driver, pool and device, so distinct devices never share a rule
/// even where their readable parts collide. At most 76 characters, a valid DNS subdomain.
/// </summary>
public static class DeviceTaintRuleNames
{
    public const string Prefix = "securedra-";

    public const int MaxReadableLength = 40;

    public static string For(DeviceTaintRuleTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{target.Driver}\n{target.Pool}\n{target.Device}"));
        var readable = new StringBuilder();
        foreach (var c in $"{target.Pool}-{target.Device}")
        {
            if (readable.Length >= MaxReadableLength)
            {
                break;
            }

            readable.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-');
        }

        var part = readable.ToString().Trim('-');
        return Prefix + (part.Length == 0 ? "" : part + "-") + Convert.ToHexStringLower(hash.AsSpan(0, 8));
    }
}
