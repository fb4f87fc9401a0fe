namespace Experiments.Runtime.Configuration;

/// <summary>A configuration value is wrong; the message names the file, line and column (or the --set argument) and the fix.</summary>
public sealed class ConfigException(string message) : Exception(message);

/// <summary>A profile: how much data, how many epochs, where. Null fields keep the run's default.</summary>
/// <param name="SettleBatchNorm">Re-estimate BatchNormalization statistics before each evaluation (default: true for smoke, false otherwise).</param>
public sealed record ProfileConfig(string Name, int? TrainExamples, int? TestExamples, int? MaxEpochs, string? Device, int? Threads, bool SettleBatchNorm = false)
{
    /// <summary>How many seeds `run` uses under this profile (seeds: N); null leaves it to the experiment.</summary>
    public int? Seeds { get; init; }

    public Profile ToProfile() => new(Name, TrainExamples, TestExamples, MaxEpochs, SettleBatchNorm);
}

/// <summary>Per-experiment overrides of the declaration, of the snapshot tolerances, and of profile sizes.</summary>
/// <param name="Profiles">Per profile: data sizes and epoch cap for this experiment alone (Device and Threads stay the profile's).</param>
public sealed record ExperimentOverrides(
    int? Epochs, int? BatchSize, double? LearningRate, long? Seed, IReadOnlyDictionary<Metric, double> Tolerances, bool RecordDivergence = false,
    IReadOnlyDictionary<string, ProfileConfig>? Profiles = null)
{
    public bool ChangesTraining => Epochs is not null || BatchSize is not null || LearningRate is not null || Seed is not null;
}

/// <summary>What `run --from` replays: the experiments and how they were run.</summary>
public sealed record RunSection(IReadOnlyList<string> Experiments, string? Profile, string? Device, int? Threads);
