using System.Globalization;
using CsCheck;
using SecureDra.KubeletPlugin.Proxy;
using SecureDra.KubeletPlugin.Tests.Lifecycle;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.LocalCluster.Kubelet;
using Xunit.Abstractions;

namespace SecureDra.KubeletPlugin.Tests.Proxy;

public enum ProxyOpKind
{
    /// <summary>Tenant T prepares: a new claim on GPU G when it has none, else the kubelet's retry/repeat of its claim.</summary>
    Prepare,

    /// <summary>Tenant T's container stopped: the kubelet unprepares its claim (and retries a failed Unprepare later).</summary>
    Unprepare,

    /// <summary>The proxy dies (kill -9: files as at that instant) at crash point P of the next Prepare or Unprepare, then restarts.</summary>
    ProxyCrash,

    /// <summary>The vendor's pod is re-created (its sockets too); it keeps its view of the allocations.</summary>
    VendorRestart,

    /// <summary>The vendor crashes in the middle of tenant T's Unprepare, then comes back.</summary>
    VendorCrashInUnprepare,

    /// <summary>Every scrub from now on fails verification (F=1) or verifies again (F=0).</summary>
    ScrubFault,

    /// <summary>Scrubs verify again and the proxy's retry loop is given time: every GPU no tenant holds is offered again.</summary>
    VerifiedRetry,
}

/// <summary>One step of a generated proxy sequence; T (tenant 0/1), G (GPU 0/1), P (crash point index), F (fault on/off).</summary>
public readonly record struct ProxyOp(ProxyOpKind Kind, int T, int G, int P, int F)
{
    public override string ToString() => $"{Kind}(t{T},g{G},p{P},f{F})";

    public static readonly Gen<ProxyOp> Gen =
        CsCheck.Gen.Frequency(
            (10, Make(ProxyOpKind.Prepare)),
            (8, Make(ProxyOpKind.Unprepare)),
            (4, Make(ProxyOpKind.ProxyCrash)),
            (2, Make(ProxyOpKind.VendorRestart)),
            (1, Make(ProxyOpKind.VendorCrashInUnprepare)),
            (5, Make(ProxyOpKind.ScrubFault)),
            (2, Make(ProxyOpKind.VerifiedRetry)));

    public static readonly Gen<ProxyOp[]> Sequence = Gen.Array[6, 20];

    private static Gen<ProxyOp> Make(ProxyOpKind kind) =>
        CsCheck.Gen.Select(CsCheck.Gen.Int[0, 1], CsCheck.Gen.Int[0, 1], CsCheck.Gen.Int[0, ProxyCrashPoints.All.Count - 1], CsCheck.Gen.Int[0, 1],
            (t, g, p, f) => new ProxyOp(kind, t, g, p, f));
}

/// <summary>
/// The lifecycle model (docs/isolation.md) extended to the driver proxy (issue 12): generated sequences of kubelet calls
/// for two tenants sharing two GPUs, proxy kill -9 at every <see cref="ProxyCrashPoints"/> point, vendor re-creation and a
/// vendor crash in the middle of Unprepare, failing scrubs and verified retries, run against the real
/// <see cref="ProxyHarness"/> (real proxy host, real Unix sockets, the emulated kubelet, the non-scrubbing fake vendor).
/// After every step: (1) a tenant never finds another tenant's canary on a GPU it was just given, nor while it holds
/// it; (2) no GPU is held by two prepared claims at once; (3) every GPU the proxy offers holds no canary.
/// CI runs <see cref="CiSequences"/> fixed-seed sequences; SECUREDRA_LIFECYCLE_SOAK=&lt;count&gt; samples random ones
/// with CsCheck and shrinks a failure.
/// The model was shown to fail: with ProxyClaimPipeline's Unprepare temporarily broken to release a Prepared claim's
/// GPUs without the scrub (journal entry removed, DeviceInventory.Release, no DeviceScrub), the fixed seeds fail at
/// sequence 1, step 11 with invariant (3) ("gpu-0 is offered (Clean) while canary 0xA0 remains on it"); with check (3)
/// also disabled, invariant (1) fails ("tenant 0 was given gpu-1 holding canary 0xA1 of another tenant"); the regression
/// test below fails on it too. The product and the check were restored afterwards.
/// </summary>
public class ProxyLifecycleModelTests(ITestOutputHelper output)
{
    /// <summary>Sequences in the CI run (each starts a proxy, a vendor and a kubelet); SECUREDRA_LIFECYCLE_SEQUENCES overrides.</summary>
    private const int CiSequences = 40;

