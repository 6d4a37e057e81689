namespace SecureDra.Api.Validation;

/// <summary>
/// Checks on a JSON string token's raw (still escaped) bytes, without allocating: the decoded
/// UTF-8 length, and that every <c>\u</c> escape forms valid UTF-16 (no lone surrogates).
/// Utf8JsonReader has already checked the escape syntax itself.
/// </summary>
internal static class JsonStringChecks
{
    /// <summary>
    /// The one string rule both config validators apply to the token under <paramref name="reader"/>: valid Unicode
    /// after unescaping and at most <paramref name="maxLength"/> bytes. Null when it holds, else the error text,
    /// which names the <paramref name="what"/> and the limit.
    /// </summary>
    public static string? StringProblem(ref System.Text.Json.Utf8JsonReader reader, int maxLength, string what)
    {
        var raw = reader.HasValueSequence ? default : reader.ValueSpan;
        var length = raw.Length;
        if (reader.ValueIsEscaped && !TryMeasureEscaped(raw, out length))
        {
            return $"a {what} contains an escaped lone surrogate; strings must be valid Unicode";
        }

        return length > maxLength ? $"a {what} of {length} bytes exceeds the maximum length {maxLength} bytes" : null;
    }

    /// <summary>Returns false when an escape encodes a lone surrogate; otherwise the decoded UTF-8 byte length.</summary>
    public static bool TryMeasureEscaped(ReadOnlySpan<byte> raw, out int decodedBytes)
    {
        decodedBytes = 0;
        var i = 0;
        while (i < raw.Length)
        {
            if (raw[i] != (byte)'\\')
            {
                decodedBytes++;
                i++;
                continue;
            }

            if (i + 1 >= raw.Length)
            {
                return false;
            }

            if (raw[i + 1] != (byte)'u')
            {
                decodedBytes++;
                i += 2;
                continue;
            }

            if (!TryHex4(raw, i + 2, out var unit))
            {
                return false;
            }

            i += 6;
            if (char.IsHighSurrogate((char)unit))
            {
                if (i + 6 > raw.Length || raw[i] != (byte)'\\' || raw[i + 1] != (byte)'u'
                    || !TryHex4(raw, i + 2, out var low) || !char.IsLowSurrogate((char)low))
                {
                    return false;
                }

                i += 6;
                decodedBytes += 4;
            }
            else if (char.IsLowSurrogate((char)unit))
            {
                return false;
            }
            else
            {
                decodedBytes += unit < 0x80 ? 1 : unit < 0x800 ? 2 : 3;
            }
        }

        return true;
    }

    private static bool TryHex4(ReadOnlySpan<byte> raw, int start, out int value)
    {
        value = 0;
        if (start + 4 > raw.Length)
        {
            return false;
        }

        for (var k = start; k < start + 4; k++)
        {
            var digit = HexValue(raw[k]);
            if (digit < 0)
            {
                return false;
            }

            value = (value << 4) | digit;
        }

        return true;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    /// <summary>The index of the first invalid UTF-8 sequence, or -1.</summary>
    public static int IndexOfInvalidUtf8(ReadOnlySpan<byte> utf8)
    {
        if (System.Text.Unicode.Utf8.IsValid(utf8))
        {
            return -1;
        }

        var i = 0;
        while (i < utf8.Length)
        {
            var status = System.Text.Rune.DecodeFromUtf8(utf8[i..], out _, out var consumed);
            if (status != System.Buffers.OperationStatus.Done)
            {
                return i;
            }

            i += consumed;
        }

        return -1;
    }
}
