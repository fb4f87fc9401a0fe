using Experiments.Runtime.Training;
using System.Globalization;

namespace Experiments.Runtime.Snapshots;

/// <summary>How a run was compared with its approved snapshot.</summary>
public enum ComparisonMode
{
    /// <summary>The environment matched: every number had to be identical.</summary>
    Exact,

    /// <summary>The environment differed (another CPU model, backend, library or thread count): tolerances applied.</summary>
    Tolerance,

    /// <summary>A multi-seed snapshot under a different environment: the seeds compared as distributions.</summary>
    Distribution,

    /// <summary>
    /// Everything the same but the CPU model, both runs under the portable kernel set: identical where the bits travel,
    /// else within <see cref="CrossCpu"/>'s last-place margins.
    /// </summary>
    PortableElsewhere,
}

/// <summary>
/// What the portable kernel set may move between two CPU models, sized from a measurement: 15 of 19 smoke runs were
/// bit-identical on a second CPU model, the other 4 (convolution models: oneDNN's SSE4.1 kernels) had equal test
/// accuracies, losses apart in the 7th significant digit and one training example in another cell. These margins are
/// some ten times that and far below any real change.
/// </summary>
public static class CrossCpu
{
    /// <summary>A loss may differ by this much relative to its value: 64 units in the last place of a float32.</summary>
    public const double LossRelative = 64.0 / (1 << 23);

    /// <summary>An accuracy may differ by this much, and this share of examples may change confusion cell.</summary>
    public const double ExampleShare = 0.0025;

    public static string Describe() => FormattableString.Invariant(
        $"losses within {LossRelative:0.#e0} relative (64 float32 units in the last place), accuracies and confusion cells within {ExampleShare * 100:0.##}% of examples");
}

/// <summary>The outcome of comparing a received snapshot with the approved one.</summary>
/// <param name="Differences">Every difference found; in tolerance mode only those beyond tolerance.</param>
/// <param name="ModeReason">Why this mode was used: the environment fields that differ, if any.</param>
public sealed record SnapshotComparison(ComparisonMode Mode, string ModeReason, IReadOnlyList<Difference> Differences)
{
    public bool Matches => Differences.Count == 0;

    /// <summary>Whether <paramref name="field"/> (e.g. <c>final.test_accuracy</c>) is among the differences.</summary>
    public bool Differs(string field) => Differences.Any(d => d.Field == field);

    /// <summary>The differences as the readable lines every view prints.</summary>
    public IReadOnlyList<string> Lines => Differences.Select(d => d.Message).ToList();

    /// <summary>A multi-seed comparison's per-metric checks (distribution mode only; empty otherwise).</summary>
    public IReadOnlyList<DistributionCheck> Checks { get; init; } = [];

    /// <summary>One line for test output: which mode was used and why.</summary>
    public string Describe() => Mode switch
    {
        ComparisonMode.Exact => "compared exactly: the environment matches the approved snapshot",
        ComparisonMode.Distribution => $"compared as distributions over seeds: {ModeReason}",
        ComparisonMode.PortableElsewhere => $"compared under the portable kernel set on another CPU model ({ModeReason}): {CrossCpu.Describe()}",
        _ => $"compared under tolerances: {ModeReason}",
    };

