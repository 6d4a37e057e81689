namespace SecureDra.Cli.Demo;

internal sealed record DemoOptions(
    bool KeepRunning,
    int Gpus,
    long GpuMemoryBytes,
    string KubernetesVersion,
    string? WorkDirectory,
    string Listen,
    bool Verbose = false,
    DemoMode Mode = DemoMode.Plugin);
