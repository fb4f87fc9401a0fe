using System.Globalization;
using Experiments.Runtime.IO;
using Experiments.Runtime.Results;

namespace Experiments.Runtime.Snapshots;

/// <summary>How one final metric of a multi-seed snapshot is compared as a distribution (see <see cref="SeedToleranceAttribute"/>).</summary>
public sealed record SeedCheck(Metric Metric, double Level, bool HigherIsBetter, bool OnlyWorseFails)
{
    /// <summary>Without declarations: the four final metrics, at 99%, in their natural directions, any significant change failing.</summary>
    public static IReadOnlyList<SeedCheck> Default { get; } = SeedSnapshot.FinalMetrics.Select(m => new SeedCheck(m, 0.99, Natural(m), false)).ToList();

    /// <summary>The experiment's declared [SeedTolerance] attributes (<see cref="ExperimentInfo.SeedTolerances"/>), else <see cref="Default"/>.</summary>
    public static IReadOnlyList<SeedCheck> For(IExperiment experiment) => For(experiment.Info.SeedTolerances, experiment.Info.Name);

    /// <summary><paramref name="declared"/> as checks, else <see cref="Default"/>; a metric declared twice is an error (the generator reports it at compile time).</summary>
    public static IReadOnlyList<SeedCheck> For(IReadOnlyList<SeedToleranceAttribute> declared, string experiment)
    {
        List<SeedCheck> checks = declared
            .Select(a => new SeedCheck(a.Metric, a.Level, a.Direction switch
            {
                Direction.HigherIsBetter => true,
                Direction.LowerIsBetter => false,
                _ => Natural(a.Metric),
            }, a.OnlyWorseFails))
            .ToList();
        if (checks.GroupBy(c => c.Metric).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new ArgumentException($"{experiment} declares [SeedTolerance({twice.Key})] {twice.Count()} times; declare each metric once.");
        }

        return checks.Count > 0 ? checks : Default;
    }

    private static bool Natural(Metric metric) => metric is Metric.TestAccuracy or Metric.TrainAccuracy;
}

/// <summary>One metric of two seed distributions: the summaries, Welch's interval of received minus approved, the widening and the verdict.</summary>
/// <param name="Widening">The approval's kernel spread for this metric (highest minus lowest of the first seed under the kernel sets); 0 without kernels.</param>
/// <param name="Verdict">Within noise, better or worse in the check's direction.</param>
public sealed record DistributionCheck(SeedCheck Check, SeedSummary Approved, SeedSummary Received, Interval Difference, double Widening, SeedVerdict Verdict, bool Fails);

