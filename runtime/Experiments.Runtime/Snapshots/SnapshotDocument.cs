using System.Globalization;
using System.Text;
using Experiments.Runtime.IO;
using Experiments.Runtime.Results;
using Experiments.Runtime.Training;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Experiments.Runtime.Snapshots;

/// <summary>One row of a snapshot's history table.</summary>
public sealed record SnapshotEpoch(int Epoch, double Loss, double Accuracy, double? ValidationLoss, double? ValidationAccuracy);

/// <summary>
/// An approved (or received) result as a reviewer reads it in a pull request: a YAML document with a provenance header,
/// the final metrics, the per-epoch history and the confusion matrices as aligned text tables with class names.
/// Numbers are written in round-trip form, so parsing the text gives back the exact doubles.
/// </summary>
public sealed record SnapshotDocument
{
    /// <summary>Keys of <see cref="Run"/>: what was run. A difference here means the experiment itself changed.</summary>
    public static readonly IReadOnlyList<string> RunKeys =
        ["fingerprint", "dataset", "seed", "profile", "settings", "epochs", "train_examples", "validation_examples", "test_examples", "initialisers"];

    /// <summary>
    /// Keys of <see cref="Environment"/> that decide a result's bits. When they all match the approved snapshot the
    /// comparison is exact; otherwise it is made under the experiment's tolerances.
    /// </summary>
    public static readonly IReadOnlyList<string> BitKeys =
        ["backend", "device", "device_name", "threads", "torchsharp", "libtorch", "os", "deterministic", "tf32"];

    /// <summary>
    /// Keys of <see cref="Run"/> written only when they apply: batch_norm, how BatchNormalization statistics were
    /// obtained for evaluation when they are not Keras' running averages (smoke runs of models that have the layer).
    /// </summary>
    public static readonly IReadOnlyList<string> OptionalRunKeys = ["batch_norm"];

    /// <summary>Recorded for the reader; does not change any result (managed code does no floating-point training work).</summary>
    public static readonly IReadOnlyList<string> InformationKeys = ["dotnet"];

    /// <summary>
    /// Recorded for the reader when known, not compared: allocator, what LibTorch's CPU allocator fills new blocks with.
    /// A sound run never reads memory it did not write, so the fill cannot change its bits; a kernel that does read
    /// such memory gives the zero-filled run's bits with any finite garbage and NaN otherwise, and a NaN run fails
    /// every comparison anyway. Snapshots approved before it was recorded lack it.
    /// </summary>
    public static readonly IReadOnlyList<string> OptionalInformationKeys = ["allocator"];

    /// <summary>The environment keys a snapshot writes and reads, in order: those that decide the bits, then the rest.</summary>
    public static IReadOnlyList<string> EnvironmentKeys(Func<string, bool> present) =>
        [.. BitKeys, .. InformationKeys, .. OptionalInformationKeys.Where(present)];

    public required string Experiment { get; init; }

    public required IReadOnlyDictionary<string, string> Run { get; init; }

    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    public required long Parameters { get; init; }

    /// <summary>"epoch E, batch B" when the run diverged and recorded it as its result; null otherwise (and then not written).</summary>
    public string? Diverged { get; init; }

    public required double TrainAccuracy { get; init; }

    public required double TrainLoss { get; init; }

    public required double TestAccuracy { get; init; }

    public required double TestLoss { get; init; }

    public required IReadOnlyList<SnapshotEpoch> History { get; init; }

    public required ConfusionMatrix TrainConfusion { get; init; }

    public required ConfusionMatrix TestConfusion { get; init; }

    /// <summary>
    /// The declaration's layer summary, for the reader and for `review`'s before/after diff; not compared (the
    /// fingerprint in <see cref="Run"/> stands for the declaration). Null in snapshots approved before it was written.
    /// </summary>
    public string? Summary { get; init; }

    /// <summary>The spread approval measured under other CPU kernel sets; null when it measured none (then not written).</summary>
    public KernelEnvelope? Kernels { get; init; }

    public string Profile => Run["profile"];