    [Fact]
    public async Task Fixed_seed_proxy_sequences_keep_every_isolation_invariant()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("SECUREDRA_LIFECYCLE_SEQUENCES"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? Math.Min(n, CiSequences * 10) : CiSequences;
        var steps = 0;
        var stats = new ProxyModelStats();
        for (var i = 0; i < count; i++)
        {
            var ops = ProxyOp.Sequence.Generate(new PCG(12, (ulong)i), null, out _);
            steps += ops.Length;
            await RunOneAsync(ops, $"sequence {i}", stats);
        }

        output.WriteLine($"{count} sequences, {steps} steps: every invariant held; {stats}");

        // The seeds must reach what the model is about, or a green run proves nothing.
        Assert.True(stats.Prepared >= 10 && stats.Released >= 5 && stats.Crashes >= 3 && stats.VendorRestarts >= 1 && stats.Withdrawn >= 3 && stats.RefusedWhileHeld >= 3, stats.ToString());
    }

    [Fact]
    [Trait("Category", "Soak")]
    public async Task Soak_random_proxy_sequences_and_shrink_any_failure()
    {
        if (!long.TryParse(Environment.GetEnvironmentVariable("SECUREDRA_LIFECYCLE_SOAK"), NumberStyles.None, CultureInfo.InvariantCulture, out var iterations))
        {
            return;
        }

        await ProxyOp.Sequence.SampleAsync(
            ops => RunOneAsync(ops, "sample"),
            writeLine: output.WriteLine,
            iter: iterations,
            threads: 1,
            print: ops => string.Join(" ", ops.Select(o => o.ToString())));
    }

    internal static async Task RunOneAsync(IReadOnlyList<ProxyOp> ops, string name, ProxyModelStats? stats = null)
    {
        await using var model = await ProxyLifecycleModel.StartAsync(stats ?? new ProxyModelStats());
        var step = 0;
        try
        {
            foreach (var op in ops)
            {
                await model.StepAsync(op);
                model.CheckInvariants(op);
                step++;
            }
        }
        catch (LifecycleViolation ex)
        {
            throw new LifecycleViolation($"{name}, step {step}: {ex.Message}\nsequence: {string.Join(" ", ops)}");
        }
    }
}

/// <summary>Sequences the soak shrank, kept as plain tests.</summary>
public class ProxyLifecycleRegressionTests
{
    private static ProxyOp Op(ProxyOpKind kind, int t = 0, int g = 0, int p = 0, int f = 0) => new(kind, t, g, p, f);

    /// <summary>
    /// A model bug the soak found (CsCheck seed a1WMtY9DfiS5), not a product one: the proxy died after its release was
    /// durable, so the kubelet saw Unprepare fail, yet the GPU was scrubbed and rightly given to the next tenant. The
    /// model now treats a tenant as off its GPU once Unprepare was called (the kubelet calls it after the container
    /// stopped) and retries the Unprepare; invariant (1) still requires the next tenant to find no bytes.
    /// </summary>
    [Fact]
    public Task A_crash_after_the_durable_release_fails_unprepare_but_the_scrubbed_gpu_goes_to_the_next_tenant() =>
        ProxyLifecycleModelTests.RunOneAsync(
            [Op(ProxyOpKind.ProxyCrash, p: 5), Op(ProxyOpKind.Prepare, t: 0, g: 1), Op(ProxyOpKind.Unprepare, t: 0), Op(ProxyOpKind.Prepare, t: 1, g: 1),
             Op(ProxyOpKind.Prepare, t: 0, g: 1), Op(ProxyOpKind.VerifiedRetry), Op(ProxyOpKind.Unprepare, t: 1), Op(ProxyOpKind.Prepare, t: 0, g: 1)],
            "crash after the durable release");
}

