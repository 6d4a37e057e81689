using System.Globalization;
using System.Text.RegularExpressions;

namespace SecureDra.Api.Config.Nvidia;

/// <summary>
/// Parses a Kubernetes resource.Quantity (the serialized form: sign, digits, optional fraction, then a
/// binary suffix Ki..Ei, a decimal suffix n..E, or an exponent) into whole bytes, with bounds checked on
/// a decimal before anything can overflow. Only what the vendor's MPS limits accept is meaningful here.
/// </summary>
public static partial class NvidiaQuantity
{
    /// <summary>The longest quantity text accepted; the Kubernetes serializer never writes more.</summary>
    public const int MaxLength = 64;

    public static bool TryParseBytes(string text, out long bytes, out string problem)
    {
        bytes = 0;
        if (text.Length is 0 or > MaxLength)
        {
            problem = text.Length == 0 ? "an empty quantity" : $"a quantity longer than {MaxLength} characters";
            return false;
        }

        var match = QuantityPattern().Match(text);
        if (!match.Success)
        {
            problem = "not a quantity (for example 1Gi, 512Mi or 1073741824)";
            return false;
        }

        if (!decimal.TryParse(match.Groups["number"].Value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            problem = "a number too long to represent";
            return false;
        }

        var suffix = match.Groups["suffix"].Value;
        decimal value;
        try
        {
            value = suffix switch
            {
                "" => number,
                "Ki" => number * (1L << 10),
                "Mi" => number * (1L << 20),
                "Gi" => number * (1L << 30),
                "Ti" => number * (1L << 40),
                "Pi" => number * (1L << 50),
                "Ei" => number * (1L << 60),
                "n" => number / 1_000_000_000m,
                "u" => number / 1_000_000m,
                "m" => number / 1_000m,
                "k" => number * 1_000m,
                "M" => number * 1_000_000m,
                "G" => number * 1_000_000_000m,
                "T" => number * 1_000_000_000_000m,
                "P" => number * 1_000_000_000_000_000m,
                "E" => number * 1_000_000_000_000_000_000m,
                _ => ScaleByExponent(number, suffix),
            };
        }
        catch (OverflowException)
        {
            problem = "a quantity too large to represent";
            return false;
        }

        // resource.Quantity.Value() rounds a fraction of a byte up; so does this.
        value = decimal.Ceiling(value);
        if (value > long.MaxValue || value < long.MinValue)
        {
            problem = "a quantity too large to represent";
            return false;
        }

        bytes = (long)value;
        problem = string.Empty;
        return true;
    }

    // An exponent such as e9 or E-3; bounded so the loop cannot run long or overflow unnoticed.
    private static decimal ScaleByExponent(decimal number, string suffix)
    {
        var exponent = int.Parse(suffix.AsSpan(1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        if (exponent is > 30 or < -30)
        {
            throw new OverflowException();
        }

        for (var i = 0; i < Math.Abs(exponent); i++)
        {
            number = exponent > 0 ? number * 10 : number / 10;
        }

        return number;
    }

    // The number part is at most 40 characters so decimal.Parse stays exact; the exponent at most 3 digits.
    [GeneratedRegex(@"^(?<number>[+-]?(?:[0-9]{1,30}(?:\.[0-9]{0,9})?|\.[0-9]{1,9}))(?<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]{1,3}|n|u|m|k|M|G|T|P|E)?$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex QuantityPattern();
}
