namespace SecureDra.Kube.Config;

/// <summary>
/// The exec credential plugin failed (could not start, exited non-zero, ran past its deadline, wrote too much or
/// wrote something that is not an ExecCredential). The client reports it as a CredentialsUnavailable
/// KubeApiException without sending the request.
/// </summary>
public sealed class ExecCredentialException : Exception
{
    public ExecCredentialException() { }
    public ExecCredentialException(string message) : base(message) { }
    public ExecCredentialException(string message, Exception innerException) : base(message, innerException) { }
}
