using Experiments.Runtime.Native;
using Experiments.Runtime.Snapshots;
using Experiments.Runtime.Training;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>The kernel envelope: stored with the approved snapshot, read back exactly, and the rule for another machine.</summary>
public sealed class KernelEnvelopeTests
{
    private static readonly string[] Names = ["zero", "one", "two"];

    private static SnapshotDocument Snapshot(double testAccuracy, double firstLoss, int[][] testCounts, string cpu = "AMD EPYC (family 25 model 17), isa avx512") =>
        SnapshotDocument.From(new ExperimentResult(
            TestIdentities.Cpu(cpu, epochs: 2, trainExamples: 10, testExamples: 10),
            100,
            new Evaluation(0.5, 0.8, 10),
            new Evaluation(0.6, testAccuracy, 10),
            [new EpochMetrics(1, firstLoss, 0.5, null, null, 1), new EpochMetrics(2, 0.9, 0.7, null, null, 1)],
            new ConfusionMatrix(Names, [[3, 0, 0], [0, 3, 1], [0, 0, 3]]),
            new ConfusionMatrix(Names, testCounts),
            []));

    private static readonly int[][] Approved = [[3, 1, 0], [0, 3, 0], [0, 0, 3]];

    private static SnapshotDocument WithEnvelope()
    {
        SnapshotDocument approved = Snapshot(0.90, 1.20, Approved);
        KernelEnvelope envelope = KernelEnvelope.Measure(approved,
        [
            ("aten-avx2", Snapshot(0.80, 1.26, [[3, 1, 0], [0, 2, 1], [0, 0, 3]])),
            ("portable", Snapshot(0.95, 1.18, Approved)),
        ]);
        return approved with { Kernels = envelope };
    }

    [Fact]
    public void The_envelope_is_written_with_the_snapshot_and_read_back_exactly()
    {
        SnapshotDocument approved = WithEnvelope();
        string text = approved.Render();
        Assert.Contains("kernels:", text, StringComparison.Ordinal);
        SnapshotDocument parsed = SnapshotDocument.Parse(text, "tiny.verified.txt");
        Assert.Equal(text, parsed.Render());
        KernelRun avx2 = parsed.Kernels!.Runs.Single(r => r.Set == "aten-avx2");
        Assert.Equal(0.80, avx2.TestAccuracy);
        Assert.Equal(0.1, avx2.TestCellsMoved);
        Assert.Equal(1.26, avx2.History[0].Loss);
        Assert.Equal((0.80, 0.95), parsed.Kernels.Range(Metric.TestAccuracy, parsed.TestAccuracy));
        Assert.Equal((1.18, 1.26), parsed.Kernels.Range(1, Metric.EpochLoss, 1.20));
    }

    [Fact]
    public void Another_machine_passes_inside_the_envelope_widened_by_the_tolerance_and_fails_outside_naming_the_closest_set()
    {
        SnapshotDocument approved = WithEnvelope();
        Tolerances tolerances = Tolerances.Default;
        const string other = "Intel Xeon (family 6 model 85), isa avx2";

        // 0.82 is 8 points from the approved 0.90, far beyond the 1-point tolerance, but inside the envelope [0.80, 0.95].
        SnapshotComparison inside = SnapshotComparison.Compare(approved, Snapshot(0.82, 1.25, [[3, 1, 0], [0, 2, 1], [0, 0, 3]], other), tolerances);
        Assert.Equal(ComparisonMode.Tolerance, inside.Mode);
        Assert.True(inside.Matches, string.Join("\n", inside.Differences));
        Assert.Contains("kernel envelope", inside.ModeReason, StringComparison.Ordinal);

        // 0.78 lies below the envelope's 0.80 by more than the tolerance: a failure that names the nearest set.
        SnapshotComparison outside = SnapshotComparison.Compare(approved, Snapshot(0.78, 1.25, Approved, other), tolerances);
        Assert.False(outside.Matches);
        Assert.Contains(outside.Differences, d => d.Message.StartsWith("final.test_accuracy", StringComparison.Ordinal) && d.Message.Contains("kernel envelope [0.8, 0.95]", StringComparison.Ordinal));
        Assert.Contains(outside.Differences, d => d.Message.Contains("closest approved kernel set: aten-avx2", StringComparison.Ordinal));

        // Without an envelope the same 0.82 is 8 points off: the rule is the envelope, not a wider tolerance.
        SnapshotComparison bare = SnapshotComparison.Compare(approved with { Kernels = null }, Snapshot(0.82, 1.25, Approved, other), tolerances);
        Assert.False(bare.Matches);
    }