    public static SnapshotDocument From(ExperimentResult result)
    {
        RunIdentity id = result.Identity;
        return new SnapshotDocument
        {
            Experiment = id.Experiment,
            Run = new Dictionary<string, string>
            {
                ["fingerprint"] = id.Fingerprint,
                ["dataset"] = id.Dataset,
                ["seed"] = Invariant(id.Seed),
                ["profile"] = id.Profile,
                ["settings"] = id.Settings,
                ["epochs"] = Invariant(id.Epochs),
                ["train_examples"] = Invariant(id.TrainExamples),
                ["validation_examples"] = Invariant(id.ValidationExamples),
                ["test_examples"] = Invariant(id.TestExamples),
                ["initialisers"] = id.Initialisers,
            }.Concat(id.BatchNorm is { } batchNorm ? [new KeyValuePair<string, string>("batch_norm", batchNorm)] : []).ToDictionary(),
            Environment = new Dictionary<string, string>
            {
                ["backend"] = id.Backend,
                ["device"] = id.Device,
                ["device_name"] = id.DeviceName,
                ["threads"] = Invariant(id.Threads),
                ["torchsharp"] = id.TorchSharp,
                ["libtorch"] = id.LibTorch,
                ["os"] = id.Os,
                ["deterministic"] = id.Deterministic ? "true" : "false",
                ["tf32"] = id.Tf32 ? "true" : "false",
                ["dotnet"] = id.DotNet,
                ["allocator"] = id.Allocator,
            },
            Parameters = result.Parameters,
            Diverged = result.Diverged is { } d ? $"epoch {d.Epoch}, batch {d.Batch}" : null,
            TrainAccuracy = result.Train.Accuracy,
            TrainLoss = result.Train.Loss,
            TestAccuracy = result.Test.Accuracy,
            TestLoss = result.Test.Loss,
            History = result.History.Select(e => new SnapshotEpoch(e.Epoch, e.Loss, e.Accuracy, e.ValidationLoss, e.ValidationAccuracy)).ToList(),
            TrainConfusion = result.TrainConfusion,
            TestConfusion = result.TestConfusion,
            Summary = id.Summary is { } summary ? summary.TrimEnd('\n') + "\n" : null,
        };
    }

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

    /// <summary>Reads a snapshot file's text; errors name the file, line and field.</summary>
    public static SnapshotDocument Parse(string text, string path)
    {
        YamlMappingNode root = Root(text, path, "experiment, run, environment, ...");

        var reader = new Reader(path);
        YamlMappingNode final = reader.Map(root, "final");
        YamlMappingNode run = reader.Map(root, "run");
        YamlMappingNode environment = reader.Map(root, "environment");
        YamlMappingNode? kernels = root.Children.ContainsKey(new YamlScalarNode("kernels")) ? reader.Map(root, "kernels") : null;
        return new SnapshotDocument
        {
            Experiment = reader.Text(root, "experiment"),
            Run = reader.Strings(run, [.. RunKeys, .. OptionalRunKeys.Where(k => run.Children.ContainsKey(new YamlScalarNode(k)))]),
            Environment = reader.Strings(environment, EnvironmentKeys(k => environment.Children.ContainsKey(new YamlScalarNode(k)))),
            Parameters = long.Parse(reader.Text(root, "parameters"), CultureInfo.InvariantCulture),
            Diverged = root.Children.ContainsKey(new YamlScalarNode("diverged")) ? reader.Text(root, "diverged") : null,
            TestAccuracy = reader.Double(final, "test_accuracy"),
            TestLoss = reader.Double(final, "test_loss"),
            TrainAccuracy = reader.Double(final, "train_accuracy"),
            TrainLoss = reader.Double(final, "train_loss"),
            History = reader.History(root),
            TestConfusion = reader.Confusion(root, "confusion_test"),
            TrainConfusion = reader.Confusion(root, "confusion_train"),
            Summary = root.Children.ContainsKey(new YamlScalarNode("summary")) ? reader.Text(root, "summary") : null,
            Kernels = kernels is null
                ? null
                : KernelEnvelope.Parse(
                    reader.Text(kernels, "final"),
                    reader.Text(kernels, "history"),
                    problem => new SnapshotFormatException(path, (int)kernels.Start.Line, problem)),
        };
    }