/// <summary>What the sequences reached (printed, and asserted so the fixed seeds keep covering it).</summary>
public sealed class ProxyModelStats
{
    public int Prepared { get; set; }
    public int Released { get; set; }
    public int Crashes { get; set; }
    public int VendorRestarts { get; set; }

    /// <summary>Releases after which the GPU was not offered (a failed scrub or a vendor that did not let go).</summary>
    public int Withdrawn { get; set; }

    /// <summary>Prepares refused because the GPU was another claim's or not yet scrubbed.</summary>
    public int RefusedWhileHeld { get; set; }

    public override string ToString() =>
        $"prepared {Prepared}, released {Released}, proxy crashes {Crashes}, vendor restarts {VendorRestarts}, releases left withdrawn {Withdrawn}, prepares refused {RefusedWhileHeld}";
}

/// <summary>The model's view of one tenant: its claim, whether the kubelet got a successful Prepare, whether it wrote.</summary>
internal sealed class ProxyTenant(int index)
{
    public int Index { get; } = index;
    public byte Canary => (byte)(0xA0 + Index);
    public int? Claim { get; set; }
    public int Gpu { get; set; }

    /// <summary>The kubelet got a successful Prepare and the tenant's container runs on the GPU (writes its canary).</summary>
    public bool Holds { get; set; }

    /// <summary>The container stopped and the kubelet called Unprepare, which has not succeeded yet (it retries).</summary>
    public bool Unpreparing { get; set; }
}