    /// <param name="mode">Forces a mode; by default it is exact when the environments match and tolerance otherwise.</param>
    public static SnapshotComparison Compare(SnapshotDocument approved, SnapshotDocument received, Tolerances tolerances, ComparisonMode? mode = null)
    {
        var differences = new List<Difference>();
        RunDifferences(differences, approved.Experiment, received.Experiment, SnapshotDocument.RunKeys.Concat(SnapshotDocument.OptionalRunKeys), approved.Run, received.Run);

        string[] changedKeys = SnapshotDocument.BitKeys.Where(k => approved.Environment[k] != received.Environment[k]).ToArray();
        string[] environmentChanges = changedKeys.Select(k => $"{k} '{approved.Environment[k]}' -> '{received.Environment[k]}'").ToArray();
        ComparisonMode chosen = mode ?? (changedKeys.Length == 0 ? ComparisonMode.Exact
            : changedKeys is ["device_name"] && PortableOnAnotherCpu(approved.Environment, received.Environment) ? ComparisonMode.PortableElsewhere
            : ComparisonMode.Tolerance);
        KernelEnvelope? envelope = approved.Kernels;
        var check = new Checker(chosen, tolerances, differences, envelope);

        if (approved.Diverged != received.Diverged)
        {
            differences.Add(new Difference(DifferenceKind.Shape, "diverged", approved.Diverged ?? "no", received.Diverged ?? "no",
                $"diverged: approved {approved.Diverged ?? "no"}, received {received.Diverged ?? "no"}"));
        }

        if (approved.EarlyStopping != received.EarlyStopping)
        {
            differences.Add(new Difference(DifferenceKind.Shape, "early_stopping", approved.EarlyStopping ?? "(none)", received.EarlyStopping ?? "(none)",
                $"early_stopping: approved {approved.EarlyStopping ?? "(none)"}, received {received.EarlyStopping ?? "(none)"}"));
        }

        ParameterDifference(differences, approved.Parameters, received.Parameters);

        check.Value("final.test_accuracy", Metric.TestAccuracy, approved.TestAccuracy, received.TestAccuracy, envelope?.Range(Metric.TestAccuracy, approved.TestAccuracy));
        check.Value("final.test_loss", Metric.TestLoss, approved.TestLoss, received.TestLoss, envelope?.Range(Metric.TestLoss, approved.TestLoss));
        check.Value("final.train_accuracy", Metric.TrainAccuracy, approved.TrainAccuracy, received.TrainAccuracy, envelope?.Range(Metric.TrainAccuracy, approved.TrainAccuracy));
        check.Value("final.train_loss", Metric.TrainLoss, approved.TrainLoss, received.TrainLoss, envelope?.Range(Metric.TrainLoss, approved.TrainLoss));

        if (approved.History.Count != received.History.Count)
        {
            differences.Add(new Difference(DifferenceKind.Shape, "history", Invariant(approved.History.Count), Invariant(received.History.Count),
                $"history: approved {approved.History.Count} epochs, received {received.History.Count}"));
        }
        else
        {
            foreach ((SnapshotEpoch a, SnapshotEpoch r) in approved.History.Zip(received.History))
            {
                string at = $"history epoch {a.Epoch}";
                check.Value($"{at} loss", Metric.EpochLoss, a.Loss, r.Loss, envelope?.Range(a.Epoch, Metric.EpochLoss, a.Loss));
                check.Value($"{at} accuracy", Metric.EpochAccuracy, a.Accuracy, r.Accuracy, envelope?.Range(a.Epoch, Metric.EpochAccuracy, a.Accuracy));
                check.Optional($"{at} val_loss", Metric.ValidationLoss, a.ValidationLoss, r.ValidationLoss, a.Epoch);
                check.Optional($"{at} val_accuracy", Metric.ValidationAccuracy, a.ValidationAccuracy, r.ValidationAccuracy, a.Epoch);
                if (a.LearningRate != r.LearningRate)
                {
                    // The rate is the schedule's or the plateau's decision, not a measurement: it must be equal everywhere.
                    string approvedRate = a.LearningRate is { } x ? SnapshotDocument.Number(x) : "(none)";
                    string receivedRate = r.LearningRate is { } y ? SnapshotDocument.Number(y) : "(none)";
                    differences.Add(new Difference(DifferenceKind.Shape, $"{at} learning_rate", approvedRate, receivedRate, $"{at} learning_rate: approved {approvedRate}, received {receivedRate}"));
                }
            }
        }

        check.Confusion("confusion_test", approved.TestConfusion, received.TestConfusion, envelope?.CellsMoved(test: true) ?? 0);
        check.Confusion("confusion_train", approved.TrainConfusion, received.TrainConfusion, envelope?.CellsMoved(test: false) ?? 0);
        string reason = mode is not null && environmentChanges.Length == 0 ? "requested" : string.Join("; ", environmentChanges);
        if (chosen == ComparisonMode.Tolerance && envelope is not null)
        {
            reason += $"; within the kernel envelope of {envelope.Runs.Count} CPU kernel sets widened by the tolerances";
            if (differences.Count > 0 && envelope.Closest(received) is { } closest)
            {
                differences.Add(new Difference(DifferenceKind.Note, "kernels", closest.Set, "", string.Create(CultureInfo.InvariantCulture,
                    $"closest approved kernel set: {closest.Set} (summed distance of the final metrics {closest.Distance:0.######}); a CPU whose kernels none of the sets match may need a wider tolerance")));
            }
        }

        return new SnapshotComparison(chosen, reason, differences);
    }

