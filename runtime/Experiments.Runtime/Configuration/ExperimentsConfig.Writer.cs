using System.Globalization;
using Experiments.Runtime.IO;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

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
}
