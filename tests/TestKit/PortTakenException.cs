namespace SecureDra.TestKit;

/// <summary>The child could not bind the port it was given because another process took it first.</summary>
public sealed class PortTakenException(int port, string output)
    : Exception($"port {port} was taken before the child bound it\n{output}")
{
    public int Port { get; } = port;
}