    /// <summary>
    /// What was run must always be the same: another experiment, a different fingerprint or setting is a different
    /// experiment, whatever the environment (shared by single- and multi-seed comparisons).
    /// </summary>
    internal static void RunDifferences(
        List<Difference> differences, string approvedExperiment, string receivedExperiment, IEnumerable<string> keys,
        IReadOnlyDictionary<string, string> approved, IReadOnlyDictionary<string, string> received)
    {
        if (approvedExperiment != receivedExperiment)
        {
            differences.Add(new Difference(DifferenceKind.Identity, "experiment", approvedExperiment, receivedExperiment,
                $"experiment: approved '{approvedExperiment}', received '{receivedExperiment}'"));
        }

        foreach (string key in keys.Where(k => approved.GetValueOrDefault(k) != received.GetValueOrDefault(k)))
        {
            string a = approved.GetValueOrDefault(key) ?? "(none)", r = received.GetValueOrDefault(key) ?? "(none)";
            differences.Add(new Difference(DifferenceKind.Run, "run." + key, a, r,
                $"run.{key}: approved '{a}', received '{r}'" + (key == "fingerprint" ? " (the declaration changed: review the result and approve it)" : "")));
        }
    }

    internal static void ParameterDifference(List<Difference> differences, long approved, long received)
    {
        if (approved != received)
        {
            differences.Add(new Difference(DifferenceKind.Identity, "parameters", Invariant(approved), Invariant(received), $"parameters: approved {approved}, received {received}"));
        }
    }

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Two CPU runs' device names (all else being equal): both pinned the portable kernel set, on different CPU models.</summary>
    private static bool PortableOnAnotherCpu(IReadOnlyDictionary<string, string> approved, IReadOnlyDictionary<string, string> received)
    {
        string a = approved["device_name"], r = received["device_name"];
        return approved["device"] == "cpu"
            && Native.KernelSet.PinnedIn(a)?.Name == Native.KernelSet.PortableName
            && Native.KernelSet.PinnedIn(r)?.Name == Native.KernelSet.PortableName
            && Native.KernelSet.CpuModelOf(a) != Native.KernelSet.CpuModelOf(r);
    }

