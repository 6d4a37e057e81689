namespace SecureDra.Fuzz;

/// <summary>An oracle failed: an undocumented exception escaped the parser, or an accepted input broke a documented rule.</summary>
public sealed class FuzzFindingException : Exception
{
    public FuzzFindingException() { }

    public FuzzFindingException(string message) : base(message) { }

    public FuzzFindingException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>The undocumented exception <paramref name="escaped"/> left <paramref name="target"/>: a crash.</summary>
    public static FuzzFindingException Escaped(string target, Exception escaped) =>
        new($"{target}: undocumented {escaped.GetType().FullName} escaped: {escaped.Message}", escaped);

    /// <summary><paramref name="target"/> accepted an input that breaks <paramref name="rule"/>: a wrong accept.</summary>
    public static FuzzFindingException WrongAccept(string target, string rule) =>
        new($"{target}: wrong accept: {rule}");

    /// <summary>Two paths through the same parser disagree on one input.</summary>
    public static FuzzFindingException Disagree(string target, string what) =>
        new($"{target}: paths disagree: {what}");
}