    [Fact]
    public void Under_a_matching_environment_the_envelope_changes_nothing()
    {
        SnapshotComparison exact = SnapshotComparison.Compare(WithEnvelope(), Snapshot(0.82, 1.25, Approved), Tolerances.Default);
        Assert.Equal(ComparisonMode.Exact, exact.Mode);
        Assert.False(exact.Matches);
    }

    [Fact]
    public void Pinning_a_kernel_set_in_process_equals_setting_its_variables_and_is_recorded()
    {
        // Real processes: the pin must reach each library before it initialises, or the bits would be the native ones.
        // Each child starts with no kernel variable of its own, whatever the test run was started with.
        KernelSet avx2 = KernelSet.Find("avx2");
        string Run(string label, IReadOnlyDictionary<string, string> variables, params string[] extra)
        {
            string folder = TestEnvironment.TempDirectory(label);
            var start = TestEnvironment.ChildProcess("dotnet");
            foreach (string argument in (string[])[TestEnvironment.Metadata("CatalogExecutable"), "run", "mnist-cnn-16-36", "--profile", "smoke", "--threads", "2", "--out", folder, .. extra])
            {
                start.ArgumentList.Add(argument);
            }

            foreach (string name in MachineInfo.KernelSelectionVariables)
            {
                start.Environment.Remove(name);
            }

            foreach ((string name, string value) in variables)
            {
                start.Environment[name] = value;
            }

            using var process = System.Diagnostics.Process.Start(start)!;
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, stdout.Result + stderr);
            return Path.Combine(folder, "mnist-cnn-16-36");
        }

        string pinned = Run("pinned", new Dictionary<string, string>(), "--pin-kernels", "avx2");
        string environment = Run("environment", avx2.Variables);
        Assert.Equal(File.ReadAllText(Path.Combine(environment, "metrics.json")), File.ReadAllText(Path.Combine(pinned, "metrics.json")));
        Assert.Contains("ATEN_CPU_CAPABILITY=avx2, MKL_CBWR=AVX2, DNNL_MAX_CPU_ISA=AVX2", File.ReadAllText(Path.Combine(pinned, "snapshot.txt")), StringComparison.Ordinal);
        if (MachineInfo.CpuFlags()?.Contains("avx512f") == true)
        {
            // Where the CPU has better kernels than AVX2, the pin must have changed them: the computed numbers differ,
            // not only the identity (whose device name carries the pinned variables and so always differs).
            string native = Run("native", new Dictionary<string, string>());
            Assert.NotEqual(Computed(native), Computed(pinned));
        }
    }

    /// <summary>What a run computed, without what describes the run: the metrics, history, confusion matrices and weights' SHA-256 of metrics.json.</summary>
    private static string Computed(string resultFolder)
    {
        var metrics = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(resultFolder, "metrics.json")))!.AsObject();
        Assert.True(metrics.Remove("identity"), $"{resultFolder}/metrics.json has no identity to leave out");
        Assert.All(["weights_sha256", "train", "test", "history", "confusion"], key => Assert.True(metrics.ContainsKey(key), $"{resultFolder}/metrics.json has no {key}"));
        return metrics.ToJsonString();
    }

    [Fact]
    public void Kernel_sets_name_their_variables_and_this_machine_runs_at_least_the_portable_ones()
    {
        Assert.Equal("native", KernelSet.All[0].Name);
        Assert.Equal(KernelSet.All.Count, KernelSet.All.Select(s => s.Name).Distinct().Count());
        Assert.All(KernelSet.All.Skip(1), s => Assert.All(s.Variables.Keys, v => Assert.Contains(v, MachineInfo.KernelSelectionVariables)));
        IReadOnlyList<KernelSet> available = KernelSet.Available();
        Assert.Contains(available, s => s.Name == "aten-default");
        Assert.Contains(available, s => s.Name == "mkl-compatible");
        Assert.Equal(available, KernelSet.Parse("all"));
        Assert.Equal(["avx2", "portable"], KernelSet.Parse("avx2, portable").Select(s => s.Name));
        Assert.Throws<ArgumentException>(() => KernelSet.Parse("avx9"));
    }
}