    private sealed class Checker(ComparisonMode mode, Tolerances tolerances, List<Difference> differences, KernelEnvelope? envelope)
    {
        /// <param name="range">The kernel envelope's lowest and highest value (approved included); null: the approved value alone.</param>
        public void Value(string what, Metric metric, double approved, double received, (double Low, double High)? range = null)
        {
            // Exact means the same bits: NaN equals NaN, 0.0 and -0.0 differ.
            bool same = BitConverter.DoubleToInt64Bits(approved) == BitConverter.DoubleToInt64Bits(received);
            if (same)
            {
                return;
            }

            double delta = received - approved;
            void Add(double allowed, FormattableString message) => differences.Add(
                new Difference(DifferenceKind.Metric, what, Invariant($"{approved:R}"), Invariant($"{received:R}"), Invariant(message)) { Metric = metric, Allowed = allowed });
            if (mode == ComparisonMode.Exact)
            {
                Add(0, $"{what}: approved {approved:R}, received {received:R} (delta {delta:+0.######;-0.######;0}), exact match required");
            }
            else if (mode == ComparisonMode.PortableElsewhere)
            {
                bool isLoss = metric is Metric.TestLoss or Metric.TrainLoss or Metric.EpochLoss or Metric.ValidationLoss;
                double limit = isLoss ? CrossCpu.LossRelative * Math.Abs(approved) : CrossCpu.ExampleShare;
                // A relative 1e-12 of slack: one example's share, 1/N, is itself a rounded double.
                if (!(Math.Abs(delta) <= limit * (1 + 1e-12)))
                {
                    Add(limit, $"{what}: approved {approved:R}, received {received:R} (delta {delta:+0.#########;-0.#########}), portable kernels on another CPU allow {limit:0.###e0}");
                }
            }
            else
            {
                (double low, double high) = range ?? (approved, approved);
                double tolerance = tolerances[metric];
                if (!(received >= low - tolerance && received <= high + tolerance))
                {
                    string envelopeText = range is null ? "" : Invariant($", kernel envelope [{low:R}, {high:R}]");
                    Add(tolerance, $"{what}: approved {approved:R}, received {received:R} (delta {delta:+0.######;-0.######}){envelopeText}, tolerance {metric} {tolerance:R}");
                }
            }
        }

        public void Optional(string what, Metric metric, double? approved, double? received, int epoch)
        {
            if (approved is { } a && received is { } r)
            {
                Value(what, metric, a, r, envelope?.Range(epoch, metric, a));
            }
            else if (approved.HasValue != received.HasValue)
            {
                string before = approved.HasValue ? "a value" : "none", after = received.HasValue ? "a value" : "none";
                differences.Add(new Difference(DifferenceKind.Shape, what, before, after, $"{what}: approved {before}, received {after}") { Metric = metric });
            }
        }

        /// <param name="envelope">The largest share of examples that changed cell under the approval's kernel sets.</param>
        public void Confusion(string what, ConfusionMatrix approved, ConfusionMatrix received, double envelope)
        {
            if (!approved.ClassNames.SequenceEqual(received.ClassNames))
            {
                string a = string.Join(", ", approved.ClassNames), r = string.Join(", ", received.ClassNames);
                differences.Add(new Difference(DifferenceKind.Shape, what, a, r, $"{what}: class names differ ({a} vs {r})"));
                return;
            }

            IReadOnlyList<MovedCell> cells = approved.MovedCells(received);
            if (cells.Count == 0)
            {
                return;
            }

            // Integers: exact under a matching environment; otherwise the share of examples that changed cell.
            double fraction = approved.ShareMoved(received);
            double allowed = mode == ComparisonMode.PortableElsewhere ? CrossCpu.ExampleShare : envelope + tolerances[Metric.Confusion];
            if (mode == ComparisonMode.Exact || fraction > allowed)
            {
                string limit = mode == ComparisonMode.Exact ? "exact match required"
                    : mode == ComparisonMode.PortableElsewhere ? Invariant($"portable kernels on another CPU allow {CrossCpu.ExampleShare * 100:0.##}%")
                    : Invariant($"tolerance Confusion {tolerances[Metric.Confusion]:R}") + (envelope > 0 ? Invariant($" on top of the kernel envelope's {envelope * 100:0.##}%") : "");
                string moved = string.Join(", ", cells.Take(12).Select(c => Invariant($"({c.True} as {c.Predicted}) {c.Approved} -> {c.Received}")));
                differences.Add(new Difference(DifferenceKind.Confusion, what, "0%", Invariant($"{fraction * 100:0.##}%"), Invariant($"{what}: {fraction * 100:0.##}% of examples changed cell, {limit}: {moved}{(cells.Count > 12 ? ", ..." : "")}"))
                {
                    Metric = Metric.Confusion,
                    Allowed = mode == ComparisonMode.Exact ? 0 : allowed,
                });
            }
        }

        private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
    }
}