/// <summary>
/// A received multi-seed snapshot against the approved one. What was run (fingerprint, settings, the seeds) must be the
/// same; under a matching environment every seed's row and digest must repeat exactly; otherwise each declared metric
/// is compared as a distribution (<see cref="SeedCheck"/>), replacing the single-run absolute tolerances.
/// </summary>
public static class SeedSnapshotComparison
{
    /// <param name="mode">Forces exact or distribution mode; by default exact when the environments match.</param>
    public static SnapshotComparison Compare(SeedSnapshot approved, SeedSnapshot received, IReadOnlyList<SeedCheck> checks, ComparisonMode? mode = null)
    {
        var differences = new List<Difference>();
        SnapshotComparison.RunDifferences(differences, approved.Experiment, received.Experiment, approved.Run.Keys.Union(received.Run.Keys), approved.Run, received.Run);
        string Seeds(SeedSnapshot s) => string.Join(",", s.Seeds.Select(r => r.Seed.ToString(CultureInfo.InvariantCulture)));
        if (Seeds(approved) != Seeds(received))
        {
            differences.Add(new Difference(DifferenceKind.Identity, "seeds", Seeds(approved), Seeds(received),
                $"seeds: approved {Seeds(approved)}, received {Seeds(received)} (run the approved seeds, or approve the new set)"));
        }

        SnapshotComparison.ParameterDifference(differences, approved.Parameters, received.Parameters);

        string[] environmentChanges = SnapshotDocument.BitKeys
            .Where(k => approved.Environment[k] != received.Environment[k])
            .Select(k => $"{k} '{approved.Environment[k]}' -> '{received.Environment[k]}'")
            .ToArray();
        ComparisonMode chosen = mode ?? (environmentChanges.Length == 0 ? ComparisonMode.Exact : ComparisonMode.Distribution);
        if (chosen == ComparisonMode.Tolerance)
        {
            throw new ArgumentException("A multi-seed snapshot is compared exactly or as a distribution.", nameof(mode));
        }

        string reason = mode is not null && environmentChanges.Length == 0 ? "requested" : string.Join("; ", environmentChanges);
        if (chosen == ComparisonMode.Exact)
        {
            foreach ((SeedRow a, SeedRow r) in approved.Seeds.Join(received.Seeds, s => s.Seed, s => s.Seed, (a, r) => (a, r)))
            {
                foreach (Metric metric in SeedSnapshot.FinalMetrics.Where(m => BitConverter.DoubleToInt64Bits(a[m]) != BitConverter.DoubleToInt64Bits(r[m])))
                {
                    differences.Add(new Difference(DifferenceKind.Metric, $"seed {a.Seed} {Key(metric)}", Invariant($"{a[metric]:R}"), Invariant($"{r[metric]:R}"),
                        Invariant($"seed {a.Seed} {Key(metric)}: approved {a[metric]:R}, received {r[metric]:R} (delta {r[metric] - a[metric]:+0.######;-0.######;0}), exact match required"))
                    {
                        Metric = metric,
                        Allowed = 0,
                    });
                }

                if (a.Digest != r.Digest)
                {
                    differences.Add(new Difference(DifferenceKind.Shape, $"seed {a.Seed} snapshot_sha256", a.Digest, r.Digest,
                        $"seed {a.Seed} snapshot_sha256: approved {a.Digest}, received {r.Digest} (its history or confusion matrices differ: compare the seed's snapshot.txt), exact match required"));
                }
            }

            return new SnapshotComparison(chosen, reason, differences);
        }

        var results = new List<DistributionCheck>();
        foreach (SeedCheck check in checks)
        {
            IReadOnlyList<double> before = approved.Values(check.Metric);
            IReadOnlyList<double> after = received.Values(check.Metric);
            SeedComparison welch = SeedStatistics.Compare(before, after, check.HigherIsBetter, check.Level);
            (double low, double high) = approved.Kernels?.Range(check.Metric, approved.Seeds[0][check.Metric]) ?? (0, 0);
            double widening = high - low;
            var widened = new Interval(welch.Interval.Low - widening, welch.Interval.High + widening, welch.Interval.Method);
            SeedVerdict verdict = Verdicts.Of(widened.Contains(0), welch.Difference, check.HigherIsBetter);
            bool fails = verdict == SeedVerdict.Worse || (verdict == SeedVerdict.Better && !check.OnlyWorseFails);
            var result = new DistributionCheck(check, SeedStatistics.Summarise(before), SeedStatistics.Summarise(after), widened, widening, verdict, fails);
            results.Add(result);
            if (fails)
            {
                string widenedBy = widening > 0 ? Invariant($" widened by the kernel spread {widening:0.######}") : "";
                differences.Add(new Difference(DifferenceKind.Metric, Key(check.Metric), Invariant($"{result.Approved.Mean:R}"), Invariant($"{result.Received.Mean:R}"), Invariant(
                    $"{Key(check.Metric)}: {verdict.Text()} beyond the noise: approved mean {result.Approved.Mean:R} (SD {result.Approved.StandardDeviation:0.######}, n = {result.Approved.Count}), received mean {result.Received.Mean:R} (SD {result.Received.StandardDeviation:0.######}, n = {result.Received.Count}); difference {welch.Difference:+0.######;-0.######;0}, {welch.Interval.Method} [{welch.Interval.Low:0.######}, {welch.Interval.High:0.######}]{widenedBy} excludes 0"))
                {
                    Metric = check.Metric,
                });
            }
        }

        if (approved.Kernels is not null)
        {
            reason += $"; intervals widened by the spread of the first seed under {approved.Kernels.Runs.Count} CPU kernel sets";
        }

        return new SnapshotComparison(chosen, reason, differences) { Checks = results };
    }

    /// <summary>The per-metric checks of a distribution comparison as an aligned table.</summary>
    public static string Table(IReadOnlyList<DistributionCheck> checks) => TextTable.Render(
        [["metric", "direction", "approved mean ± SD (n)", "received mean ± SD (n)", "difference [interval]", "verdict"],
            .. checks.Select(c => new[]
            {
                Key(c.Check.Metric),
                c.Check.HigherIsBetter ? "higher is better" : "lower is better",
                c.Approved.Describe(percent: false),
                c.Received.Describe(percent: false),
                Invariant($"{c.Received.Mean - c.Approved.Mean:+0.######;-0.######;0} [{c.Difference.Low:0.######}, {c.Difference.High:0.######}] at {c.Check.Level * 100:0.##}%"),
                c.Verdict.Text() + (c.Fails ? " (fails)" : ""),
            })],
        leftAligned: 2);

    internal static string Key(Metric metric) => metric switch
    {
        Metric.TestAccuracy => "test_accuracy",
        Metric.TestLoss => "test_loss",
        Metric.TrainAccuracy => "train_accuracy",
        Metric.TrainLoss => "train_loss",
        _ => metric.ToString(),
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