/// <summary>Drives one <see cref="ProxyHarness"/> through <see cref="ProxyOp"/> steps and checks the isolation invariants.</summary>
internal sealed class ProxyLifecycleModel : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly ProxyHarness _h;
    private readonly ProxyTenant[] _tenants = [new(0), new(1)];
    private RegisteredDraPlugin _kubelet;
    private int _nextClaim = 1;

    private readonly ProxyModelStats _stats;

    private ProxyLifecycleModel(ProxyHarness h, RegisteredDraPlugin kubelet, ProxyModelStats stats)
    {
        _h = h;
        _kubelet = kubelet;
        _stats = stats;
    }

    public static async Task<ProxyLifecycleModel> StartAsync(ProxyModelStats stats)
    {
        var h = await ProxyHarness.StartAsync(gpus: 2, proxy: p => p with { VendorCallTimeout = TimeSpan.FromSeconds(2) });
        return new ProxyLifecycleModel(h, await h.RegisteredAsync(), stats);
    }

    private static string Gpu(int g) => "gpu-" + g.ToString(CultureInfo.InvariantCulture);

    public async Task StepAsync(ProxyOp op)
    {
        var tenant = _tenants[op.T];
        switch (op.Kind)
        {
            case ProxyOpKind.Prepare:
                await PrepareAsync(tenant, op.G);
                break;
            case ProxyOpKind.Unprepare:
                await UnprepareAsync(tenant);
                break;
            case ProxyOpKind.ProxyCrash:
                if (!_h.Crashed)
                {
                    _h.CrashAt(ProxyCrashPoints.All[op.P]);
                }

                break;
            case ProxyOpKind.VendorRestart:
                await RestartVendorAsync();
                break;
            case ProxyOpKind.VendorCrashInUnprepare:
                if (tenant.Claim is not null)
                {
                    _h.Vendor!.Script = VendorScript.CrashInUnprepare;
                    await UnprepareAsync(tenant);
                    await RestartVendorAsync();
                }

                break;
            case ProxyOpKind.ScrubFault:
                _h.Scrubber.Default = op.F == 1 ? ScrubBehavior.NotVerified : ScrubBehavior.Verify;
                break;
            case ProxyOpKind.VerifiedRetry:
                _h.Scrubber.Default = ScrubBehavior.Verify;
                await AfterCrashAsync();
                await Poll.UntilAsync(
                    () => Enumerable.Range(0, 2).Where(g => !_tenants.Any(t => t.Claim is not null && t.Gpu == g)).All(g => _h.Inventory.Get(Gpu(g))!.IsOffered),
                    "every GPU no claim holds is offered again after a verified retry",
                    Deadline);
                break;
        }

        await AfterCrashAsync();
    }

    private async Task PrepareAsync(ProxyTenant tenant, int gpu)
    {
        if (tenant.Unpreparing)
        {
            await UnprepareAsync(tenant); // the kubelet finishes the teardown it started
            return;
        }

        if (tenant.Claim is null)
        {
            tenant.Claim = _nextClaim++;
            tenant.Gpu = gpu;
            _h.Claim(tenant.Claim.Value, tenant.Gpu);
        }

        var uid = TestClaims.Uid(tenant.Claim.Value);
        string error;
        try
        {
            error = (await _kubelet.PrepareAsync([ProxyHarness.K(tenant.Claim.Value)]))[uid].Error;
        }
        catch (Exception ex) when (ex is global::Grpc.Core.RpcException or ObjectDisposedException)
        {
            error = CallFailed(ex); // the proxy died under the call, or its registration is being replaced
        }

        if (error != "")
        {
            if (_tenants.Any(t => t != tenant && t.Claim is not null && t.Gpu == tenant.Gpu) || !_h.Inventory.Get(Gpu(tenant.Gpu))!.IsOffered)
            {
                _stats.RefusedWhileHeld++;
            }

            return;
        }

        if (tenant.Holds)
        {
            return;
        }

        _stats.Prepared++;

        // Invariant 2: the kubelet was just given this GPU; nobody else may hold it.
        foreach (var other in _tenants.Where(t => t != tenant && t.Holds && t.Gpu == tenant.Gpu))
        {
            throw new LifecycleViolation($"{Gpu(tenant.Gpu)} prepared for tenant {tenant.Index}'s claim while tenant {other.Index}'s claim holds it");
        }

        // Invariant 1: before the new tenant writes, no other tenant's bytes are on the GPU.
        var found = CanariesOn(tenant.Gpu).Where(c => c != tenant.Canary).ToList();
        if (found.Count > 0)
        {
            throw new LifecycleViolation($"tenant {tenant.Index} was given {Gpu(tenant.Gpu)} holding canary 0x{found[0]:X2} of another tenant");
        }

        tenant.Holds = true;
        await WriteCanaryAsync(tenant);
    }

    private async Task UnprepareAsync(ProxyTenant tenant)
    {
        if (tenant.Claim is not { } claim)
        {
            return;
        }

        // The kubelet unprepares only once the container stopped: whatever the answer, the tenant no longer uses the GPU,
        // and a failed Unprepare (a crash after the release was durable, a vendor error) is retried later.
        tenant.Holds = false;
        tenant.Unpreparing = true;
        string error;
        try
        {
            error = (await _kubelet.UnprepareAsync([ProxyHarness.K(claim)]))[TestClaims.Uid(claim)];
        }
        catch (Exception ex) when (ex is global::Grpc.Core.RpcException or ObjectDisposedException)
        {
            error = CallFailed(ex);
        }
        finally
        {
            _h.Vendor!.Script = VendorScript.Honest;
        }

        if (error == "")
        {
            // The kubelet forgets the claim; its tenant's bytes may stay only on a GPU the proxy does not offer.
            tenant.Claim = null;
            tenant.Unpreparing = false;
            _stats.Released++;
            if (_h.Inventory.Get(Gpu(tenant.Gpu)) is { IsOffered: false })
            {
                _stats.Withdrawn++;
            }
        }
    }

    /// <summary>
    /// A kubelet call that failed in transport. ObjectDisposedException: the emulator replaced the registration the model
    /// held (on a loaded machine it can process the crashed proxy's socket going away after the new one appeared; the
    /// soak met it at 1 000 samples, seed 7AQQ6YBEXYTd). The kubelet sees a failed call and retries on the current
    /// registration, so the model does the same; the invariants are checked as after any failed call.
    /// </summary>
    private string CallFailed(Exception ex)
    {
        if (_h.Kubelet.Plugins.Values.FirstOrDefault(p => !ReferenceEquals(p, _kubelet)) is { } current)
        {
            _kubelet = current;
        }

        return ex is global::Grpc.Core.RpcException rpc ? rpc.Status.Detail : "the kubelet's registration of the proxy was replaced: " + ex.Message;
    }

    private async Task RestartVendorAsync()
    {
        _stats.VendorRestarts++;
        var allocations = _h.Vendor!.Allocations.ToDictionary();
        await _h.Vendor.DisposeAsync();
        await _h.StartVendorAsync(v =>
        {
            foreach (var (k, a) in allocations)
            {
                v.Allocations[k] = a;
            }
        });
        await Poll.UntilAsync(() => _h.Vendor!.Notifications.Any(n => n.Registered), "the re-created vendor is registered with the proxy", Deadline);
        await Poll.UntilAsync(() => _h.Kubelet.Plugins.Count == 1 && File.Exists(_h.VisibleRegistration), "the proxy is registered with the kubelet", Deadline);
        _kubelet = await _h.RegisteredAsync();
    }

    /// <summary>A proxy that died at its armed point is restarted over its files as they were at that instant.</summary>
    private async Task AfterCrashAsync()
    {
        if (!_h.Crashed)
        {
            return;
        }

        _stats.Crashes++;
        var stale = _kubelet;
        await _h.RestartAfterCrashAsync();
        await Poll.UntilAsync(
            () => _h.Kubelet.Plugins.Count == 1 && !ReferenceEquals(_h.Kubelet.Plugins.Values.Single(), stale) && File.Exists(_h.VisibleRegistration),
            "the restarted proxy re-registered",
            Deadline);
        _kubelet = await _h.RegisteredAsync();
    }

    private async Task WriteCanaryAsync(ProxyTenant tenant)
    {
        var bytes = new byte[FakeGpuBackend.VramBytes];
        Array.Fill(bytes, tenant.Canary);
        await _h.Backend.WriteVramAsync(Gpu(tenant.Gpu), bytes, CancellationToken.None);
    }

    private HashSet<byte> CanariesOn(int gpu)
    {
        var path = _h.Backend.VramPath(Gpu(gpu));
        var found = new HashSet<byte>();
        if (File.Exists(path))
        {
            foreach (var b in File.ReadAllBytes(path))
            {
                if (_tenants.Any(t => t.Canary == b))
                {
                    found.Add(b);
                }
            }
        }

        return found;
    }

    public void CheckInvariants(ProxyOp op)
    {
        for (var g = 0; g < 2; g++)
        {
            var holders = _tenants.Where(t => t.Holds && t.Gpu == g).ToList();
            if (holders.Count > 1)
            {
                throw new LifecycleViolation($"after {op}: {Gpu(g)} is prepared for two claims at once");
            }

            // The state is read before the bytes: the proxy's scrub retry runs in the background and only ever zeroes a GPU
            // before offering it, so "offered" seen first means the bytes read after must be zero; read the other way round,
            // a retry finishing between the two reads would pair the old bytes with the new state.
            var snapshot = _h.Inventory.Get(Gpu(g))!;

            // Invariant 1 while held: only the holder's own bytes are on its GPU.
            var canaries = CanariesOn(g);
            if (holders.Count == 1 && canaries.Any(c => c != holders[0].Canary))
            {
                throw new LifecycleViolation($"after {op}: tenant {holders[0].Index} holds {Gpu(g)} and sees another tenant's canary on it");
            }

            // Invariant 3: what the proxy offers to the next claim has been scrubbed.
            if (snapshot.IsOffered && canaries.Count > 0)
            {
                throw new LifecycleViolation($"after {op}: {Gpu(g)} is offered ({snapshot.State}) while canary 0x{canaries.First():X2} remains on it");
            }
        }
    }

    public async ValueTask DisposeAsync() => await _h.DisposeAsync();
}
