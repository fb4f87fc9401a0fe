using Experiments.Runtime.IO;
using Experiments.Runtime.Training;
using System.Globalization;
using System.Text;
using Experiments.Runtime.Snapshots;

namespace Experiments.Runtime.Reports;

/// <summary>One experiment on both sides of a diff (either side may be missing).</summary>
/// <param name="Beyond">Differences that exceed the experiment's declared tolerances.</param>
public sealed record DiffEntry(string Experiment, SnapshotDocument? A, SnapshotDocument? B, IReadOnlyList<Difference> Beyond);

/// <summary>
/// `diff A B`: metric deltas and confusion-matrix changes between two results, result folders or snapshot files, for a
/// terminal (<see cref="Render"/>) or, through <see cref="AsReview"/>, as the same Markdown `review` writes.
/// </summary>
public static class ResultDiff
{
    /// <summary>
    /// The snapshots a path holds: a snapshot file (snapshot.txt, *.verified.txt, *.received.txt), a result folder
    /// (with snapshot.txt), or a folder of either.
    /// </summary>
    public static IReadOnlyDictionary<string, SnapshotDocument> Load(string path)
    {
        var found = new SortedDictionary<string, SnapshotDocument>(StringComparer.Ordinal);
        void Add(string file)
        {
            SnapshotDocument document = SnapshotDocument.Parse(File.ReadAllText(file), file);
            if (!found.TryAdd(document.Experiment, document))
            {
                throw new ArgumentException($"{path} holds two snapshots of '{document.Experiment}'; compare the files one by one.");
            }
        }

        if (File.Exists(path))
        {
            Add(path);
        }
        else if (Directory.Exists(path))
        {
            string own = Path.Combine(path, "snapshot.txt");
            IEnumerable<string> files = File.Exists(own)
                ? [own]
                : Directory.EnumerateFiles(path, "*" + SnapshotVerifier.VerifiedSuffix)
                    .Concat(Directory.EnumerateDirectories(path).Select(d => Path.Combine(d, "snapshot.txt")).Where(File.Exists));
            foreach (string file in files.Order(StringComparer.Ordinal))
            {
                Add(file);
            }

            if (found.Count == 0)
            {
                throw new FileNotFoundException($"{path} holds no results: expected snapshot.txt, result folders or *{SnapshotVerifier.VerifiedSuffix} files.", path);
            }
        }
        else
        {
            throw new FileNotFoundException($"{path} does not exist.", path);
        }

        return found;
    }

    /// <summary>Pairs experiments by name; a single snapshot on each side is paired whatever the names.</summary>
    public static IReadOnlyList<DiffEntry> Compare(
        IReadOnlyDictionary<string, SnapshotDocument> a, IReadOnlyDictionary<string, SnapshotDocument> b, Func<string, Tolerances> tolerances)
    {
        if (a.Count == 1 && b.Count == 1)
        {
            (SnapshotDocument left, SnapshotDocument right) = (a.Values.Single(), b.Values.Single());
            return [Entry(left.Experiment, left, right, tolerances)];
        }

        return a.Keys.Union(b.Keys).Order(StringComparer.Ordinal)
            .Select(name => Entry(name, a.GetValueOrDefault(name), b.GetValueOrDefault(name), tolerances))
            .ToList();
    }

    private static DiffEntry Entry(string name, SnapshotDocument? a, SnapshotDocument? b, Func<string, Tolerances> tolerances)
    {
        if (a is null || b is null)
        {
            string only = a is null ? "only in B" : "only in A";
            return new DiffEntry(name, a, b, [new Difference(DifferenceKind.Identity, "experiment", a is null ? "(none)" : name, b is null ? "(none)" : name, only)]);
        }

        // The exit code follows the declared tolerances whatever the environments, so a reviewer can diff any two runs.
        SnapshotComparison comparison = SnapshotComparison.Compare(a, b, tolerances(name), ComparisonMode.Tolerance);
        return new DiffEntry(name, a, b, comparison.Differences);
    }

    /// <summary>The pairs as a review's items (A before, B after); pairs with the same text count as unchanged.</summary>
    public static ReviewSet AsReview(IReadOnlyList<DiffEntry> entries, string aName, string bName)
    {
        var items = entries
            .Select(e => new ReviewItem(e.Experiment, e.A?.Render(), e.B?.Render()))
            .Where(i => i.Approved != i.Received)
            .ToList();
        return new ReviewSet(items, entries.Count - items.Count, $"differences between A = {aName} and B = {bName}");
    }

