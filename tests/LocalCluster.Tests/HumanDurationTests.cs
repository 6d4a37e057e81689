using SecureDra.LocalCluster.ApiServer;

namespace SecureDra.LocalCluster.Tests;

/// <summary>The AGE column's rounding, at each boundary of apimachinery's HumanDuration.</summary>
public class HumanDurationTests
{
    [Theory]
    [InlineData(-5, "<invalid>")]
    [InlineData(-1, "0s")]
    [InlineData(-1.9, "0s")]
    [InlineData(0, "0s")]
    [InlineData(119, "119s")]
    [InlineData(120, "2m")]
    [InlineData(200, "3m20s")]
    [InlineData(599, "9m59s")]
    [InlineData(600, "10m")]
    [InlineData(3 * 3600 - 1, "179m")]
    [InlineData(3 * 3600, "3h")]
    [InlineData(5 * 3600 + 120, "5h2m")]
    [InlineData(8 * 3600, "8h")]
    [InlineData(47 * 3600 + 3599, "47h")]
    [InlineData(48 * 3600, "2d")]
    [InlineData(3 * 86400 + 4 * 3600, "3d4h")]
    [InlineData(8 * 86400, "8d")]
    [InlineData(729 * 86400, "729d")]
    [InlineData(730 * 86400, "2y")]
    [InlineData(760 * 86400, "2y30d")]
    [InlineData(8 * 365 * 86400, "8y")]
    public void Formats_like_the_api_server(double seconds, string expected)
    {
        Assert.Equal(expected, HumanDuration.Format(TimeSpan.FromSeconds(seconds)));
    }
}
