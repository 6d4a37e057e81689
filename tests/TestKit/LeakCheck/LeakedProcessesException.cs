namespace SecureDra.TestKit.LeakCheck;

/// <summary>
/// Processes of this test run alive after its last test. The type name is what <c>dotnet test</c> prints by default
/// beside "[Test Assembly Cleanup Failure]"; the list shows with <c>--logger "console;verbosity=detailed"</c> and in a trx.
/// </summary>
public sealed class LeakedProcessesException : Exception
{
    public LeakedProcessesException()
    {
    }

    public LeakedProcessesException(string message)
        : base(message)
    {
    }

    public LeakedProcessesException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
