namespace SecureDra.KubeletPlugin.Pipeline;

/// <summary>Called at each <see cref="CrashPoints"/> name; the production implementation kills the process when configured to.</summary>
public interface ICrashInjector
{
    void At(string point);
}
