namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// How <see cref="MigInstanceScrubber"/> runs its worker. <see cref="WorkerPath"/>: the <c>securedra</c> executable (default
/// this process's own, <see cref="Environment.ProcessPath"/>); <see cref="WorkerPrefixArguments"/> go before
/// <c>scrub-worker</c> (e.g. <c>securedra.dll</c> when the executable is <c>dotnet</c>). <see cref="Deadline"/>: the worker is
/// killed (its whole process tree) when it has not exited by then. Reports over <see cref="MigScrubWorkerReport.MaxBytes"/>
/// are rejected unread.
/// </summary>
public sealed record MigInstanceScrubberOptions
{
    public static readonly TimeSpan MaxDeadline = TimeSpan.FromHours(1);

    public string? WorkerPath { get; init; }

    public IReadOnlyList<string> WorkerPrefixArguments { get; init; } = [];

    public TimeSpan Deadline { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The program and leading arguments that start a worker. Without <see cref="WorkerPath"/>: this process's own
    /// executable; when that is the <c>dotnet</c> host (<c>dotnet securedra.dll …</c>), the host with the same entry
    /// assembly (<paramref name="commandLine"/>[0]) in front, so the worker is the same build as its parent.
    /// </summary>
    public (string FileName, IReadOnlyList<string> Prefix) ResolveWorker(string? processPath, IReadOnlyList<string> commandLine)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        if (WorkerPath is not null)
        {
            return (WorkerPath, WorkerPrefixArguments);
        }

        var self = processPath ?? "securedra";
        if (Path.GetFileNameWithoutExtension(self) == "dotnet" && commandLine.Count > 0 && commandLine[0].EndsWith(".dll", StringComparison.Ordinal))
        {
            return (self, [commandLine[0], .. WorkerPrefixArguments]);
        }

        return (self, WorkerPrefixArguments);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the field and its limit.</summary>
    public void Validate()
    {
        if (Deadline <= TimeSpan.Zero || Deadline > MaxDeadline)
        {
            throw new ArgumentException($"MIG scrub deadline: must be more than 0 and at most {MaxDeadline}, got {Deadline}");
        }

        if (WorkerPath is { Length: 0 })
        {
            throw new ArgumentException("MIG scrub worker path: must not be empty");
        }
    }
}
