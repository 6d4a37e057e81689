namespace SecureDra.Fuzz;

/// <summary>How one input ended when no oracle failed.</summary>
public enum FuzzVerdict
{
    /// <summary>The parser accepted the input and every oracle on the result held.</summary>
    Accepted,

    /// <summary>The parser refused the input the documented way (an error result or a documented exception type).</summary>
    Rejected,

    /// <summary>The input never reaches this parser in production (e.g. not JSON where a JSON layer sits in front), so it was not run.</summary>
    NotApplicable,
}
