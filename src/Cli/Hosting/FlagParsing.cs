using System.Globalization;
using System.Net;

namespace SecureDra.Cli.Hosting;

/// <summary>
/// Parses the values of the string flags (<see cref="EnvOption"/>); every failure is a <see cref="FormatException"/>
/// whose message names the flag. The one flag helper of the executable, beside the options it parses.
/// </summary>
public static class FlagParsing
{
    /// <summary><c>host:port</c>, <c>[v6]:port</c> or <c>:port</c> (all interfaces).</summary>
    public static IPEndPoint Endpoint(string flag, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = value.StartsWith(':') ? "0.0.0.0" + value : value;
        if (IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port is > 0 and <= 65535 && text.Contains(':', StringComparison.Ordinal))
        {
            return endpoint;
        }

        throw new FormatException($"{flag}: '{value}' is not an address:port such as 0.0.0.0:8443");
    }

    /// <summary>
    /// Go-style durations (<c>90s</c>, <c>5m</c>, <c>1h30m</c>, <c>500ms</c>) or a TimeSpan (<c>00:05:00</c>). 0 passes
    /// whatever the range: for these flags it means "off" (<see cref="NonZeroDuration"/> where it cannot).
    /// </summary>
    public static TimeSpan Duration(string flag, string value, TimeSpan min, TimeSpan max)
    {
        ArgumentNullException.ThrowIfNull(value);
        var parsed = TryGoDuration(value) ?? (TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var span) ? span : (TimeSpan?)null)
            ?? throw new FormatException($"{flag}: '{value}' is not a duration such as 30s, 5m or 1h");
        if (parsed != TimeSpan.Zero && (parsed < min || parsed > max))
        {
            throw new FormatException($"{flag}: {value} is outside {min} to {max}");
        }

        return parsed;
    }

    /// <summary>
    /// Like <see cref="Duration"/>, but 0 is outside the range like any other value below <paramref name="min"/>: for
    /// settings where 0 would mean a retry loop with no pause, an Unprepare that fails before it starts, or API calls
    /// that never get an answer.
    /// </summary>
    public static TimeSpan NonZeroDuration(string flag, string value, TimeSpan min, TimeSpan max)
    {
        var parsed = Duration(flag, value, min, max);
        return parsed == TimeSpan.Zero ? throw new FormatException($"{flag}: {value} is outside {min} to {max}") : parsed;
    }

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static int Count(string flag, string value, int min, int max)
    {
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed >= min && parsed <= max)
        {
            return parsed;
        }

        throw new FormatException($"{flag}: '{value}' is not a whole number from {min} to {max}");
    }

    /// <summary>A boolean under the executable's one rule (<see cref="TryBool"/>).</summary>
    public static bool Bool(string flag, string value) =>
        TryBool(value) ?? throw new FormatException($"{flag}: '{value}' is not true or false");

    /// <summary>
    /// The one rule for a boolean, whether it comes from a flag's value or an environment variable (<see cref="EnvFlag"/>):
    /// <c>true</c>/<c>1</c> or <c>false</c>/<c>0</c>, any case, surrounding blanks ignored; anything else is null, never
    /// a silent false. (yes/no are not booleans: the chart's schema refuses them too.)
    /// </summary>
    public static bool? TryBool(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        _ => null,
    };

    public static string OneOf(string flag, string value, params string[] allowed) =>
        allowed.Contains(value, StringComparer.Ordinal) ? value : throw new FormatException($"{flag}: '{value}' is not one of {string.Join(", ", allowed)}");

    /// <summary>A Kubernetes name (DNS-1123 subdomain, at most 253 characters).</summary>
    public static string DnsSubdomain(string flag, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var ok = value.Length is > 0 and <= 253 && value.Split('.').All(label =>
            label.Length is > 0 and <= 63 && char.IsAsciiLetterLower(label[0]) | char.IsAsciiDigit(label[0]) &&
            char.IsAsciiLetterLower(label[^1]) | char.IsAsciiDigit(label[^1]) &&
            label.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'));
        return ok ? value : throw new FormatException($"{flag}: '{value}' is not a lower-case DNS-1123 name of at most 253 characters");
    }

    private static TimeSpan? TryGoDuration(string value)
    {
        var total = TimeSpan.Zero;
        var i = 0;
        if (value.Length == 0)
        {
            return null;
        }

        while (i < value.Length)
        {
            var start = i;
            while (i < value.Length && (char.IsAsciiDigit(value[i]) || value[i] == '.'))
            {
                i++;
            }

            if (start == i || !double.TryParse(value.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return null;
            }

            var unitStart = i;
            while (i < value.Length && char.IsAsciiLetter(value[i]))
            {
                i++;
            }

            TimeSpan unit;
            switch (value[unitStart..i])
            {
                case "ms": unit = TimeSpan.FromMilliseconds(1); break;
                case "s": unit = TimeSpan.FromSeconds(1); break;
                case "m": unit = TimeSpan.FromMinutes(1); break;
                case "h": unit = TimeSpan.FromHours(1); break;
                default: return null;
            }

            total += unit * number;
        }

        return total;
    }
}
