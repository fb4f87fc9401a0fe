using System.Globalization;
using Experiments.Runtime.IO;
using Experiments.Runtime.Results;
using Experiments.Runtime.Training;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Experiments.Runtime.Snapshots;

public sealed partial record SnapshotDocument
{
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
            EarlyStopping = root.Children.ContainsKey(new YamlScalarNode("early_stopping")) ? reader.Text(root, "early_stopping") : null,
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
            List<(string[] Cells, int Offset)> rows = Rows(Text(map, "history")).ToList();
            bool rates = rows.Count > 0 && rows[0].Cells.Length == 6 && rows[0].Cells[5] == "learning_rate";
            int columns = rates ? 6 : 5;
            foreach ((string[] cells, int offset) in rows.Skip(1))
            {
                if (cells.Length != columns)
                {
                    throw new SnapshotFormatException(path, line + offset, $"a history row needs {columns} columns: epoch, loss, accuracy, val_loss, val_accuracy{(rates ? ", learning_rate" : "")}");
                }

                epochs.Add(new SnapshotEpoch(
                    int.Parse(cells[0], CultureInfo.InvariantCulture),
                    ParseDouble(cells[1], line + offset, "loss"),
                    ParseDouble(cells[2], line + offset, "accuracy"),
                    cells[3] == "-" ? null : ParseDouble(cells[3], line + offset, "val_loss"),
                    cells[4] == "-" ? null : ParseDouble(cells[4], line + offset, "val_accuracy"))
                {
                    LearningRate = rates && cells[5] != "-" ? ParseDouble(cells[5], line + offset, "learning_rate") : null,
                });
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
