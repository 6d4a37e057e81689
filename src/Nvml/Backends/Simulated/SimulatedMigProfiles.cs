using SecureDra.Nvml.Backends.Mig;

namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>
/// GPU-instance profiles of the simulated models: NVML's profile IDs (1g=19, 1g+me=20, 1g double memory=15, 2g=14,
/// 3g=9, 4g=5, 7g=0), names and nominal sizes from NVIDIA's MIG user guide and the reference table in
/// shared/reference/proxy-and-mig.md section B; engine counts of the A100s as go-nvml's A100 mock gives them, of the
/// H100 as the MIG user guide lists them (to confirm on hardware). Placements: 1g at slices 0…6 (size 1), 1g double
/// memory at 0,2,4,6 (size 2), 2g at 0,2,4 (size 2), 3g at 0,4 (size 4), 4g at 0 (size 4), 7g at 0 (size 8).
/// </summary>
public static class SimulatedMigProfiles
{
    public const int Profile1g = 19;
    public const int Profile1gMe = 20;
    public const int Profile1gDouble = 15;
    public const int Profile2g = 14;
    public const int Profile3g = 9;
    public const int Profile4g = 5;
    public const int Profile7g = 0;

    /// <summary>The only compute-instance profile the simulation offers: the one spanning its whole GPU instance.</summary>
    public const int FullComputeInstanceProfileId = 0;

    public static IReadOnlyList<MigProfile> For(SimulatedMigModel model) => model switch
    {
        SimulatedMigModel.A100_40GB => A100(gb: 5, oneG: 4864, twoSlice: 9856, fourSlice: 19968, all: 40192),
        SimulatedMigModel.A100_80GB => A100(gb: 10, oneG: 9856, twoSlice: 19968, fourSlice: 40192, all: 80384),
        _ => H100,
    };

    public static MigProfile? Find(SimulatedMigModel model, int profileId) => For(model).FirstOrDefault(p => p.Id == profileId);

    private static readonly IReadOnlyList<MigProfile> H100 =
    [
        new(Profile1g, "1g.10gb", 10240, 1, 1, 7, new(16, 1, 1, 0, 1, 0), Starts(1, 0, 1, 2, 3, 4, 5, 6)),
        new(Profile1gMe, "1g.10gb+me", 10240, 1, 1, 1, new(16, 1, 1, 0, 1, 1), Starts(1, 0, 1, 2, 3, 4, 5, 6)),
        new(Profile1gDouble, "1g.20gb", 20480, 1, 2, 4, new(26, 1, 1, 0, 1, 0), Starts(2, 0, 2, 4, 6)),
        new(Profile2g, "2g.20gb", 20480, 2, 2, 3, new(32, 2, 2, 0, 2, 0), Starts(2, 0, 2, 4)),
        new(Profile3g, "3g.40gb", 40960, 3, 4, 2, new(60, 3, 3, 0, 3, 0), Starts(4, 0, 4)),
        new(Profile4g, "4g.40gb", 40960, 4, 4, 1, new(64, 4, 4, 0, 4, 0), Starts(4, 0)),
        new(Profile7g, "7g.80gb", 81920, 7, 8, 1, new(132, 8, 7, 0, 7, 1), Starts(8, 0)),
    ];

    private static MigProfile[] A100(int gb, long oneG, long twoSlice, long fourSlice, long all) =>
    [
        new(Profile1g, $"1g.{gb}gb", oneG, 1, 1, 7, new(14, 1, 0, 0, 0, 0), Starts(1, 0, 1, 2, 3, 4, 5, 6)),
        new(Profile1gMe, $"1g.{gb}gb+me", oneG, 1, 1, 1, new(14, 1, 1, 0, 1, 1), Starts(1, 0, 1, 2, 3, 4, 5, 6)),
        new(Profile1gDouble, $"1g.{gb * 2}gb", twoSlice, 1, 2, 4, new(14, 1, 1, 0, 0, 0), Starts(2, 0, 2, 4, 6)),
        new(Profile2g, $"2g.{gb * 2}gb", twoSlice, 2, 2, 3, new(28, 2, 1, 0, 0, 0), Starts(2, 0, 2, 4)),
        new(Profile3g, $"3g.{gb * 4}gb", fourSlice, 3, 4, 2, new(42, 3, 2, 0, 0, 0), Starts(4, 0, 4)),
        new(Profile4g, $"4g.{gb * 4}gb", fourSlice, 4, 4, 1, new(56, 4, 2, 0, 0, 0), Starts(4, 0)),
        new(Profile7g, $"7g.{gb * 8}gb", all, 7, 8, 1, new(98, 7, 5, 0, 1, 1), Starts(8, 0)),
    ];

    private static MigPlacement[] Starts(int size, params int[] starts) => [.. starts.Select(s => new MigPlacement(s, size))];
}
