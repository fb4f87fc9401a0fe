using System.Globalization;
using Experiments.Runtime.Snapshots;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Experiments.Runtime.Configuration;

// Reading experiments.yaml and applying --set overrides, every error pointing at its file, line and column.
public sealed partial record ExperimentsConfig
{
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
