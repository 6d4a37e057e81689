namespace SecureDra.KubeletPlugin.Pipeline;

/// <summary>
/// Named points between the durable steps of Prepare and Unprepare. When
/// <see cref="ClaimPipelineOptions.CrashAt"/> names one, the process dies there without any
/// cleanup (as kill -9 would), so crash tests can stop it between every pair of steps.
/// </summary>
public static class CrashPoints
{
    public const string PrepareAfterCheckpointStarted = "prepare:after-checkpoint-started";
    public const string PrepareAfterCdi = "prepare:after-cdi";
    public const string PrepareAfterCheckpointPrepared = "prepare:after-checkpoint-prepared";
    public const string UnprepareAfterCheckpointStarted = "unprepare:after-checkpoint-started";
    public const string UnprepareAfterScrub = "unprepare:after-scrub";
    public const string UnprepareAfterCdiDelete = "unprepare:after-cdi-delete";
    public const string UnprepareAfterCheckpointDone = "unprepare:after-checkpoint-done";

    public static IReadOnlyList<string> All { get; } =
    [
        PrepareAfterCheckpointStarted, PrepareAfterCdi, PrepareAfterCheckpointPrepared,
        UnprepareAfterCheckpointStarted, UnprepareAfterScrub, UnprepareAfterCdiDelete, UnprepareAfterCheckpointDone,
    ];
}
