using System.Text;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.Nvml.Tests;

/// <summary>The worker report parser against hostile input: it never throws, and only a consistent report passes.</summary>
public class MigScrubReportParserTests
{
    private const string Uuid = "MIG-00112233-4455-6677-8899-aabbccddeeff";

    private static readonly string Valid =
        $$"""{"outcome":"scrubbed","instanceUuid":"{{Uuid}}","visibleUuids":["{{Uuid}}"],"totalBytes":1048576,"bytesZeroed":1048576,"coverage":1,"verified":true,"method":"m","durationMs":5,"failureReason":null}""";

    [Fact]
    public void AConsistentReport_Passes()
    {
        var (report, rejection) = MigScrubReportParser.Parse(Encoding.UTF8.GetBytes(Valid), false, 0, Uuid);
        Assert.Null(rejection);
        Assert.Equal(1048576, report!.BytesZeroed);
    }

    [Theory]
    [InlineData("\"instanceUuid\":\"" + Uuid + "\",\"instanceUuid\":\"MIG-x\"", "duplicate")]
    [InlineData("\"method\":null", "null method")]
    [InlineData("\"visibleUuids\":null", "null list")]
    [InlineData("\"outcome\":null", "null outcome")]
    [InlineData("\"coverage\":\"NaN\"", "string number")]
    [InlineData("\"coverage\":1.5", "coverage over 1")]
    [InlineData("\"bytesZeroed\":-1", "negative bytes")]
    [InlineData("\"outcome\":\"SCRUBBED\"", "unknown outcome")]
    public void AnInconsistentOrHostileField_IsRejected(string field, string why)
    {
        var name = field[1..field.IndexOf('"', 1)];
        var json = Valid.Replace($"\"{name}\":", $"\"x{name}\":", StringComparison.Ordinal);
        json = json[..^1] + "," + field + "}";
        json = json.Replace($"\"x{name}\":", "\"ignoredBecauseUnknown\":", StringComparison.Ordinal);

        // An unknown field is itself a rejection; the point is that nothing here throws or passes.
        var (report, rejection) = MigScrubReportParser.Parse(Encoding.UTF8.GetBytes(json), false, 0, Uuid);
        Assert.True(report is null && rejection is not null, why);

        // The same field replacing the good one, without any unknown field.
        var clean = Valid.Replace(Original(name), field, StringComparison.Ordinal);
        if (name == "instanceUuid")
        {
            clean = Valid[..^1] + ",\"instanceUuid\":\"MIG-x\"}";
        }

        (report, rejection) = MigScrubReportParser.Parse(Encoding.UTF8.GetBytes(clean), false, 0, Uuid);
        Assert.True(report is null && rejection is not null, $"{why}: {clean}");
    }

    [Fact]
    public void TrailingData_AndASecondObject_AreRejected()
    {
        Assert.NotNull(MigScrubReportParser.Parse(Encoding.UTF8.GetBytes(Valid + "x"), false, 0, Uuid).Rejection);
        Assert.NotNull(MigScrubReportParser.Parse(Encoding.UTF8.GetBytes(Valid + Valid), false, 0, Uuid).Rejection);
        Assert.NotNull(MigScrubReportParser.Parse(Encoding.UTF8.GetBytes(Valid), true, 0, Uuid).Rejection);
        Assert.NotNull(MigScrubReportParser.Parse(Encoding.UTF8.GetBytes(Valid), false, 1, Uuid).Rejection);
        Assert.NotNull(MigScrubReportParser.Parse(Encoding.UTF8.GetBytes(Valid), false, 0, "MIG-other").Rejection);

        // A duplicate whose last value would pass ("last wins") is rejected as a duplicate.
        var duplicate = "{\"verified\":false," + Valid[1..];
        var rejection = MigScrubReportParser.Parse(Encoding.UTF8.GetBytes(duplicate), false, 0, Uuid).Rejection;
        Assert.NotNull(rejection);
        Assert.Contains("not a valid report", rejection, StringComparison.Ordinal);
    }

    [Fact]
    public void RandomMutations_NeverThrow_AndNeverPassChanged()
    {
        var random = new Random(1313);
        var valid = Encoding.UTF8.GetBytes(Valid);
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = (byte[])valid.Clone();
            var edits = random.Next(1, 4);
            for (var e = 0; e < edits; e++)
            {
                switch (random.Next(3))
                {
                    case 0:
                        bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                        break;
                    case 1:
                        bytes = bytes[..random.Next(bytes.Length)];
                        break;
                    default:
                        var at = random.Next(bytes.Length + 1);
                        bytes = [.. bytes[..at], (byte)random.Next(256), .. bytes[at..]];
                        break;
                }

                if (bytes.Length == 0)
                {
                    break;
                }
            }

            var (report, rejection) = MigScrubReportParser.Parse(bytes, false, 0, Uuid);
            Assert.True((report is null) != (rejection is null));
            if (report is not null)
            {
                // Whatever got through is still a verified scrub of exactly this instance with sane numbers.
                Assert.Equal("scrubbed", report.Outcome);
                Assert.Equal(Uuid, report.InstanceUuid);
                Assert.True(report.Verified);
                Assert.Equal([Uuid], report.VisibleUuids);
                Assert.InRange(report.Coverage, 0, 1);
                Assert.InRange(report.BytesZeroed, 0, report.TotalBytes);
            }
        }
    }

    private static string Original(string name)
    {
        var start = Valid.IndexOf($"\"{name}\":", StringComparison.Ordinal);
        var depth = 0;
        for (var i = start + name.Length + 3; i < Valid.Length; i++)
        {
            var c = Valid[i];
            if (c is '[' or '{')
            {
                depth++;
            }
            else if (c is ']' or '}')
            {
                if (depth == 0)
                {
                    return Valid[start..i];
                }

                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                return Valid[start..i];
            }
        }

        return Valid[start..^1];
    }
}
