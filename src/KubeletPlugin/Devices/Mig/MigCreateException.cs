namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// Creating a claim's MIG instance failed. <see cref="LeftInstance"/>: a GPU instance was created before the failure
/// (its compute instance was not), so the placement's memory is cleaned (scrub, then destroy) rather than released.
/// </summary>
public sealed class MigCreateException : Exception
{
    public MigCreateException() { }
    public MigCreateException(string message) : base(message) { }
    public MigCreateException(string message, Exception innerException) : base(message, innerException) { }

    public MigCreateException(string message, bool leftInstance, Exception? innerException = null)
        : base(message, innerException)
    {
        LeftInstance = leftInstance;
    }

    public bool LeftInstance { get; }
}
