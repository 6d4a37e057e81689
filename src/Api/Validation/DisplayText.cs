using System.Text;

namespace SecureDra.Api.Validation;

/// <summary>
/// Renders untrusted text for an error message: bounded in length, control characters replaced,
/// quoted, so an error can never carry a payload into a log line or a terminal.
/// </summary>
public static class DisplayText
{
    public const int MaxDisplayChars = 64;

    public static string Quote(string value)
    {
        var builder = new StringBuilder(Math.Min(value.Length, MaxDisplayChars) + 3);
        builder.Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            if (i >= MaxDisplayChars)
            {
                builder.Append('…');
                break;
            }

            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                builder.Append(c).Append(value[++i]);
                continue;
            }

            builder.Append(c switch
            {
                '"' => '\'',
                '\\' => '/',
                _ when char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' => '?',
                _ => c,
            });
        }

        builder.Append('"');
        return builder.ToString();
    }

    /// <summary>Decodes at most <see cref="MaxDisplayChars"/> worth of UTF-8 (lossy) and quotes it.</summary>
    public static string QuoteUtf8(ReadOnlySpan<byte> utf8)
    {
        // Four bytes per character at most; Quote truncates to MaxDisplayChars and marks it.
        var slice = utf8.Length > (MaxDisplayChars + 1) * 4 ? utf8[..((MaxDisplayChars + 1) * 4)] : utf8;
        return Quote(Encoding.UTF8.GetString(slice));
    }
}
