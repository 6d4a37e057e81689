using System.Text;

namespace SecureDra.Fuzz;

/// <summary>
/// A small deterministic mutator for the in-process loop: byte flips, interesting bytes, insert, delete,
/// duplicate and repeat chunks (which build depth and size bombs), dictionary tokens, and splicing two corpus
/// entries. The same seed gives the same inputs, so a CI failure reproduces locally with the seed it prints.
/// </summary>
public sealed class Mutator(int seed, IReadOnlyList<byte[]> dictionary, int maxBytes)
{
    private static readonly byte[] Interesting =
        [0x00, 0x01, 0x7f, 0x80, 0xbf, 0xc0, 0xed, 0xef, 0xf0, 0xf4, 0xfe, 0xff, (byte)'"', (byte)'\\', (byte)'{', (byte)'}', (byte)'[', (byte)']', (byte)':', (byte)',', (byte)'\n', (byte)'-', (byte)'0', (byte)'9', (byte)'e', (byte)'&', (byte)'*', (byte)'!', (byte)'#', (byte)' ', (byte)'\t', (byte)'\r'];

    private static readonly byte[][] BuiltIn =
    [
        .. new[]
        {
            "\\u0000", "\\uD800", "\\uDC00", "\\uD800\\uDC00", "\\u0061", "\\\"", "1e308", "-0", "1.0", "NaN", "Infinity", "null", "true",
            "\"\":", "{}", "[]", "\xff\xfe", ".nan", ".inf", "-.inf", "0x7fffffffffffffffff", "0o777", "yes", "<<: ", "&a ", "*a", "!!int ",
            "---\n", "...\n", "? ", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "\\U8010FFFF", "\\x00",
        }.Select(Encoding.Latin1.GetBytes),
    ];

    private readonly Random _random = new(seed);

