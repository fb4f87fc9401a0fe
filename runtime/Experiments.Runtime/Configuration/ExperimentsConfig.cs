using System.Globalization;
using Experiments.Runtime.IO;
using Experiments.Runtime.Snapshots;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

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

/// <summary>
/// experiments.yaml: profiles, per-experiment overrides, the output folder, and (in a result's config.yaml) the run
/// itself. Parsed with YamlDotNet's representation model so that every error can point at its line and column.
/// </summary>
public sealed record ExperimentsConfig
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

    /// <summary>Reads a configuration file (null: none) and applies --set key=value arguments on top.</summary>
    public static ExperimentsConfig Load(string? path, IReadOnlyList<string> sets)
    {
        YamlMappingNode root = new();
        if (path is not null)
        {
            if (!File.Exists(path))
            {
                throw new ConfigException($"{path}: the configuration file does not exist.");
            }

            try
            {
                var stream = new YamlStream();
                stream.Load(new StringReader(File.ReadAllText(path)));
                if (stream.Documents.Count > 0)
                {
                    root = stream.Documents[0].RootNode as YamlMappingNode
                        ?? throw new ConfigException($"{path}(1,1): the file must be a mapping with keys {string.Join(", ", RootKeys)}.");
                }
            }
            catch (YamlException e)
            {
                throw new ConfigException($"{path}({e.Start.Line},{e.Start.Column}): not valid YAML: {e.Message}");
            }
        }

        var origins = new Dictionary<YamlNode, string>(ReferenceEqualityComparer.Instance);
        foreach (string set in sets)
        {
            ApplySet(root, set, origins);
        }

        return new Reader(path ?? "configuration", origins).Read(root) with { SourcePath = path };
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

    /// <summary>
    /// The resolved configuration of one experiment's run, as stored in its result folder: `run --from` on this text
    /// repeats the run exactly (same experiment, profile sizes, device, threads and overrides).
    /// </summary>
    public static string Resolved(string experiment, ProfileConfig profile, string device, int threads, string output, ExperimentOverrides? overrides, long? seed)
    {
        var profileNode = new YamlMappingNode();
        AddIf(profileNode, "train_examples", profile.TrainExamples);
        AddIf(profileNode, "test_examples", profile.TestExamples);
        AddIf(profileNode, "max_epochs", profile.MaxEpochs);
        if (profile.SettleBatchNorm)
        {
            profileNode.Add("settle_batch_norm", "true");
        }
        var root = new YamlMappingNode
        {
            { "output", output },
            {
                "run", new YamlMappingNode
                {
                    { "experiments", new YamlSequenceNode(new YamlScalarNode(experiment)) },
                    { "profile", profile.Name },
                    { "device", device },
                    { "threads", threads.ToString(CultureInfo.InvariantCulture) },
                }
            },
            { "profiles", new YamlMappingNode { { profile.Name, profileNode } } },
        };
        var experimentNode = new YamlMappingNode();
        AddIf(experimentNode, "epochs", overrides?.Epochs);
        AddIf(experimentNode, "batch_size", overrides?.BatchSize);
        if (overrides?.LearningRate is { } lr)
        {
            experimentNode.Add("learning_rate", lr.ToString("R", CultureInfo.InvariantCulture));
        }

        if ((seed ?? overrides?.Seed) is { } s)
        {
            experimentNode.Add("seed", s.ToString(CultureInfo.InvariantCulture));
        }

        if (overrides?.RecordDivergence == true)
        {
            experimentNode.Add("record_divergence", "true");
        }

        if (overrides?.Tolerances is { Count: > 0 } tolerances)
        {
            var node = new YamlMappingNode();
            foreach ((Metric metric, double value) in tolerances.OrderBy(t => t.Key))
            {
                node.Add(Reader.Snake(metric), value.ToString("R", CultureInfo.InvariantCulture));
            }

            experimentNode.Add("tolerances", node);
        }

        if (experimentNode.Children.Count > 0)
        {
            root.Add("experiments", new YamlMappingNode { { experiment, experimentNode } });
        }

        return "# Resolved configuration of this run. Replay it exactly with: run --from <this file>\n" + YamlText.Emit(root);
    }

    private static void AddIf(YamlMappingNode node, string key, int? value)
    {
        if (value is { } v)
        {
            node.Add(key, v.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static Dictionary<string, ProfileConfig> BuiltInProfiles() => Configuration.Profile.BuiltIn.ToDictionary(
        p => p.Name, p => new ProfileConfig(p.Name, p.TrainLimit, p.TestLimit, p.MaxEpochs, null, null, p.SettleBatchNorm), StringComparer.Ordinal);

    private static void ApplySet(YamlMappingNode root, string set, Dictionary<YamlNode, string> origins)
    {
        int equals = set.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            throw new ConfigException($"--set '{set}': use key=value with a dotted key, e.g. --set profiles.smoke.max_epochs=2 or --set experiments.mnist-mlp-50-sgd.learning_rate=0.05.");
        }

        string[] path = set[..equals].Split('.');
        if (path.Any(p => p.Length == 0))
        {
            throw new ConfigException($"--set '{set}': the key has an empty part.");
        }

        YamlMappingNode node = root;
        foreach (string part in path[..^1])
        {
            var key = new YamlScalarNode(part);
            if (!node.Children.TryGetValue(key, out YamlNode? child))
            {
                child = new YamlMappingNode();
                origins[child] = $"--set '{set}'";
                node.Children[key] = child;
            }

            node = child as YamlMappingNode ?? throw new ConfigException($"--set '{set}': '{part}' holds a value, not a mapping.");
        }

        var value = new YamlScalarNode(set[(equals + 1)..]);
        origins[value] = $"--set '{set}'";
        node.Children[new YamlScalarNode(path[^1])] = value;
    }

    /// <summary>Walks the YAML tree; every error names where the offending node came from.</summary>
    private sealed class Reader(string path, Dictionary<YamlNode, string> origins)
    {
        public ExperimentsConfig Read(YamlMappingNode root)
        {
            CheckKeys(root, RootKeys, "the top level");
            var profiles = BuiltInProfiles();
            if (Child(root, "profiles") is { } profilesNode)
            {
                foreach ((string name, YamlNode node) in Entries(Mapping(profilesNode, "profiles")))
                {
                    YamlMappingNode map = Mapping(node, $"profile '{name}'");
                    CheckKeys(map, ProfileKeys, $"profile '{name}'");
                    profiles.TryGetValue(name, out ProfileConfig? builtIn);
                    profiles[name] = new ProfileConfig(
                        name,
                        PositiveInt(map, "train_examples") ?? builtIn?.TrainExamples,
                        PositiveInt(map, "test_examples") ?? builtIn?.TestExamples,
                        PositiveInt(map, "max_epochs") ?? builtIn?.MaxEpochs,
                        Device(map, "device") ?? builtIn?.Device,
                        PositiveInt(map, "threads") ?? builtIn?.Threads,
                        Bool(map, "settle_batch_norm") ?? builtIn?.SettleBatchNorm ?? false)
                    {
                        Seeds = PositiveInt(map, "seeds") ?? builtIn?.Seeds,
                    };
                }
            }

            var experiments = new Dictionary<string, ExperimentOverrides>(StringComparer.Ordinal);
            if (Child(root, "experiments") is { } experimentsNode)
            {
                foreach ((string name, YamlNode node) in Entries(Mapping(experimentsNode, "experiments")))
                {
                    YamlMappingNode map = Mapping(node, $"experiment '{name}'");
                    CheckKeys(map, ExperimentKeys, $"experiment '{name}'");
                    double? learningRate = Double(map, "learning_rate");
                    if (learningRate is <= 0)
                    {
                        throw Error(Child(map, "learning_rate")!, $"learning_rate {learningRate.Value.ToString(CultureInfo.InvariantCulture)} must be greater than 0");
                    }

                    experiments[name] = new ExperimentOverrides(
                        PositiveInt(map, "epochs"), PositiveInt(map, "batch_size"), learningRate, Long(map, "seed"), Tolerances(map), Bool(map, "record_divergence") ?? false,
                        ExperimentProfiles(map, name, profiles));
                }
            }

            RunSection? run = null;
            if (Child(root, "run") is { } runNode)
            {
                YamlMappingNode map = Mapping(runNode, "run");
                CheckKeys(map, RunKeys, "run");
                IReadOnlyList<string> names = Child(map, "experiments") is YamlSequenceNode sequence
                    ? sequence.Children.Select(c => Scalar(c, "run.experiments")).ToList()
                    : Child(map, "experiments") is { } single ? [Scalar(single, "run.experiments")] : [];
                run = new RunSection(names, Child(map, "profile") is { } p ? Scalar(p, "profile") : null, Device(map, "device"), PositiveInt(map, "threads"));
            }

            return new ExperimentsConfig
            {
                Output = Child(root, "output") is { } output ? Scalar(output, "output") : null,
                Profiles = profiles,
                Experiments = experiments,
                Run = run,
            };
        }

        /// <summary>experiments.NAME.profiles.PROFILE: sizes for this experiment under a profile that exists.</summary>
        private Dictionary<string, ProfileConfig>? ExperimentProfiles(YamlMappingNode map, string experiment, Dictionary<string, ProfileConfig> profiles)
        {
            if (Child(map, "profiles") is not { } node)
            {
                return null;
            }

            var result = new Dictionary<string, ProfileConfig>(StringComparer.Ordinal);
            foreach ((string name, YamlNode entry) in Entries(Mapping(node, $"experiment '{experiment}' profiles")))
            {
                if (!profiles.ContainsKey(name))
                {
                    throw Error(entry, $"experiment '{experiment}' sets profile '{name}', which does not exist; known profiles: {string.Join(", ", profiles.Keys)}");
                }

                YamlMappingNode sizes = Mapping(entry, $"experiment '{experiment}' profile '{name}'");
                CheckKeys(sizes, ExperimentProfileKeys, $"experiment '{experiment}' profile '{name}'");
                result[name] = new ProfileConfig(name, PositiveInt(sizes, "train_examples"), PositiveInt(sizes, "test_examples"), PositiveInt(sizes, "max_epochs"), null, null);
            }

            return result;
        }

        private Dictionary<Metric, double> Tolerances(YamlMappingNode map)
        {
            var tolerances = new Dictionary<Metric, double>();
            if (Child(map, "tolerances") is not { } node)
            {
                return tolerances;
            }

            Dictionary<string, Metric> metrics = Enum.GetValues<Metric>().ToDictionary(Snake, m => m, StringComparer.Ordinal);
            foreach ((string name, YamlNode value) in Entries(Mapping(node, "tolerances")))
            {
                if (!metrics.TryGetValue(name, out Metric metric))
                {
                    throw Error(value, $"unknown metric '{name}' in tolerances; known: {string.Join(", ", metrics.Keys)}");
                }

                double tolerance = ParseDouble(value, name);
                tolerances[metric] = tolerance >= 0 ? tolerance : throw Error(value, $"tolerance {name} must be 0 or more");
            }

            return tolerances;
        }

        public static string Snake(Metric metric) => string.Concat(metric.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

        private void CheckKeys(YamlMappingNode map, string[] known, string where)
        {
            foreach (YamlNode keyNode in map.Children.Keys)
            {
                string key = Scalar(keyNode, "key");
                if (!known.Contains(key, StringComparer.Ordinal))
                {
                    throw Error(keyNode, $"unknown key '{key}' in {where}; known keys: {string.Join(", ", known)}");
                }
            }
        }

        private IEnumerable<(string Key, YamlNode Value)> Entries(YamlMappingNode map) =>
            map.Children.Select(pair => (Scalar(pair.Key, "key"), pair.Value));

        private static YamlNode? Child(YamlMappingNode map, string key) => map.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? node) ? node : null;

        private YamlMappingNode Mapping(YamlNode node, string what) => node as YamlMappingNode ?? throw Error(node, $"{what} must be a mapping (key: value lines)");

        private string Scalar(YamlNode node, string what) => node is YamlScalarNode { Value: { } value } ? value : throw Error(node, $"{what} must be a single value");

        private int? PositiveInt(YamlMappingNode map, string key)
        {
            if (Child(map, key) is not { } node)
            {
                return null;
            }

            string text = Scalar(node, key);
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= 1
                ? value
                : throw Error(node, $"{key} is '{text}': use a whole number of at least 1");
        }

        private long? Long(YamlMappingNode map, string key)
        {
            if (Child(map, key) is not { } node)
            {
                return null;
            }

            string text = Scalar(node, key);
            return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) ? value : throw Error(node, $"{key} is '{text}': use a whole number");
        }

        private bool? Bool(YamlMappingNode map, string key)
        {
            if (Child(map, key) is not { } node)
            {
                return null;
            }

            string text = Scalar(node, key);
            return text switch
            {
                "true" => true,
                "false" => false,
                _ => throw Error(node, $"{key} is '{text}': use true or false"),
            };
        }

        private double? Double(YamlMappingNode map, string key) => Child(map, key) is { } node ? ParseDouble(node, key) : null;

        private double ParseDouble(YamlNode node, string key)
        {
            string text = Scalar(node, key);
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value)
                ? value
                : throw Error(node, $"{key} is '{text}': use a number such as 0.01");
        }

        private string? Device(YamlMappingNode map, string key)
        {
            if (Child(map, key) is not { } node)
            {
                return null;
            }

            string text = Scalar(node, key);
            return Native.DeviceRequest.TryParse(text, out _) ? text : throw Error(node, $"{key} is '{text}': use {Native.DeviceRequest.Forms}");
        }

        private ConfigException Error(YamlNode node, string problem) => new(
            origins.TryGetValue(node, out string? origin)
                ? $"{origin}: {problem}."
                : $"{path}({node.Start.Line},{node.Start.Column}): {problem}.");
    }
}
