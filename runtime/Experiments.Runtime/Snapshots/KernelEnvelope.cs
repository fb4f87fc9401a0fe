using System.Globalization;
using Experiments.Runtime.IO;

namespace Experiments.Runtime.Snapshots;

/// <summary>One kernel set's run of an approved experiment: its final metrics, its history, and how many examples changed confusion cell.</summary>
/// <param name="TestCellsMoved">Share of test examples whose (true, predicted) cell differs from the approved run's.</param>
public sealed record KernelRun(
    string Set, double TestAccuracy, double TestLoss, double TrainAccuracy, double TrainLoss, double TestCellsMoved, double TrainCellsMoved,
    IReadOnlyList<SnapshotEpoch> History);

/// <summary>
/// The spread an approval saw when it ran the experiment under every CPU kernel set the approving machine can run
/// (each forcing ATen, oneMKL or oneDNN onto the kernels another CPU would use). On another machine a snapshot passes
/// when each received value lies within [lowest, highest] of the approved run and these runs, widened by the
/// declared tolerance: the envelope is what rounding alone does to this experiment, the tolerance what is allowed on
/// top for kernels none of these sets match.
/// </summary>
public sealed record KernelEnvelope(IReadOnlyList<KernelRun> Runs)
{
    private static readonly string[] FinalHeader = ["set", "test_accuracy", "test_loss", "train_accuracy", "train_loss", "test_cells_moved", "train_cells_moved"];
    private static readonly string[] HistoryHeader = ["set", "epoch", "loss", "accuracy", "val_loss", "val_accuracy"];

    /// <summary>The envelope of <paramref name="runs"/> (received snapshots, one per kernel set) around <paramref name="approved"/>.</summary>
    public static KernelEnvelope Measure(SnapshotDocument approved, IEnumerable<(string Set, SnapshotDocument Run)> runs) => new(runs
        .Select(r => new KernelRun(
            r.Set, r.Run.TestAccuracy, r.Run.TestLoss, r.Run.TrainAccuracy, r.Run.TrainLoss,
            approved.TestConfusion.ShareMoved(r.Run.TestConfusion), approved.TrainConfusion.ShareMoved(r.Run.TrainConfusion), r.Run.History))
        .ToList());

    /// <summary>The lowest and highest value of a final metric (approved value included).</summary>
    public (double Low, double High) Range(Metric metric, double approved)
    {
        IEnumerable<double> values = Runs.Select(r => metric switch
        {
            Metric.TestAccuracy => r.TestAccuracy,
            Metric.TestLoss => r.TestLoss,
            Metric.TrainAccuracy => r.TrainAccuracy,
            Metric.TrainLoss => r.TrainLoss,
            _ => approved,
        }).Append(approved);
        return (values.Min(), values.Max());
    }

    /// <summary>The lowest and highest value of one history column at one epoch (approved value included).</summary>
    public (double Low, double High) Range(int epoch, Metric metric, double approved)
    {
        IEnumerable<double> values = Runs
            .Select(r => r.History.FirstOrDefault(e => e.Epoch == epoch))
            .Where(e => e is not null)
            .Select(e => metric switch
            {
                Metric.EpochLoss => e!.Loss,
                Metric.EpochAccuracy => e!.Accuracy,
                Metric.ValidationLoss => e!.ValidationLoss ?? approved,
                Metric.ValidationAccuracy => e!.ValidationAccuracy ?? approved,
                _ => approved,
            })
            .Append(approved);
        return (values.Min(), values.Max());
    }

    /// <summary>The largest share of examples that changed cell under any kernel set.</summary>
    public double CellsMoved(bool test) => Runs.Select(r => test ? r.TestCellsMoved : r.TrainCellsMoved).DefaultIfEmpty(0).Max();

    /// <summary>The kernel set whose final metrics are nearest the received ones (accuracy in points, loss as is), with that distance.</summary>
    public (string Set, double Distance)? Closest(SnapshotDocument received) => Runs.Count == 0
        ? null
        : Runs.Select(r => (r.Set, Distance: Math.Abs(r.TestAccuracy - received.TestAccuracy) + Math.Abs(r.TrainAccuracy - received.TrainAccuracy)
                + Math.Abs(r.TestLoss - received.TestLoss) + Math.Abs(r.TrainLoss - received.TrainLoss)))
            .MinBy(r => r.Distance);

    public string FinalTable() => TextTable.Render(
        [FinalHeader, .. Runs.Select(r => new[]
        {
            r.Set, SnapshotDocument.Number(r.TestAccuracy), SnapshotDocument.Number(r.TestLoss), SnapshotDocument.Number(r.TrainAccuracy),
            SnapshotDocument.Number(r.TrainLoss), SnapshotDocument.Number(r.TestCellsMoved), SnapshotDocument.Number(r.TrainCellsMoved),
        })],
        leftAligned: 1);

    public string HistoryTable() => TextTable.Render(
        [HistoryHeader, .. Runs.SelectMany(r => r.History.Select(e => new[]
        {
            r.Set, e.Epoch.ToString(CultureInfo.InvariantCulture), SnapshotDocument.Number(e.Loss), SnapshotDocument.Number(e.Accuracy),
            e.ValidationLoss is { } vl ? SnapshotDocument.Number(vl) : "-", e.ValidationAccuracy is { } va ? SnapshotDocument.Number(va) : "-",
        }))],
        leftAligned: 1);

    /// <summary>Reads the two tables <see cref="FinalTable"/> and <see cref="HistoryTable"/> wrote; <paramref name="fail"/> builds the error for a bad row.</summary>
    public static KernelEnvelope Parse(string final, string history, Func<string, Exception> fail)
    {
        double Number(string text, string field) =>
            double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value : throw fail($"kernels: '{field}' is '{text}', not a number");
        IEnumerable<string[]> Rows(string table, int columns, string what) => table.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(cells => cells.Length == columns ? cells : throw fail($"kernels: a {what} row needs {columns} columns"));

        ILookup<string, SnapshotEpoch> epochs = Rows(history, HistoryHeader.Length, "history").ToLookup(
            c => c[0],
            c => new SnapshotEpoch(
                int.Parse(c[1], CultureInfo.InvariantCulture), Number(c[2], "loss"), Number(c[3], "accuracy"),
                c[4] == "-" ? null : Number(c[4], "val_loss"), c[5] == "-" ? null : Number(c[5], "val_accuracy")),
            StringComparer.Ordinal);
        return new KernelEnvelope(Rows(final, FinalHeader.Length, "final").Select(c => new KernelRun(
            c[0], Number(c[1], "test_accuracy"), Number(c[2], "test_loss"), Number(c[3], "train_accuracy"), Number(c[4], "train_loss"),
            Number(c[5], "test_cells_moved"), Number(c[6], "train_cells_moved"), epochs[c[0]].ToList())).ToList());
    }
}
