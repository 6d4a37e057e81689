namespace SecureDra.KubeletPlugin.Hosting;

/// <summary>A flag or path combination the plugin cannot run with; the CLI prints the message and exits 2.</summary>
public sealed class KubeletPluginConfigurationException : Exception
{
    public KubeletPluginConfigurationException() { }

    public KubeletPluginConfigurationException(string message) : base(message) { }

    public KubeletPluginConfigurationException(string message, Exception innerException) : base(message, innerException) { }
}
