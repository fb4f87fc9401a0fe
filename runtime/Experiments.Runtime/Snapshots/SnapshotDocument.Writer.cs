using System.Globalization;
using System.Text;
using Experiments.Runtime.IO;
using Experiments.Runtime.Training;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Experiments.Runtime.Snapshots;

public sealed partial record SnapshotDocument
{
    /// <summary>The document's text. Equal documents give equal text, byte for byte.</summary>
    public string Render()
    {
        var root = new YamlMappingNode
        {
            { "experiment", Experiment },
            { "run", Mapping(Run, [.. RunKeys, .. OptionalRunKeys.Where(Run.ContainsKey)]) },
            { "environment", Mapping(Environment, EnvironmentKeys(Environment.ContainsKey)) },
            { "parameters", Invariant(Parameters) },
        };
        if (Diverged is not null)
        {
            root.Add("diverged", Diverged);
        }

        if (EarlyStopping is not null)
        {
            root.Add("early_stopping", EarlyStopping);
        }

        foreach ((string key, YamlNode value) in new (string, YamlNode)[]
        {
            (
                "final", new YamlMappingNode
                {
                    { "test_accuracy", Number(TestAccuracy) },
                    { "test_loss", Number(TestLoss) },
                    { "train_accuracy", Number(TrainAccuracy) },
                    { "train_loss", Number(TrainLoss) },
                }),
            ("history", Literal(HistoryTable())),
            ("confusion_test", Literal(ConfusionTable(TestConfusion))),
            ("confusion_train", Literal(ConfusionTable(TrainConfusion))),
        }.Concat(Summary is null ? [] : [("summary", (YamlNode)Literal(Summary))]).Concat(Kernels is null ? [] : [("kernels", new YamlMappingNode
        {
            { "final", Literal(Kernels.FinalTable()) },
            { "history", Literal(Kernels.HistoryTable()) },
        })]))
        {
            root.Add(key, value);
        }

        var text = new StringBuilder();
        text.Append("# Snapshot of experiment '").Append(Experiment).Append("', profile ").Append(Profile).Append('\n');
        text.Append("# run: what was run (a change here means the experiment changed); environment: where it ran.\n");
        text.Append("# Compared exactly when the environment matches (dotnet and allocator aside); on another CPU model under the\n");
        text.Append("#   portable kernel set within last-place margins; else under the experiment's tolerances.\n");
        text.Append("# confusion tables: rows are true classes, columns predicted classes.\n");
        if (Kernels is not null)
        {
            text.Append("# kernels: this run repeated by approval under other CPU kernel sets; on another machine a value passes\n");
            text.Append("#   within the range of the approved run and these, widened by the tolerance.\n");
        }

        text.Append(YamlText.Emit(root));

        return text.ToString();
    }

    private string HistoryTable()
    {
        // The learning_rate column exists only where a schedule or plateau moves the rate, so that other snapshots read as before.
        bool rates = History.Any(e => e.LearningRate is not null);
        string[] header = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", .. rates ? new[] { "learning_rate" } : []];
        IEnumerable<string[]> rows = History.Select(e => (string[])
        [
            Invariant(e.Epoch), Number(e.Loss), Number(e.Accuracy),
            e.ValidationLoss is { } vl ? Number(vl) : "-", e.ValidationAccuracy is { } va ? Number(va) : "-",
            .. rates ? new[] { e.LearningRate is { } lr ? Number(lr) : "-" } : [],
        ]);
        return TextTable.Render([header, .. rows], leftAligned: 0);
    }

    private static string ConfusionTable(ConfusionMatrix matrix)
    {
        string[] header = ["true \\ predicted", .. matrix.ClassNames];
        IEnumerable<string[]> rows = matrix.ClassNames.Select((name, i) =>
            new[] { name }.Concat(matrix.Rows[i].Select(c => Invariant(c))).ToArray());
        return TextTable.Render([header, .. rows], leftAligned: 1);
    }

    private static YamlMappingNode Mapping(IReadOnlyDictionary<string, string> values, IReadOnlyList<string> keys)
    {
        var node = new YamlMappingNode();
        foreach (string key in keys)
        {
            node.Add(key, new YamlScalarNode(values[key]));
        }

        return node;
    }

    private static YamlScalarNode Literal(string text) => new(text) { Style = ScalarStyle.Literal };

    /// <summary>Shortest text that parses back to the same double ("R" semantics).</summary>
    internal static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
