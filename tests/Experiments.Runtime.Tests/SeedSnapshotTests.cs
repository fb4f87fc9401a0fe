using Experiments.Runtime.Configuration;
using Experiments.Runtime.Data;
using Experiments.Runtime.Hosting;
using Experiments.Runtime.Results;
using Experiments.Runtime.Snapshots;
using Experiments.Runtime.Training;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>Multi-seed snapshots: real multi-seed training of a small model on MNIST, then comparisons of its documents.</summary>
public sealed class SeedSnapshotTests
{
    private static readonly ProfileConfig Tiny = new("tiny", 600, 300, 1, null, null);

    private static readonly Lazy<(Reproduction First, Reproduction Second, SeedSnapshot Approved, ReproductionSettings Settings, TinyCnn Experiment)> Approved = new(() =>
    {
        var experiment = new TinyCnn(OptimizerSettings.Sgd(0.05, momentum: 0.9), ValidationSpec.None);
        var settings = new ReproductionSettings(Tiny, "cpu", 1, [], ExperimentsConfig.Empty, null) { Seeds = 4 };
        string root = TestEnvironment.TempDirectory("seed-snapshots");
        Reproduction first = ReproductionTest.Run([experiment], "tiny-cnn", root, _ => { }, settings);

        // Approved by hand here (the command-line test approves through accept's repeat).
        File.Move(first.Verification.ReceivedPath, first.Verification.VerifiedPath);
        Reproduction second = ReproductionTest.Run([experiment], "tiny-cnn", root, _ => { }, settings);
        return (first, second, SeedSnapshot.Parse(File.ReadAllText(first.Verification.VerifiedPath), first.Verification.VerifiedPath), settings, experiment);
    });

    [Fact]
    public void A_multi_seed_run_writes_one_row_per_seed_and_repeats_exactly_under_the_same_identity()
    {
        (Reproduction first, Reproduction second, SeedSnapshot approved, ReproductionSettings settings, TinyCnn experiment) = Approved.Value;

        // Without an approved file: no pass, the received multi-seed file written as NAME.seeds.received.txt.
        Assert.False(first.Passed);
        Assert.EndsWith("tiny-cnn.seeds.verified.txt", first.Verification.VerifiedPath, StringComparison.Ordinal);
        Assert.Equal(4, first.Seeds.Count);
        Assert.Equal([1L, 2L, 3L, 4L], approved.Seeds.Select(s => s.Seed));
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(first.Seeds[k].Test.Accuracy, approved.Seeds[k].TestAccuracy);
            Assert.Equal(first.Seeds[k].Train.Loss, approved.Seeds[k].TrainLoss);
            Assert.Equal(SeedSnapshot.Digest(SnapshotDocument.From(first.Seeds[k])), approved.Seeds[k].Digest);
        }

        // Four draws, not one draw four times.
        Assert.Equal(4, approved.Values(Metric.TestLoss).Distinct().Count());
        Assert.DoesNotContain("seed:", approved.Render().Split("environment:")[0].Split("run:")[1], StringComparison.Ordinal);

        // The second run compares seed by seed, exactly, and passes; the received file is gone.
        Assert.True(second.Passed, second.Message);
        Assert.Equal(ComparisonMode.Exact, second.Verification.Comparison!.Mode);
        Assert.False(File.Exists(second.Verification.ReceivedPath));