    /// <summary>A snapshot file's one YAML mapping; a YAML error or another shape is a <see cref="SnapshotFormatException"/> naming the line.</summary>
    internal static YamlMappingNode Root(string text, string path, string fields)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream.Documents.Count == 1 && stream.Documents[0].RootNode is YamlMappingNode mapping
                ? mapping
                : throw new SnapshotFormatException(path, 1, $"expected one YAML mapping ({fields})");
        }
        catch (YamlException e)
        {
            throw new SnapshotFormatException(path, (int)e.Start.Line, e.Message);
        }
    }

    private string HistoryTable()
    {
        string[] header = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"];
        IEnumerable<string[]> rows = History.Select(e => new[]
        {
            Invariant(e.Epoch), Number(e.Loss), Number(e.Accuracy),
            e.ValidationLoss is { } vl ? Number(vl) : "-", e.ValidationAccuracy is { } va ? Number(va) : "-",
        });
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

    /// <summary>Reads fields with errors that say which file, line and field is wrong.</summary>
    internal sealed class Reader(string path)
    {
        public YamlNode Node(YamlMappingNode map, string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? node)
                ? node
                : throw new SnapshotFormatException(path, (int)map.Start.Line, $"missing field '{key}'");

        public YamlMappingNode Map(YamlMappingNode map, string key) => Node(map, key) as YamlMappingNode
            ?? throw new SnapshotFormatException(path, (int)Node(map, key).Start.Line, $"'{key}' must be a mapping");

        public string Text(YamlMappingNode map, string key) => Node(map, key) is YamlScalarNode { Value: { } value }
            ? value
            : throw new SnapshotFormatException(path, (int)Node(map, key).Start.Line, $"'{key}' must be a single value");

        public double Double(YamlMappingNode map, string key) => ParseDouble(Text(map, key), (int)Node(map, key).Start.Line, key);

        public IReadOnlyDictionary<string, string> Strings(YamlMappingNode map, IReadOnlyList<string> keys) =>
            keys.ToDictionary(k => k, k => Text(map, k));

        public IReadOnlyList<SnapshotEpoch> History(YamlMappingNode map)
        {
            int line = (int)Node(map, "history").Start.Line;
            var epochs = new List<SnapshotEpoch>();
            foreach ((string[] cells, int offset) in Rows(Text(map, "history")).Skip(1))
            {
                if (cells.Length != 5)
                {
                    throw new SnapshotFormatException(path, line + offset, "a history row needs 5 columns: epoch, loss, accuracy, val_loss, val_accuracy");
                }

                epochs.Add(new SnapshotEpoch(
                    int.Parse(cells[0], CultureInfo.InvariantCulture),
                    ParseDouble(cells[1], line + offset, "loss"),
                    ParseDouble(cells[2], line + offset, "accuracy"),
                    cells[3] == "-" ? null : ParseDouble(cells[3], line + offset, "val_loss"),
                    cells[4] == "-" ? null : ParseDouble(cells[4], line + offset, "val_accuracy")));
            }

            return epochs;
        }

        public ConfusionMatrix Confusion(YamlMappingNode map, string key)
        {
            int line = (int)Node(map, key).Start.Line;
            string[] lines = Text(map, key).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            int classes = lines.Length - 1;
            var names = new List<string>();
            var counts = new int[classes][];
            for (int r = 0; r < classes; r++)
            {
                // Class names may hold spaces ("Ankle boot"): the last 'classes' cells are the counts, the rest is the name.
                string[] cells = lines[r + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (cells.Length <= classes || !cells[^classes..].All(c => int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
                {
                    throw new SnapshotFormatException(path, line + r + 2, $"'{key}' row {r + 1} needs a class name and {classes} counts");
                }

                names.Add(string.Join(' ', cells[..^classes]));
                counts[r] = cells[^classes..].Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            }

            return new ConfusionMatrix(names, counts);
        }

        private static IEnumerable<(string[] Cells, int Offset)> Rows(string table) =>
            table.Split('\n').Select((l, i) => (l.Split(' ', StringSplitOptions.RemoveEmptyEntries), i + 1)).Where(r => r.Item1.Length > 0);

        private double ParseDouble(string text, int line, string field) =>
            double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
                ? value
                : throw new SnapshotFormatException(path, line, $"'{field}' is '{text}', not a number");
    }
}

/// <summary>A snapshot file could not be read; the message names the file and line.</summary>
public sealed class SnapshotFormatException(string path, int line, string problem)
    : Exception($"{path}({line}): {problem}. Snapshot files are written by approval; delete a damaged one and approve the run again.")
{
    public string FilePath { get; } = path;

    public int Line { get; } = line;
}
