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
    /// <summary>Dynamic MIG: the intent to create an instance is durable; nothing is created yet.</summary>
    public const string PrepareAfterMigIntent = "prepare:after-mig-intent";

    /// <summary>Dynamic MIG: the GPU and compute instance exist; the checkpoint does not know their ids.</summary>
    public const string PrepareAfterMigCreate = "prepare:after-mig-create";

    /// <summary>Dynamic MIG: the instance's ids and MIG UUID are durable; no CDI spec yet.</summary>
    public const string PrepareAfterMigRecorded = "prepare:after-mig-recorded";

    public const string UnprepareAfterCheckpointStarted = "unprepare:after-checkpoint-started";
    public const string UnprepareAfterScrub = "unprepare:after-scrub";
    public const string UnprepareAfterCdiDelete = "unprepare:after-cdi-delete";
    public const string UnprepareAfterCheckpointDone = "unprepare:after-checkpoint-done";

    /// <summary>
    /// MIG: the instance is scrubbed and verified (release, retry or start-up). Dynamic: not destroyed yet. Static: its
    /// slices are not recorded Clean yet.
    /// </summary>
    public const string MigAfterInstanceScrub = "mig:after-instance-scrub";

    /// <summary>Dynamic MIG: the instance is destroyed; its slices are not recorded Clean yet.</summary>
    public const string MigAfterInstanceDestroy = "mig:after-instance-destroy";

    public static IReadOnlyList<string> All { get; } =
    [
        PrepareAfterCheckpointStarted, PrepareAfterCdi, PrepareAfterCheckpointPrepared,
        UnprepareAfterCheckpointStarted, UnprepareAfterScrub, UnprepareAfterCdiDelete, UnprepareAfterCheckpointDone,
        PrepareAfterMigIntent, PrepareAfterMigCreate, PrepareAfterMigRecorded, MigAfterInstanceScrub, MigAfterInstanceDestroy,
    ];
}
