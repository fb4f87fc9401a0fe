using Experiments.Runtime.Native;
using Experiments.Runtime.Snapshots;
using Experiments.Runtime.Training;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>The portable kernel set across CPU models: how the identity names it and how a run made elsewhere under it is compared.</summary>
public sealed class PortableKernelsTests
{
    private static readonly string[] Names = ["zero", "one", "two"];
    private const string Pins = ", isa default, ATEN_CPU_CAPABILITY=default, MKL_CBWR=COMPATIBLE, DNNL_MAX_CPU_ISA=SSE41";
    private const string Zen4 = "AMD EPYC (family 25 model 17 stepping 1)" + Pins;
    private const string Zen5 = "AMD EPYC (family 26 model 2 stepping 1)" + Pins;

    /// <param name="testCounts">The test confusion matrix (400 examples: 0.25% is one example).</param>
    private static SnapshotDocument Snapshot(string cpu, double testLoss, double testAccuracy, int[][] testCounts) =>
        SnapshotDocument.From(new ExperimentResult(
            TestIdentities.Cpu(cpu, epochs: 1, trainExamples: 400, testExamples: 400),
            100,
            new Evaluation(0.5, 0.8, 400),
            new Evaluation(testLoss, testAccuracy, 400),
            [new EpochMetrics(1, 0.9, 0.7, null, null, 1)],
            new ConfusionMatrix(Names, [[130, 3, 0], [0, 130, 4], [0, 0, 133]]),
            new ConfusionMatrix(Names, testCounts),
            []));

    private static readonly int[][] Cells = [[130, 4, 0], [0, 130, 3], [0, 0, 133]];

    [Fact]
    public void The_pinned_set_and_the_cpu_model_are_read_back_from_a_recorded_identity()
    {
        Assert.Equal(KernelSet.PortableName, KernelSet.PinnedIn(Zen5)?.Name);
        Assert.Equal("native", KernelSet.PinnedIn("AMD EPYC (family 26 model 2 stepping 1), isa avx512")?.Name);
        Assert.Equal("aten-default", KernelSet.PinnedIn("AMD EPYC, isa default, ATEN_CPU_CAPABILITY=default")?.Name);
        Assert.Null(KernelSet.PinnedIn("AMD EPYC, isa default, ATEN_CPU_CAPABILITY=default, MKL_CBWR=AVX2")); // a combination that is no set
        Assert.Equal("AMD EPYC (family 26 model 2 stepping 1)", KernelSet.CpuModelOf(Zen5));
    }

    [Fact]
    public void Equal_bits_from_another_cpu_model_pass_in_the_portable_mode()
    {
        SnapshotComparison same = SnapshotComparison.Compare(Snapshot(Zen4, 0.6, 0.9, Cells), Snapshot(Zen5, 0.6, 0.9, Cells), Tolerances.Default);
        Assert.Equal(ComparisonMode.PortableElsewhere, same.Mode);
        Assert.True(same.Matches, string.Join("\n", same.Differences));
        Assert.Contains("another CPU model", same.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void Last_place_differences_pass_and_anything_larger_fails()
    {
        SnapshotDocument approved = Snapshot(Zen4, 0.6, 0.9, Cells);

        // 7th significant digit of the loss (1e-7 relative) and one test example moved (0.25%): what was measured.
        SnapshotComparison drift = SnapshotComparison.Compare(approved, Snapshot(Zen5, 0.60000006, 0.9025, [[131, 3, 0], [0, 130, 3], [0, 0, 133]]), Tolerances.Default);
        Assert.True(drift.Matches, string.Join("\n", drift.Differences));

        // 1e-5 relative is beyond 64 float32 units in the last place; two examples are beyond 0.25%.
        SnapshotComparison loss = SnapshotComparison.Compare(approved, Snapshot(Zen5, 0.600006, 0.9, Cells), Tolerances.Default);
        Assert.Contains(loss.Differences, d => d.Message.StartsWith("final.test_loss", StringComparison.Ordinal) && d.Message.Contains("portable kernels on another CPU", StringComparison.Ordinal));
        SnapshotComparison moved = SnapshotComparison.Compare(approved, Snapshot(Zen5, 0.6, 0.905, [[132, 2, 0], [0, 130, 3], [0, 0, 133]]), Tolerances.Default);
        Assert.Contains(moved.Differences, d => d.Message.StartsWith("final.test_accuracy", StringComparison.Ordinal));
        Assert.Contains(moved.Differences, d => d.Message.StartsWith("confusion_test", StringComparison.Ordinal));

        // The default tolerances (a point of accuracy) would have let that through: the mode is stricter, not looser.
        Assert.True(SnapshotComparison.Compare(approved, Snapshot(Zen5, 0.6, 0.905, [[132, 2, 0], [0, 130, 3], [0, 0, 133]]), Tolerances.Default, ComparisonMode.Tolerance).Matches);
    }

    [Fact]
    public void Native_kernels_on_another_cpu_or_another_set_compare_under_tolerances()
    {
        SnapshotDocument approved = Snapshot(Zen4, 0.6, 0.9, Cells);
        Assert.Equal(ComparisonMode.Tolerance, SnapshotComparison.Compare(approved, Snapshot("AMD EPYC (family 26 model 2 stepping 1), isa avx512", 0.6, 0.9, Cells), Tolerances.Default).Mode);
        Assert.Equal(ComparisonMode.Exact, SnapshotComparison.Compare(approved, Snapshot(Zen4, 0.6, 0.9, Cells), Tolerances.Default).Mode);
        SnapshotDocument otherThreads = Snapshot(Zen5, 0.6, 0.9, Cells);
        otherThreads = otherThreads with { Environment = new Dictionary<string, string>(otherThreads.Environment) { ["threads"] = "1" } };
        Assert.Equal(ComparisonMode.Tolerance, SnapshotComparison.Compare(approved, otherThreads, Tolerances.Default).Mode);
    }
}
