using CsCheck;

namespace SecureDra.KubeletPlugin.Tests.Lifecycle;

public enum LifecycleOpKind
{
    /// <summary>Allocate a new claim on device X (and, when Y differs, also Y) if the scheduler can, then Prepare it; B=1: batch it with a second new claim on Y; B=2: the kubelet retries a failed Prepare instead.</summary>
    Prepare,

    /// <summary>The kubelet repeats Prepare for a claim it already has (idempotent).</summary>
    RepeatPrepare,

    /// <summary>The kubelet unprepares the A-th claim it has (its container has stopped); B=1: in one call with another claim; B=2: as two concurrent calls.</summary>
    Unprepare,

    /// <summary>Every running container writes its tenant's canary over its GPUs' memory.</summary>
    ContainersWrite,

    /// <summary>The tenant strips the finalizer and deletes the A-th claim on the API server while its container runs.</summary>
    DeleteClaim,

    /// <summary>One pass of the stale-claim reaper.</summary>
    ReaperTick,

    /// <summary>The next scrub of device X: A=0 not verified (short allocation), 1 throws, 2 refused (process on the GPU); A=3 all scrubs slow.</summary>
    ScrubFault,

    /// <summary>One pass of the scrub retry loop over every device without a verified scrub.</summary>
    RetryTick,

    /// <summary>The process dies at crash point A during the next Prepare (A &lt; 3) or Unprepare of a claim, then restarts from disk.</summary>
    Crash,

    /// <summary>A clean restart.</summary>
    Restart,

    /// <summary>The checkpoint becomes unreadable; the operator follows the plugin's advice (drain, move aside, restart).</summary>
    CorruptCheckpoint,

    /// <summary>The plugin directory is wiped on a drained node (a reinstall) and the plugin restarts.</summary>
    WipeCheckpoint,

    /// <summary>Device X turns unhealthy (A=1) or healthy (A=0).</summary>
    Health,

    /// <summary>MIG mode on device X toggles.</summary>
    MigToggle,
}

/// <summary>One step of a generated device-life sequence; A, B, X, Y are small operands whose meaning depends on the kind.</summary>
public readonly record struct LifecycleOp(LifecycleOpKind Kind, int A, int B, int X, int Y)
{
    public const int Devices = 3;

    public override string ToString() => $"{Kind}({A},{B},{X},{Y})";

    public static readonly Gen<LifecycleOp> Gen =
        CsCheck.Gen.Frequency(
            (12, Make(LifecycleOpKind.Prepare)),
            (3, Make(LifecycleOpKind.RepeatPrepare)),
            (10, Make(LifecycleOpKind.Unprepare)),
            (6, Make(LifecycleOpKind.ContainersWrite)),
            (3, Make(LifecycleOpKind.DeleteClaim)),
            (2, Make(LifecycleOpKind.ReaperTick)),
            (4, Make(LifecycleOpKind.ScrubFault)),
            (4, Make(LifecycleOpKind.RetryTick)),
            (4, Make(LifecycleOpKind.Crash)),
            (2, Make(LifecycleOpKind.Restart)),
            (1, Make(LifecycleOpKind.CorruptCheckpoint)),
            (1, Make(LifecycleOpKind.WipeCheckpoint)),
            (2, Make(LifecycleOpKind.Health)),
            (2, Make(LifecycleOpKind.MigToggle)));

    public static readonly Gen<LifecycleOp[]> Sequence = Gen.Array[1, 30];

    private static Gen<LifecycleOp> Make(LifecycleOpKind kind) =>
        CsCheck.Gen.Select(CsCheck.Gen.Int[0, 7], CsCheck.Gen.Int[0, 2], CsCheck.Gen.Int[0, Devices - 1], CsCheck.Gen.Int[0, Devices - 1],
            (a, b, x, y) => new LifecycleOp(kind, a, b, x, y));
}
