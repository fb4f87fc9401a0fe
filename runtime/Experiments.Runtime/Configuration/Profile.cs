namespace Experiments.Runtime.Configuration;

/// <summary>A named way of running the catalog: how much data and how many epochs.</summary>
public sealed record Profile(string Name, int? TrainLimit, int? TestLimit, int? MaxEpochs, bool SettleBatchNorm = false)
{
    /// <summary>The notebook's own settings.</summary>
    public static Profile Full { get; } = new("full", null, null, null);

    /// <summary>Same model and settings on a fixed seeded subset with fewer epochs: catches any change in behaviour quickly.</summary>
    /// <remarks>
    /// BatchNormalization statistics are re-estimated before each evaluation: Keras' running averages have not settled
    /// after a smoke run's few dozen steps, and inference-mode accuracy then swings by points with rounding alone
    /// (docs/reproducibility.md).
    /// </remarks>
    public static Profile Smoke { get; } = new("smoke", 2000, 1000, 1, SettleBatchNorm: true);

    public static IReadOnlyList<Profile> BuiltIn { get; } = [Full, Smoke];
}