        // Seed 3 of the multi-seed result is the one-seed run with seed 3, bit for bit.
        ExperimentResult alone = ExperimentRunner.Run(experiment, settings.RunOptions("tiny-cnn", 3));
        Assert.Equal(approved.Seeds[2].Digest, SeedSnapshot.Digest(SnapshotDocument.From(alone)));
    }

    [Fact]
    public void Text_round_trips_and_an_exact_comparison_names_the_seed_and_field_that_moved()
    {
        SeedSnapshot approved = Approved.Value.Approved;
        Assert.Equal(approved.Render(), SeedSnapshot.Parse(approved.Render(), "x").Render());
        var kernels = new KernelEnvelope([new KernelRun("avx2", 0.5, 1.5, 0.5, 1.5, 0.01, 0.02, [])]);
        SeedSnapshot withKernels = approved with { Kernels = kernels };
        Assert.Equal(withKernels.Render(), SeedSnapshot.Parse(withKernels.Render(), "x").Render());

        SeedRow third = approved.Seeds[2];
        SeedSnapshot moved = approved with { Seeds = [.. approved.Seeds.Take(2), third with { TestLoss = third.TestLoss + 1e-12 }, .. approved.Seeds.Skip(3)] };
        SnapshotComparison comparison = SeedSnapshotComparison.Compare(approved, moved, SeedCheck.Default);
        Assert.Equal(ComparisonMode.Exact, comparison.Mode);
        Difference difference = Assert.Single(comparison.Differences);
        Assert.Equal((DifferenceKind.Metric, "seed 3 test_loss", Metric.TestLoss, 0.0), (difference.Kind, difference.Field, difference.Metric, difference.Allowed));
        Assert.StartsWith("seed 3 test_loss: approved ", difference.Message, StringComparison.Ordinal);

        SeedSnapshot otherHistory = approved with { Seeds = [approved.Seeds[0] with { Digest = "0000000000000000" }, .. approved.Seeds.Skip(1)] };
        Assert.Contains("seed 1 snapshot_sha256", Assert.Single(SeedSnapshotComparison.Compare(approved, otherHistory, SeedCheck.Default).Differences).Message, StringComparison.Ordinal);

        SeedSnapshot fewer = approved with { Seeds = approved.Seeds.Take(3).ToList() };
        Assert.Contains(SeedSnapshotComparison.Compare(approved, fewer, SeedCheck.Default).Differences, d => d.Message.StartsWith("seeds: approved 1,2,3,4, received 1,2,3", StringComparison.Ordinal));
    }

    [Fact]
    public void Under_another_identity_the_seeds_are_compared_as_distributions_with_a_verdict_per_metric()
    {
        SeedSnapshot approved = Approved.Value.Approved;

        // The same seeds received on "another machine" (thread count differs): within noise on every metric.
        SeedSnapshot elsewhere = Elsewhere(approved, approved.Seeds);
        SnapshotComparison same = SeedSnapshotComparison.Compare(approved, elsewhere, SeedCheck.Default);
        Assert.Equal(ComparisonMode.Distribution, same.Mode);
        Assert.True(same.Matches, string.Join("\n", same.Differences));
        Assert.Equal(4, same.Checks.Count);
        Assert.All(same.Checks, c => Assert.Equal(SeedVerdict.WithinNoise, c.Verdict));

        // Every seed a few points less accurate: the difference of means is exactly the shift, and it is worse.
        double[] accuracies = [.. approved.Values(Metric.TestAccuracy)];
        double mean = accuracies.Average();
        double sd = Math.Sqrt(accuracies.Sum(a => (a - mean) * (a - mean)) / (accuracies.Length - 1));
        double shift = Math.Max(0.05, 6 * sd);
        SnapshotComparison worse = SeedSnapshotComparison.Compare(approved, Elsewhere(approved, approved.Seeds.Select(s => s with { TestAccuracy = s.TestAccuracy - shift }).ToList()), SeedCheck.Default);
        DistributionCheck accuracy = worse.Checks.Single(c => c.Check.Metric == Metric.TestAccuracy);
        Assert.Equal(SeedVerdict.Worse, accuracy.Verdict);
        Assert.True(accuracy.Fails);
        Assert.Equal(-shift, accuracy.Received.Mean - accuracy.Approved.Mean, 12);
        Assert.Contains(worse.Differences, d => d.Message.StartsWith("test_accuracy: worse beyond the noise", StringComparison.Ordinal));
        Assert.All(worse.Checks.Where(c => c.Check.Metric != Metric.TestAccuracy), c => Assert.Equal(SeedVerdict.WithinNoise, c.Verdict));

        // A shift far smaller than the seed-to-seed spread is noise.
        SnapshotComparison small = SeedSnapshotComparison.Compare(approved, Elsewhere(approved, approved.Seeds.Select(s => s with { TestAccuracy = s.TestAccuracy - (sd / 10) }).ToList()), SeedCheck.Default);
        Assert.True(small.Matches, string.Join("\n", small.Differences));

        // Better fails a two-sided check and passes one that declares only worse fails; the verdict says better either way.
        List<SeedRow> improved = approved.Seeds.Select(s => s with { TestAccuracy = s.TestAccuracy + shift }).ToList();
        SnapshotComparison twoSided = SeedSnapshotComparison.Compare(approved, Elsewhere(approved, improved), SeedCheck.Default);
        Assert.Equal(SeedVerdict.Better, twoSided.Checks.Single(c => c.Check.Metric == Metric.TestAccuracy).Verdict);
        Assert.False(twoSided.Matches);
        SnapshotComparison oneSided = SeedSnapshotComparison.Compare(approved, Elsewhere(approved, improved), SeedCheck.For(OnlyWorse, "only-worse"));
        Assert.True(oneSided.Matches, string.Join("\n", oneSided.Differences));
        Assert.Equal(SeedVerdict.Better, Assert.Single(oneSided.Checks).Verdict);

        // The kernel spread recorded at approval widens the interval: a shift inside it is noise.
        SeedRow first = approved.Seeds[0];
        var wide = new KernelEnvelope([new KernelRun("avx2", first.TestAccuracy - (2 * shift), first.TestLoss, first.TrainAccuracy, first.TrainLoss, 0, 0, [])]);
        SnapshotComparison widened = SeedSnapshotComparison.Compare(approved with { Kernels = wide }, Elsewhere(approved, approved.Seeds.Select(s => s with { TestAccuracy = s.TestAccuracy - shift }).ToList()), SeedCheck.Default);
        DistributionCheck kernelCheck = widened.Checks.Single(c => c.Check.Metric == Metric.TestAccuracy);
        Assert.Equal(2 * shift, kernelCheck.Widening, 12);
        Assert.Equal(SeedVerdict.WithinNoise, kernelCheck.Verdict);
        Assert.Contains("kernel sets", widened.ModeReason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_review_shows_a_changed_multi_seed_snapshot_as_distributions_with_a_verdict()
    {
        SeedSnapshot approved = Approved.Value.Approved;
        double[] accuracies = [.. approved.Values(Metric.TestAccuracy)];
        double shift = Math.Max(0.05, 6 * Math.Sqrt(accuracies.Sum(a => (a - accuracies.Average()) * (a - accuracies.Average())) / 3));
        SeedSnapshot worse = Elsewhere(approved, approved.Seeds.Select(s => s with { TestAccuracy = s.TestAccuracy - shift }).ToList());
        var set = new Reports.ReviewSet([new Reports.ReviewItem("Snapshots/tiny-cnn.seeds.verified.txt", approved.Render(), worse.Render())], 3, "received snapshots");
        string markdown = Reports.Review.Markdown(set, _ => Tolerances.Default, _ => SeedCheck.Default, _ => null, null, ".");
        Assert.Contains("### tiny-cnn (4 seeds) (tiny): beyond noise", markdown, StringComparison.Ordinal);
        Assert.Contains("| metric | better | approved mean ± SD (n) | received mean ± SD (n) | difference [interval] | verdict |", markdown, StringComparison.Ordinal);
        string row = markdown.Split('\n').Single(l => l.StartsWith("| test accuracy |", StringComparison.Ordinal));
        Assert.Contains("| ↑ higher |", row, StringComparison.Ordinal);
        Assert.Contains("| ↓ -", row, StringComparison.Ordinal);
        Assert.EndsWith("| worse |", row, StringComparison.Ordinal);
        Assert.Contains("3 other approved snapshots unchanged.", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Declarations_choose_metrics_levels_and_directions_and_bad_ones_are_refused()
    {
        SeedCheck check = Assert.Single(SeedCheck.For(OnlyWorse, "only-worse"));
        Assert.Equal(new SeedCheck(Metric.TestAccuracy, 0.9, true, true), check);
        Assert.Equal(new SeedCheck(Metric.TestLoss, 0.99, true, false), Assert.Single(SeedCheck.For(Reversed, "reversed")));
        Assert.Equal(4, SeedCheck.For([], "none").Count);
        Assert.Contains("twice declares [SeedTolerance(TestAccuracy)] 2 times", Assert.Throws<ArgumentException>(() => SeedCheck.For(Twice, "twice")).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SeedToleranceAttribute(Metric.EpochLoss));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SeedToleranceAttribute(Metric.TestAccuracy) { Level = 1 });

        string text = Approved.Value.Approved.Render();
        string damaged = text.Replace(" " + Approved.Value.Approved.Seeds[0].Digest, "", StringComparison.Ordinal);
        Assert.NotEqual(text, damaged);
        SnapshotFormatException error = Assert.Throws<SnapshotFormatException>(() => SeedSnapshot.Parse(damaged, "tiny-cnn.seeds.verified.txt"));
        Assert.Contains("tiny-cnn.seeds.verified.txt(", error.Message, StringComparison.Ordinal);
        Assert.Contains("per_seed row needs 6 columns", error.Message, StringComparison.Ordinal);
    }

    private static SeedSnapshot Elsewhere(SeedSnapshot approved, IReadOnlyList<SeedRow> rows) => approved with
    {
        Environment = new Dictionary<string, string>(approved.Environment) { ["threads"] = "8" },
        Seeds = rows,
    };

    // As the generator emits a declaration's [SeedTolerance] attributes into ExperimentInfo.SeedTolerances.
    private static readonly SeedToleranceAttribute[] OnlyWorse = [new(Metric.TestAccuracy) { Level = 0.9, OnlyWorseFails = true }];

    private static readonly SeedToleranceAttribute[] Reversed = [new(Metric.TestLoss) { Direction = Direction.HigherIsBetter }];

    private static readonly SeedToleranceAttribute[] Twice = [new(Metric.TestAccuracy), new(Metric.TestAccuracy) { Level = 0.5 }];
}
