using Experiments.Runtime.IO;
using Experiments.Runtime.Snapshots;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Experiments.Runtime.Configuration;

/// <summary>
/// experiments.yaml: profiles, per-experiment overrides, the output folder, and (in a result's config.yaml) the run
/// itself. Parsed with YamlDotNet's representation model so that every error can point at its line and column.
/// </summary>
public sealed partial record ExperimentsConfig
{
    public const string FileName = "experiments.yaml";

    private static readonly string[] RootKeys = ["output", "profiles", "experiments", "run"];
    private static readonly string[] ProfileKeys = ["train_examples", "test_examples", "max_epochs", "device", "threads", "settle_batch_norm", "seeds"];
    private static readonly string[] ExperimentKeys = ["epochs", "batch_size", "learning_rate", "seed", "tolerances", "record_divergence", "profiles"];
    private static readonly string[] ExperimentProfileKeys = ["train_examples", "test_examples", "max_epochs"];
    private static readonly string[] RunKeys = ["experiments", "profile", "device", "threads"];

    public string? SourcePath { get; init; }

    public string? Output { get; init; }

    public IReadOnlyDictionary<string, ProfileConfig> Profiles { get; init; } = BuiltInProfiles();

    public IReadOnlyDictionary<string, ExperimentOverrides> Experiments { get; init; } = new Dictionary<string, ExperimentOverrides>();

    public RunSection? Run { get; init; }

    public static ExperimentsConfig Empty { get; } = new();

    public ProfileConfig Profile(string name) => Profiles.TryGetValue(name, out ProfileConfig? profile)
        ? profile
        : throw new ConfigException($"Unknown profile '{name}'. Known profiles: {string.Join(", ", Profiles.Keys)}{(SourcePath is null ? "" : $" (from {SourcePath} and the built-in ones)")}.");

    /// <summary>The overrides of experiments.NAME; a sweep point without its own entry takes its sweep's (the name before '@').</summary>
    public ExperimentOverrides? For(string experiment) =>
        Experiments.GetValueOrDefault(experiment) ?? (experiment.IndexOf('@', StringComparison.Ordinal) is > 0 and int at ? Experiments.GetValueOrDefault(experiment[..at]) : null);

    /// <summary>
    /// The profile as it applies to one experiment: its sizes overridden by experiments.NAME.profiles.PROFILE, then the
    /// epoch cap of the command line (`run --epochs`) on top.
    /// </summary>
    public ProfileConfig ProfileFor(string experiment, ProfileConfig profile, int? maxEpochs = null)
    {
        ProfileConfig merged = For(experiment)?.Profiles?.GetValueOrDefault(profile.Name) is { } own
            ? profile with
            {
                TrainExamples = own.TrainExamples ?? profile.TrainExamples,
                TestExamples = own.TestExamples ?? profile.TestExamples,
                MaxEpochs = own.MaxEpochs ?? profile.MaxEpochs,
            }
            : profile;
        return merged with { MaxEpochs = maxEpochs ?? merged.MaxEpochs };
    }

    /// <summary>
    /// How `run` trains an experiment under a profile: data sizes and epoch cap from the profile (as
    /// <see cref="ProfileFor"/> applies it), declared settings replaced by this configuration's overrides (and a
    /// command-line seed). The one resolution `run`, `accept`'s repeat and the snapshot tests share, so that they
    /// train the same bits.
    /// </summary>
    public Training.RunOptions RunOptions(string experiment, ProfileConfig profile, string device, int threads, long? seed = null, int? maxEpochs = null)
    {
        ExperimentOverrides? overrides = For(experiment);
        profile = ProfileFor(experiment, profile, maxEpochs);
        long? experimentSeed = seed ?? overrides?.Seed;
        return new Training.RunOptions
        {
            Device = device,
            Threads = threads,
            Profile = profile.Name,
            TrainLimit = profile.TrainExamples,
            TestLimit = profile.TestExamples,
            MaxEpochs = profile.MaxEpochs,
            SettleBatchNorm = profile.SettleBatchNorm,
            Overrides = overrides is { ChangesTraining: true } || experimentSeed is not null
                ? s => s.With(overrides?.Epochs, overrides?.BatchSize, overrides?.LearningRate, experimentSeed)
                : null,
            RecordDivergence = overrides?.RecordDivergence == true,
        };
    }

    /// <summary>experiments.yaml in the current folder, else beside the experiments project; null when there is none.</summary>
    public static string? Discover(string? projectDirectory)
    {
        string here = Path.GetFullPath(FileName);
        if (File.Exists(here))
        {
            return here;
        }

        return projectDirectory is not null && File.Exists(Path.Combine(projectDirectory, FileName)) ? Path.Combine(projectDirectory, FileName) : null;
    }

    private static Dictionary<string, ProfileConfig> BuiltInProfiles() => Configuration.Profile.BuiltIn.ToDictionary(
        p => p.Name, p => new ProfileConfig(p.Name, p.TrainLimit, p.TestLimit, p.MaxEpochs, null, null, p.SettleBatchNorm), StringComparer.Ordinal);
}
