using System.Globalization;
using System.Text;
using Experiments.Runtime.IO;
using Experiments.Runtime.Results;
using Experiments.Runtime.Snapshots;

namespace Experiments.Runtime.Reports;

/// <summary>One seed's result of a multi-seed run: its seed, folder (seed-k) and snapshot.</summary>
public sealed record SeedRun(long Seed, string Folder, SnapshotDocument Snapshot);

/// <summary>One epoch over the seeds that reached it.</summary>
public sealed record EpochSummary(int Epoch, SeedSummary Loss, SeedSummary Accuracy, SeedSummary? ValidationLoss, SeedSummary? ValidationAccuracy);

/// <summary>
/// An experiment run with several seeds: the statistics of its final metrics and of every epoch, the mean test
/// confusion matrix, and (with a reported figure) where that figure lies. Written into the experiment's folder beside
/// the seed-k result folders: aggregate.json, report.md, curves with an SD band and a strip plot per seed.
/// </summary>
public sealed class SeedAggregate
{
    public const string FileName = "aggregate.json";

    /// <summary>The final metrics, in the order files show them; accuracy is higher-is-better, loss lower.</summary>
    public static readonly IReadOnlyList<(string Key, string Label, bool HigherIsBetter, Func<SnapshotDocument, double> Value)> Metrics =
    [
        ("test_accuracy", "test accuracy", true, s => s.TestAccuracy),
        ("test_loss", "test loss", false, s => s.TestLoss),
        ("train_accuracy", "train accuracy", true, s => s.TrainAccuracy),
        ("train_loss", "train loss", false, s => s.TrainLoss),
    ];

    private SeedAggregate(string experiment, IReadOnlyList<SeedRun> runs)
    {
        Experiment = experiment;
        Runs = runs;
        Final = Metrics.ToDictionary(m => m.Key, m => SeedStatistics.Summarise(runs.Select(r => m.Value(r.Snapshot)).ToList()));
        int epochs = runs.Max(r => r.Snapshot.History.Count);
        History = Enumerable.Range(0, epochs).Select(e =>
        {
            List<SnapshotEpoch> reached = runs.Where(r => r.Snapshot.History.Count > e).Select(r => r.Snapshot.History[e]).ToList();
            SeedSummary? Optional(Func<SnapshotEpoch, double?> value) =>
                reached.All(x => value(x) is not null) ? SeedStatistics.Summarise(reached.Select(x => value(x)!.Value).ToList()) : null;
            return new EpochSummary(
                reached[0].Epoch,
                SeedStatistics.Summarise(reached.Select(x => x.Loss).ToList()),
                SeedStatistics.Summarise(reached.Select(x => x.Accuracy).ToList()),
                Optional(x => x.ValidationLoss),
                Optional(x => x.ValidationAccuracy));
        }).ToList();
        int classes = runs[0].Snapshot.TestConfusion.ClassNames.Count;
        MeanTestConfusion = Enumerable.Range(0, classes)
            .Select(t => Enumerable.Range(0, classes).Select(p => runs.Average(r => (double)r.Snapshot.TestConfusion[t, p])).ToArray())
            .ToArray();
    }

    public string Experiment { get; }

    public IReadOnlyList<SeedRun> Runs { get; }

    public IReadOnlyDictionary<string, SeedSummary> Final { get; }

    public IReadOnlyList<EpochSummary> History { get; }

    public double[][] MeanTestConfusion { get; }

    /// <summary>Where the source's reported test accuracy lies in our distribution; null without one.</summary>
    public ReportedVerdict? Reported { get; private init; }

    public IReadOnlyList<double> Values(string metric) => Runs.Select(r => Metrics.Single(m => m.Key == metric).Value(r.Snapshot)).ToList();

    /// <summary>The aggregate of the seed-k folders under <paramref name="folder"/>, ordered by seed.</summary>
    public static SeedAggregate Load(string folder, double? reported = null)
    {
        var runs = new List<SeedRun>();
        foreach (string seedFolder in Directory.EnumerateDirectories(folder, "seed-*"))
        {
            string name = Path.GetFileName(seedFolder);
            string snapshot = Path.Combine(seedFolder, "snapshot.txt");
            if (long.TryParse(name["seed-".Length..], NumberStyles.Integer, CultureInfo.InvariantCulture, out long seed) && File.Exists(snapshot))
            {
                runs.Add(new SeedRun(seed, name, SnapshotDocument.Parse(File.ReadAllText(snapshot), snapshot)));
            }
        }

        if (runs.Count == 0)
        {
            throw new FileNotFoundException($"{folder} holds no seed-N result folders; run with --seeds N first.", folder);
        }

        string[] experiments = runs.Select(r => r.Snapshot.Experiment).Distinct().ToArray();
        if (experiments.Length > 1)
        {
            throw new InvalidDataException($"{folder}: the seed folders hold different experiments ({string.Join(", ", experiments)}); one experiment per folder.");
        }

        runs.Sort((a, b) => a.Seed.CompareTo(b.Seed));
        var aggregate = new SeedAggregate(experiments[0], runs);
        return reported is { } figure ? aggregate.WithReported(figure) : aggregate;
    }

    /// <summary>This aggregate with the source's reported test accuracy located in it (the statistics are shared, not recomputed).</summary>
    public SeedAggregate WithReported(double reported) => new(this) { Reported = SeedStatistics.Locate(Values("test_accuracy"), reported) };

