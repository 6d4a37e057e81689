using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SecureDra.KubeletPlugin.State;

namespace SecureDra.Fuzz.Targets;

/// <summary>
/// <see cref="CheckpointFile.Parse"/> on a checkpoint whose payload is the input, behind a correct header
/// (length and SHA-256), so the mutations reach the JSON and not just the checksum. Documented: anything
/// wrong is a <see cref="CheckpointCorruptException"/> ("a corrupt checkpoint fails closed with a clear
/// message"). Oracles: an accepted checkpoint can be written back (<see cref="CheckpointFile.Serialize"/>, as
/// start-up does) and read again to the same bytes, and holds no null where an entry is expected (a claims
/// map, a device or dirty-device entry: issue 16 defect 4).
/// </summary>
public sealed class CheckpointTarget : IFuzzTarget
{
    private readonly CheckpointFile _file = new("/nonexistent-fuzz", "checkpoint.json", 4 * 1024 * 1024);

    public string Name => "checkpoint";

    public int MaxInputBytes => 16 * 1024;

    /// <summary>The on-disk form of <paramref name="payload"/>: header line with its length and SHA-256, then the payload.</summary>
    public static byte[] WithHeader(ReadOnlySpan<byte> payload)
    {
        var header = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"SECUREDRA-CHECKPOINT 1 sha256={Convert.ToHexStringLower(SHA256.HashData(payload))} bytes={payload.Length}\n"));
        return [.. header, .. payload];
    }

    public FuzzVerdict Run(ReadOnlySpan<byte> input)
    {
        var content = WithHeader(input);
        CheckpointData data;
        try
        {
            data = _file.Parse(content);
        }
        catch (CheckpointCorruptException)
        {
            return FuzzVerdict.Rejected;
        }
        catch (Exception ex)
        {
            throw FuzzFindingException.Escaped(Name, ex);
        }

        byte[] written;
        try
        {
            written = CheckpointFile.Serialize(data);
        }
        catch (Exception ex)
        {
            throw FuzzFindingException.WrongAccept(Name, $"accepted, but writing it back throws {ex.GetType().Name}: {ex.Message}");
        }

        var payload = written.AsSpan(written.AsSpan().IndexOf((byte)'\n') + 1);
        if (FirstNull(payload) is { } where)
        {
            throw FuzzFindingException.WrongAccept(Name, $"accepted with a null at {where}");
        }

        try
        {
            var again = CheckpointFile.Serialize(_file.Parse(written));
            if (!again.AsSpan().SequenceEqual(written))
            {
                throw FuzzFindingException.WrongAccept(Name, "what was written back reads back differently");
            }
        }
        catch (CheckpointCorruptException ex)
        {
            throw FuzzFindingException.WrongAccept(Name, $"what was written back is refused: {ex.Message}");
        }

        return FuzzVerdict.Accepted;
    }

    /// <summary>The path of the first null inside the claims map or in a claim's device, prepared or dirty-device list; null values of optional scalar fields are fine.</summary>
    private static string? FirstNull(ReadOnlySpan<byte> payload)
    {
        using var document = JsonDocument.Parse(payload.ToArray(), new JsonDocumentOptions { MaxDepth = 1024 });
        if (!document.RootElement.TryGetProperty("claims", out var claims) || claims.ValueKind != JsonValueKind.Object)
        {
            return "claims";
        }

        foreach (var claim in claims.EnumerateObject())
        {
            if (claim.Value.ValueKind != JsonValueKind.Object)
            {
                return $"claims.{claim.Name}";
            }

            foreach (var field in claim.Value.EnumerateObject())
            {
                if (field.Name is "devices" or "prepared" or "dirtyDevices" && field.Value.ValueKind == JsonValueKind.Array)
                {
                    var i = 0;
                    foreach (var item in field.Value.EnumerateArray())
                    {
                        if (item.ValueKind == JsonValueKind.Null)
                        {
                            return $"claims.{claim.Name}.{field.Name}[{i}]";
                        }

                        i++;
                    }
                }
            }
        }

        return null;
    }
}
