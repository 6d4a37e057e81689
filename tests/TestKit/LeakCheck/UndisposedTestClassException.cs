namespace SecureDra.TestKit.LeakCheck;

/// <summary>Test classes xUnit v2 never disposes (see <see cref="UndisposedTestClasses"/>), named in the message.</summary>
public sealed class UndisposedTestClassException : Exception
{
    public UndisposedTestClassException()
    {
    }

    public UndisposedTestClassException(string message)
        : base(message)
    {
    }

    public UndisposedTestClassException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
