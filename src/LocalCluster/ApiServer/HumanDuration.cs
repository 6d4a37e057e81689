using System.Globalization;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// An age the way the API server's printers write it (apimachinery's duration.HumanDuration): seconds up to two
/// minutes, then coarser units, each step keeping at most two units ("3m20s", "5h2m", "3d4h", "2y30d").
/// </summary>
public static class HumanDuration
{
    public static string Format(TimeSpan age)
    {
        // Up to a second of clock skew between writer and reader is "now"; more than that in the future is invalid.
        var seconds = (long)age.TotalSeconds; // truncated toward zero, as Go converts
        if (seconds < -1)
        {
            return "<invalid>";
        }

        if (seconds < 0)
        {
            return "0s";
        }

        if (seconds < 120)
        {
            return Invariant($"{seconds}s");
        }

        var minutes = seconds / 60;
        if (minutes < 10)
        {
            return Two(minutes, "m", seconds % 60, "s");
        }

        if (minutes < 180)
        {
            return Invariant($"{minutes}m");
        }

        var hours = minutes / 60;
        if (hours < 8)
        {
            return Two(hours, "h", minutes % 60, "m");
        }

        if (hours < 48)
        {
            return Invariant($"{hours}h");
        }

        if (hours < 24 * 8)
        {
            return Two(hours / 24, "d", hours % 24, "h");
        }

        var days = hours / 24;
        if (hours < 24 * 365 * 2)
        {
            return Invariant($"{days}d");
        }

        if (hours < 24 * 365 * 8)
        {
            return Two(days / 365, "y", days % 365, "d");
        }

        return Invariant($"{days / 365}y");
    }

    private static string Two(long major, string majorUnit, long minor, string minorUnit) =>
        minor == 0 ? Invariant($"{major}{majorUnit}") : Invariant($"{major}{majorUnit}{minor}{minorUnit}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
