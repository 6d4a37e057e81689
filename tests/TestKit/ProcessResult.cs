namespace SecureDra.TestKit;

/// <summary>What a finished process left: its exit code and everything it wrote.</summary>
public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr);