    public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> corpus)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(corpus);
        var data = new List<byte>(input);
        // Mostly one or two edits: a JSON or YAML input survives that often enough to reach the parser's logic.
        var rounds = _random.Next(4) == 0 ? 2 + _random.Next(3) : 1;
        for (var r = 0; r < rounds; r++)
        {
            MutateOnce(data, corpus);
        }

        if (data.Count > maxBytes)
        {
            data.RemoveRange(maxBytes, data.Count - maxBytes);
        }

        return [.. data];
    }

    private void MutateOnce(List<byte> data, IReadOnlyList<byte[]> corpus)
    {
        var at = data.Count == 0 ? 0 : _random.Next(data.Count + 1);
        switch (_random.Next(14))
        {
            case 10 or 11:
                ReplaceValue(data);
                break;
            case 12 or 13:
                InsertIntoString(data);
                break;
            case 0 when data.Count > 0:
                data[Math.Min(at, data.Count - 1)] ^= (byte)(1 << _random.Next(8));
                break;
            case 1 when data.Count > 0:
                data[Math.Min(at, data.Count - 1)] = Interesting[_random.Next(Interesting.Length)];
                break;
            case 2:
                data.Insert(at, Interesting[_random.Next(Interesting.Length)]);
                break;
            case 3 when data.Count > 0:
                data.RemoveRange(Math.Min(at, data.Count - 1), Math.Min(1 + _random.Next(16), data.Count - Math.Min(at, data.Count - 1)));
                break;
            case 4 when data.Count > 0:
                {
                    // Duplicate a chunk in place: repeats keys, array items, whole documents.
                    var start = _random.Next(data.Count);
                    var length = Math.Min(1 + _random.Next(64), data.Count - start);
                    data.InsertRange(at, data.GetRange(start, length));
                    break;
                }

            case 5:
                {
                    // Repeat a short token many times: nesting and size bombs.
                    var token = Pick();
                    var times = 1 << _random.Next(12);
                    for (var i = 0; i < times && data.Count < maxBytes; i++)
                    {
                        data.InsertRange(at, token);
                    }

                    break;
                }

            case 6 or 7:
                data.InsertRange(at, Pick());
                break;
            case 8 when corpus.Count > 0:
                {
                    var other = corpus[_random.Next(corpus.Count)];
                    if (other.Length > 0)
                    {
                        var start = _random.Next(other.Length);
                        var length = Math.Min(1 + _random.Next(256), other.Length - start);
                        var cut = Math.Min(at, data.Count);
                        data.RemoveRange(cut, data.Count - cut);
                        data.AddRange(other.AsSpan(start, length).ToArray());
                    }

                    break;
                }

            default:
                if (data.Count > 0)
                {
                    // Overwrite with a token, keeping the length roughly the same.
                    var token = Pick();
                    var start = Math.Min(at, data.Count - 1);
                    data.RemoveRange(start, Math.Min(token.Length, data.Count - start));
                    data.InsertRange(start, token);
                }

                break;
        }
    }

    private static readonly byte[][] Values =
    [
        .. new[]
        {
            "null", "true", "0", "-1", "1.5", "1e400", "-0", "9223372036854775808", "\"\"", "\"x\"", "[]", "{}", "[null]", "{\"\":null}",
            "\"\\uD800\"", "\"\\uDC00x\"", "\"\xff\xfe\"", "\"None\"", "\"ZeroVRAMOnRelease\"", "\"TimeSlicing\"", "\"GpuConfig\"",
            "\"resource.k8s.io/v1beta1\"", "\"resource.k8s.io/v1\"", "\"DeviceClass\"", "\"UPDATE\"", "\"gpu.nvidia.com\"", ".nan", "yes", "~",
        }.Select(Encoding.Latin1.GetBytes),
    ];

    private static readonly byte[][] InString =
        [.. new[] { "\\uD800", "\\uDC00", "\xff", "\xc0\xaf", "\xed\xa0\x80", "\\u0000", "\\\"", "\u00e9" }.Select(Encoding.Latin1.GetBytes)];

    /// <summary>Replaces the value after a ':' (up to the next ',', '}' or newline) with another JSON/YAML value: keeps the syntax, changes the meaning.</summary>
    private void ReplaceValue(List<byte> data)
    {
        var colons = Positions(data, (byte)':');
        if (colons.Count == 0)
        {
            return;
        }

        var start = colons[_random.Next(colons.Count)] + 1;
        while (start < data.Count && data[start] == (byte)' ')
        {
            start++;
        }

        var end = start;
        var nesting = 0;
        while (end < data.Count && !(nesting == 0 && data[end] is (byte)',' or (byte)'}' or (byte)']' or (byte)'\n'))
        {
            nesting += data[end] is (byte)'{' or (byte)'[' ? 1 : data[end] is (byte)'}' or (byte)']' ? -1 : 0;
            end++;
        }

        data.RemoveRange(start, end - start);
        data.InsertRange(start, Values[_random.Next(Values.Length)]);
    }

    /// <summary>Puts an invalid or unusual sequence just after an opening quote: inside a name or a string value.</summary>
    private void InsertIntoString(List<byte> data)
    {
        var quotes = Positions(data, (byte)'"');
        if (quotes.Count == 0)
        {
            return;
        }

        // Quotes pair up (escaped quotes aside): the even ones open a string.
        data.InsertRange(quotes[2 * _random.Next((quotes.Count + 1) / 2)] + 1, InString[_random.Next(InString.Length)]);
    }

    private static List<int> Positions(List<byte> data, byte value)
    {
        var positions = new List<int>();
        for (var i = 0; i < data.Count; i++)
        {
            if (data[i] == value)
            {
                positions.Add(i);
            }
        }

        return positions;
    }

    private byte[] Pick()
    {
        if (dictionary.Count > 0 && _random.Next(3) != 0)
        {
            return dictionary[_random.Next(dictionary.Count)];
        }

        return BuiltIn[_random.Next(BuiltIn.Length)];
    }
}
