namespace SecureDra.Kube.Resources;

/// <summary>An object from the API server that does not have the shape its apiVersion promises; <see cref="Field"/> names where.</summary>
public sealed class KubeObjectFormatException : Exception
{
    public KubeObjectFormatException() { }
    public KubeObjectFormatException(string message) : base(message) { }
    public KubeObjectFormatException(string message, Exception innerException) : base(message, innerException) { }

    public KubeObjectFormatException(string field, string problem, Exception? innerException = null)
        : base($"{field}: {problem}", innerException)
    {
        Field = field;
    }

    public string Field { get; } = "";
}
