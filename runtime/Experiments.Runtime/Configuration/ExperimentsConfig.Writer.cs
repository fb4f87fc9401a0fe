using Experiments.Runtime.IO;

namespace Experiments.Runtime.Configuration;

// Writing the resolved configuration of one run (a result's config.yaml, which `run --from` replays).
public sealed partial record ExperimentsConfig
{
    /// <summary>
    /// The resolved configuration of one experiment's run, as stored in its result folder: `run --from` on this text
    /// repeats the run exactly (same experiment, profile sizes, device, threads and overrides).
    /// </summary>
    public static string Resolved(string experiment, ProfileConfig profile, string device, int threads, string output, ExperimentOverrides? overrides, long? seed)
    {
        var settings = new ResolvedExperiment(
            overrides?.Epochs,
            overrides?.BatchSize,
            overrides?.LearningRate,
            seed ?? overrides?.Seed,
            overrides?.RecordDivergence == true ? true : null,
            overrides?.Tolerances is { Count: > 0 } tolerances ? tolerances.OrderBy(t => t.Key).ToDictionary(t => Reader.Snake(t.Key), t => t.Value) : null);
        var document = new ResolvedConfiguration(
            output,
            new ResolvedRun([experiment], profile.Name, device, threads),
            new Dictionary<string, ResolvedProfile>
            {
                [profile.Name] = new(profile.TrainExamples, profile.TestExamples, profile.MaxEpochs, profile.SettleBatchNorm ? true : null),
            },
            settings == ResolvedExperiment.None ? null : new Dictionary<string, ResolvedExperiment> { [experiment] = settings });
        return "# Resolved configuration of this run. Replay it exactly with: run --from <this file>\n" + YamlText.Serialize(document);
    }

    // config.yaml's sections as records (YamlDotNet's serializer writes them, snake_case, null members left out); the
    // reader above reads the same keys, with file positions in its errors.
    private sealed record ResolvedConfiguration(
        string Output, ResolvedRun Run, IReadOnlyDictionary<string, ResolvedProfile> Profiles, IReadOnlyDictionary<string, ResolvedExperiment>? Experiments);

    private sealed record ResolvedRun(IReadOnlyList<string> Experiments, string Profile, string Device, int Threads);

    private sealed record ResolvedProfile(int? TrainExamples, int? TestExamples, int? MaxEpochs, bool? SettleBatchNorm);

    private sealed record ResolvedExperiment(int? Epochs, int? BatchSize, double? LearningRate, long? Seed, bool? RecordDivergence, IReadOnlyDictionary<string, double>? Tolerances)
    {
        public static readonly ResolvedExperiment None = new(null, null, null, null, null, null);
    }
}