    private SeedAggregate(SeedAggregate other)
    {
        (Experiment, Runs, Final, History, MeanTestConfusion) = (other.Experiment, other.Runs, other.Final, other.History, other.MeanTestConfusion);
    }

    /// <summary>True when <paramref name="folder"/> is a multi-seed experiment folder.</summary>
    public static bool IsAggregateFolder(string folder) => File.Exists(Path.Combine(folder, FileName));

    /// <summary>aggregate.json: the seeds, how the intervals were computed, the final metrics with their values per seed, every epoch, the mean test confusion matrix and the reported figure's place.</summary>
    public string Json() => ResultJsonContext.Text(
        new AggregateDocument(
            Experiment,
            Runs.Select(r => r.Seed).ToList(),
            new IntervalsDocument(
                "Student t interval of the mean, 95%, n - 1 degrees of freedom",
                $"percentile bootstrap interval of the mean, 95%, {SeedStatistics.BootstrapResamples} resamples of the seeds with replacement, fixed generator seed"),
            Final.ToDictionary(f => f.Key, f => SummaryDocument.Of(f.Value, Values(f.Key))),
            History.Select(e => new EpochSummaryDocument(
                e.Epoch,
                SummaryDocument.Of(e.Loss),
                SummaryDocument.Of(e.Accuracy),
                e.ValidationLoss is { } vl ? SummaryDocument.Of(vl) : null,
                e.ValidationAccuracy is { } va ? SummaryDocument.Of(va) : null)).ToList(),
            MeanTestConfusion,
            Reported is { } r ? new ReportedDocument(r.Reported, r.Percentile, r.ZScore, [r.Prediction.Low, r.Prediction.High], r.Verdict.Text()) : null),
        ResultJsonContext.Default.AggregateDocument);

    /// <summary>The aggregate section: a table of the final metrics with both intervals, the verdict, and the plots.</summary>
    public string Markdown()
    {
        var md = new StringBuilder();
        md.Append("# ").Append(Experiment).Append(CultureInfo.InvariantCulture, $": {Runs.Count} seeds ({string.Join(", ", Runs.Select(r => r.Seed))})\n\n");
        md.Append("| metric | mean ± SD | min | max | 95% interval of the mean (Student t) | (bootstrap) |\n|---|---:|---:|---:|---:|---:|\n");
        foreach ((string key, string label, bool _, _) in Metrics)
        {
            SeedSummary s = Final[key];
            md.Append(CultureInfo.InvariantCulture, $"| {label} | {s.Mean:F4} ± {s.StandardDeviation:F4} | {s.Min:F4} | {s.Max:F4} | {s.StudentT.Low:F4} to {s.StudentT.High:F4} | {s.Bootstrap.Low:F4} to {s.Bootstrap.High:F4} |\n");
        }

        if (Reported is { } r)
        {
            md.Append(CultureInfo.InvariantCulture,
                $"\nThe source reported {ExperimentReport.Percent(r.Reported)}: {r.Verdict.Text()} (percentile {r.Percentile:F0}, z = {r.ZScore:F2}; one more run of ours falls in {ExperimentReport.Percent(r.Prediction.Low)} to {ExperimentReport.Percent(r.Prediction.High)} with 95% probability).\n");
        }

        md.Append("\n| seed | test accuracy | test loss | train accuracy | result |\n|---:|---:|---:|---:|---|\n");
        foreach (SeedRun run in Runs)
        {
            md.Append(CultureInfo.InvariantCulture, $"| {run.Seed} | {ExperimentReport.Percent(run.Snapshot.TestAccuracy)} | {run.Snapshot.TestLoss:F4} | {ExperimentReport.Percent(run.Snapshot.TrainAccuracy)} | [{run.Folder}]({run.Folder}/report.md) |\n");
        }

        md.Append("\n![accuracy per epoch, mean and SD band](accuracy.png)\n![loss per epoch, mean and SD band](loss.png)\n![test accuracy per seed](seeds.png)\n");
        return md.ToString();
    }

    /// <summary>Writes aggregate.json, report.md, confusion-test-mean.csv and the plots into <paramref name="folder"/>, each atomically.</summary>
    public void Write(string folder)
    {
        AtomicFile.WriteAllBytes(Path.Combine(folder, "accuracy.png"), Plots.SeedCurves(this, accuracy: true));
        AtomicFile.WriteAllBytes(Path.Combine(folder, "loss.png"), Plots.SeedCurves(this, accuracy: false));
        AtomicFile.WriteAllBytes(Path.Combine(folder, "seeds.png"), Plots.SeedStrip(this));
        var csv = new StringBuilder();
        csv.Append("true \\ predicted,").Append(string.Join(",", Runs[0].Snapshot.TestConfusion.ClassNames)).Append('\n');
        for (int t = 0; t < MeanTestConfusion.Length; t++)
        {
            csv.Append(Runs[0].Snapshot.TestConfusion.ClassNames[t]).Append(',').Append(string.Join(",", MeanTestConfusion[t].Select(v => v.ToString("R", CultureInfo.InvariantCulture)))).Append('\n');
        }

        AtomicFile.WriteAllText(Path.Combine(folder, "confusion-test-mean.csv"), csv.ToString());
        AtomicFile.WriteAllText(Path.Combine(folder, "report.md"), Markdown());
        AtomicFile.WriteAllText(Path.Combine(folder, FileName), Json());
    }
}