    public static string Render(IReadOnlyList<DiffEntry> entries, string aName, string bName)
    {
        var text = new StringBuilder();
        int beyond = entries.Count(e => e.Beyond.Count > 0);
        text.Append(CultureInfo.InvariantCulture, $"{entries.Count} experiment(s), {beyond} beyond tolerance (A = {aName}, B = {bName})\n\n");
        foreach (DiffEntry entry in entries)
        {
            text.Append(CultureInfo.InvariantCulture, $"== {entry.Experiment}: {(entry.Beyond.Count == 0 ? "within tolerance" : "BEYOND TOLERANCE")}\n");
            if (entry.A is not { } a || entry.B is not { } b)
            {
                text.Append(entry.A is null ? "only in B" : "only in A").Append("\n\n");
                continue;
            }

            foreach (string key in SnapshotDocument.RunKeys.Where(k => a.Run[k] != b.Run[k]))
            {
                text.Append(CultureInfo.InvariantCulture, $"  run.{key}: {a.Run[key]} -> {b.Run[key]}\n");
            }

            foreach (string key in SnapshotDocument.BitKeys.Where(k => a.Environment[k] != b.Environment[k]))
            {
                text.Append(CultureInfo.InvariantCulture, $"  environment.{key}: {a.Environment[key]} -> {b.Environment[key]}\n");
            }

            string[][] rows =
            [
                ["metric", "A", "B", "change"],
                Accuracy("test accuracy", a.TestAccuracy, b.TestAccuracy),
                Loss("test loss", a.TestLoss, b.TestLoss),
                Accuracy("train accuracy", a.TrainAccuracy, b.TrainAccuracy),
                Loss("train loss", a.TrainLoss, b.TrainLoss),
                ["epochs", a.History.Count.ToString(CultureInfo.InvariantCulture), b.History.Count.ToString(CultureInfo.InvariantCulture), ""],
                Loss("history: largest loss change", 0, LargestChange(a, b, e => e.Loss)),
                Accuracy("history: largest accuracy change", 0, LargestChange(a, b, e => e.Accuracy)),
            ];
            text.Append(TextTable.Render(rows, leftAligned: 1, indent: "  "));
            AppendConfusion(text, "test", a.TestConfusion, b.TestConfusion);
            AppendConfusion(text, "train", a.TrainConfusion, b.TrainConfusion);

            // The run fields are listed above; list only the metrics beyond tolerance.
            foreach (Difference difference in entry.Beyond.Where(d => d.Kind != DifferenceKind.Run))
            {
                text.Append("  beyond tolerance: ").Append(difference.Message).Append('\n');
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    private static double LargestChange(SnapshotDocument a, SnapshotDocument b, Func<SnapshotEpoch, double> metric) =>
        a.History.Zip(b.History).Select(p => metric(p.Second) - metric(p.First)).DefaultIfEmpty(0).MaxBy(Math.Abs);

    private static string[] Accuracy(string name, double a, double b) =>
        [name, ExperimentReport.Percent(a), ExperimentReport.Percent(b), ((b - a) * 100).ToString("+0.00;-0.00;0", CultureInfo.InvariantCulture) + " points"];

    private static string[] Loss(string name, double a, double b) =>
        [name, a.ToString("F4", CultureInfo.InvariantCulture), b.ToString("F4", CultureInfo.InvariantCulture), (b - a).ToString("+0.0000;-0.0000;0", CultureInfo.InvariantCulture)];

    private static void AppendConfusion(StringBuilder text, string set, ConfusionMatrix a, ConfusionMatrix b)
    {
        if (!a.ClassNames.SequenceEqual(b.ClassNames))
        {
            text.Append(CultureInfo.InvariantCulture, $"  confusion ({set}): different classes\n");
            return;
        }

        IReadOnlyList<MovedCell> changes = a.MovedCells(b);
        string summary = changes.Count == 0
            ? "no cell changed"
            : string.Join(", ", changes.Select(c => (Cell: $"{c.True} as {c.Predicted}", c.Approved, c.Received, c.Change)).OrderByDescending(c => Math.Abs(c.Change)).ThenBy(c => c.Cell, StringComparer.Ordinal).Take(10)
                .Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Cell} {c.Approved} -> {c.Received}"))) + (changes.Count > 10 ? $", and {changes.Count - 10} more" : "");
        text.Append(CultureInfo.InvariantCulture, $"  confusion ({set}): {summary}\n");
    }
}
