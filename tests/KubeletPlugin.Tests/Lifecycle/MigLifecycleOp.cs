using CsCheck;

namespace SecureDra.KubeletPlugin.Tests.Lifecycle;

public enum MigLifecycleOpKind
{
    /// <summary>Allocate a new claim on the X-th device of gpu-0 (an instance while partitioned, the whole GPU otherwise) if the scheduler can, then Prepare it.</summary>
    Prepare,

    /// <summary>The kubelet unprepares the A-th claim it has (its container has stopped).</summary>
    Unprepare,

    /// <summary>Every running container writes its tenant's canary over all of its device's memory.</summary>
    ContainersWrite,

    /// <summary>A=0: a stuck cell in the first memory slice of the X-th device fails every scrub covering it; A=1: the cell recovers; A=2: the next whole-GPU scrub does not verify.</summary>
    ScrubFault,

    /// <summary>One pass of the scrub retry loop over every GPU and placement without a verified scrub.</summary>
    RetryTick,

    /// <summary>The process dies at crash point A during the next Prepare (A &lt; 3) or Unprepare, then restarts from disk.</summary>
    Crash,

    /// <summary>A clean restart.</summary>
    Restart,

    /// <summary>Maintenance on a node without GPU pods: MIG mode on gpu-0 toggles (instances destroyed, or the standard layout created), then the plugin restarts.</summary>
    MigToggle,
}

/// <summary>One step of a generated MIG device-life sequence.</summary>
public readonly record struct MigLifecycleOp(MigLifecycleOpKind Kind, int A, int X)
{
    public override string ToString() => $"{Kind}({A},{X})";

    public static readonly Gen<MigLifecycleOp> Gen =
        CsCheck.Gen.Frequency(
            (10, Make(MigLifecycleOpKind.Prepare)),
            (8, Make(MigLifecycleOpKind.Unprepare)),
            (4, Make(MigLifecycleOpKind.ContainersWrite)),
            (4, Make(MigLifecycleOpKind.ScrubFault)),
            (4, Make(MigLifecycleOpKind.RetryTick)),
            (3, Make(MigLifecycleOpKind.Crash)),
            (2, Make(MigLifecycleOpKind.Restart)),
            (2, Make(MigLifecycleOpKind.MigToggle)));

    public static readonly Gen<MigLifecycleOp[]> Sequence = Gen.Array[1, 25];

    private static Gen<MigLifecycleOp> Make(MigLifecycleOpKind kind) =>
        CsCheck.Gen.Select(CsCheck.Gen.Int[0, 6], CsCheck.Gen.Int[0, 3], (a, x) => new MigLifecycleOp(kind, a, x));
}
