namespace SecureDra.KubeletPlugin.Hosting;

/// <summary>
/// One component's view of readiness for <c>/readyz</c> (e.g. the checkpoint is loaded). Register
/// implementations in DI; the plugin is ready when every check is.
/// </summary>
public interface IPluginReadinessCheck
{
    string Name { get; }

    PluginReadiness Check();
}

public sealed record PluginReadiness(bool Ready, string Detail);
