using Experiments.Runtime.Results;
using Experiments.Runtime.Snapshots;
using Experiments.Runtime.Training;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>The snapshot layer on small hand-made results: format, comparison modes, received files, approval.</summary>
public sealed class SnapshotTests
{
    private static readonly string[] FashionNames = ["T-shirt/top", "Trouser", "Ankle boot"];

    private static ExperimentResult Result(
        string deviceName = "AMD EPYC (family 25 model 17 stepping 1), isa avx512",
        string fingerprint = "0123456789abcdef",
        double testAccuracy = 0.75,
        double firstLoss = 1.2345678901234567,
        int[][]? testCounts = null) =>
        new(
            new RunIdentity(
                "fashion-tiny",
                new RunDefinition
                {
                    Fingerprint = fingerprint,
                    Dataset = "fashion-mnist",
                    Seed = 7,
                    Profile = "smoke",
                    Settings = "input [784] /255, Adam(lr=0.001), batch 64, 2 epochs: a 'quoted' # setting",
                    Epochs = 2,
                    TrainExamples = 12,
                    ValidationExamples = 0,
                    TestExamples = 12,
                    Initialisers = "keras",
                },
                TestIdentities.Environment(deviceName) with { DotNet = ".NET 10.0.12" }),
            1234,
            new Evaluation(0.51234567890123456, 0.8333333333333334, 12),
            new Evaluation(0.6, testAccuracy, 12),
            [new EpochMetrics(1, firstLoss, 0.5, null, null, 1.5), new EpochMetrics(2, 1e-7, 0.75, double.NaN, 0.25, 1.25)],
            new ConfusionMatrix(FashionNames, [[4, 0, 0], [0, 3, 1], [0, 0, 4]]),
            new ConfusionMatrix(FashionNames, testCounts ?? [[3, 1, 0], [0, 4, 0], [1, 1, 2]]),
            []);

    private static SnapshotDocument Document(ExperimentResult result) => SnapshotDocument.From(result);

    [Fact]
    public void Text_parses_back_to_the_same_bits_and_renders_identically()
    {
        SnapshotDocument original = Document(Result());
        string text = original.Render();
        SnapshotDocument parsed = SnapshotDocument.Parse(text, "x.verified.txt");

        Assert.Equal(text, parsed.Render());
        Assert.Equal(BitConverter.DoubleToInt64Bits(1.2345678901234567), BitConverter.DoubleToInt64Bits(parsed.History[0].Loss));
        Assert.Equal(1e-7, parsed.History[1].Loss);
        Assert.True(double.IsNaN(parsed.History[1].ValidationLoss!.Value));
        Assert.Null(parsed.History[0].ValidationAccuracy);
        Assert.Equal(FashionNames, parsed.TestConfusion.ClassNames);
        Assert.Equal(2, parsed.TestConfusion[2, 2]);
        Assert.Equal(original.Run["settings"], parsed.Run["settings"]);
        Assert.Contains("\n  Ankle boot                  1        1           2\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" \n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Same_environment_compares_exactly_down_to_one_ulp()
    {
        SnapshotDocument approved = Document(Result());
        Assert.True(SnapshotComparison.Compare(approved, Document(Result()), Tolerances.Default).Matches);

        double nextUp = Math.BitIncrement(1.2345678901234567);
        SnapshotComparison comparison = SnapshotComparison.Compare(approved, Document(Result(firstLoss: nextUp)), Tolerances.Default);
        Assert.Equal(ComparisonMode.Exact, comparison.Mode);
        Difference difference = Assert.Single(comparison.Differences);
        Assert.Equal((DifferenceKind.Metric, "history epoch 1 loss", Metric.EpochLoss, 0.0), (difference.Kind, difference.Field, difference.Metric, difference.Allowed));
        Assert.Equal(("1.2345678901234567", nextUp.ToString("R", System.Globalization.CultureInfo.InvariantCulture)), (difference.Approved, difference.Received));
        Assert.Contains("exact match required", difference.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Another_cpu_model_compares_under_tolerances_and_says_why()
    {
        SnapshotDocument approved = Document(Result());
        const string other = "Intel Xeon (family 6 model 143 stepping 8), isa avx512";

        SnapshotComparison close = SnapshotComparison.Compare(approved, Document(Result(other, testAccuracy: 0.755)), Tolerances.Default);
        Assert.Equal(ComparisonMode.Tolerance, close.Mode);
        Assert.True(close.Matches, string.Join("\n", close.Differences));
        Assert.Contains("device_name", close.Describe(), StringComparison.Ordinal);
        Assert.Contains("Intel Xeon", close.ModeReason, StringComparison.Ordinal);

        SnapshotComparison far = SnapshotComparison.Compare(approved, Document(Result(other, testAccuracy: 0.70)), Tolerances.Default);
        Difference beyond = Assert.Single(far.Differences, d => d.Field == "final.test_accuracy");
        Assert.Equal((DifferenceKind.Metric, Metric.TestAccuracy, 0.01), (beyond.Kind, beyond.Metric, beyond.Allowed));
        Assert.Contains("tolerance TestAccuracy 0.01", beyond.Message, StringComparison.Ordinal);
        Assert.True(far.Differs("final.test_accuracy"));
        Assert.False(far.Differs("final.test_loss"));

        SnapshotComparison declared = SnapshotComparison.Compare(approved, Document(Result(other, testAccuracy: 0.70)), Tolerances.Default.With(Metric.TestAccuracy, 0.06));
        Assert.True(declared.Matches, string.Join("\n", declared.Differences));
    }

    [Fact]
    public void Confusion_cells_are_exact_under_a_matching_environment_and_a_share_of_examples_otherwise()
    {
        int[][] oneMoved = [[3, 1, 0], [0, 4, 0], [0, 1, 3]];
        SnapshotDocument approved = Document(Result());

        SnapshotComparison exact = SnapshotComparison.Compare(approved, Document(Result(testCounts: oneMoved)), Tolerances.Default);
        Assert.Contains(exact.Differences, d => d.Message.Contains("(Ankle boot as T-shirt/top) 1 -> 0", StringComparison.Ordinal));

        // One example of twelve is 8.3%: beyond the default 2%, within a declared 10%.
        SnapshotDocument elsewhere = Document(Result("another cpu", testCounts: oneMoved));
        Assert.Contains(SnapshotComparison.Compare(approved, elsewhere, Tolerances.Default).Differences, d => d.Message.StartsWith("confusion_test: 8.33%", StringComparison.Ordinal));
        Assert.True(SnapshotComparison.Compare(approved, elsewhere, Tolerances.Default.With(Metric.Confusion, 0.10)).Matches);
    }

    [Fact]
    public void A_changed_declaration_fails_even_on_another_machine()
    {
        SnapshotComparison comparison = SnapshotComparison.Compare(Document(Result()), Document(Result("another cpu", fingerprint: "fedcba9876543210")), Tolerances.Default);
        Assert.Contains(comparison.Differences, d => d is { Kind: DifferenceKind.Run, Field: "run.fingerprint", Received: "fedcba9876543210" } && d.Message.Contains("declaration changed", StringComparison.Ordinal));
    }

    [Fact]
    public void Verifier_writes_received_files_with_a_diff_and_cleans_them_up_on_a_match()
    {
        string folder = TestEnvironment.TempDirectory("snapshots");
        string received = SnapshotVerifier.ReceivedPath(folder, "fashion-tiny");

        Verification missing = SnapshotVerifier.Verify(Result(), folder, Tolerances.Default, "approve-command");
        Assert.False(missing.Passed);
        Assert.True(File.Exists(received));
        Assert.Contains("No approved snapshot", missing.Message, StringComparison.Ordinal);
        Assert.Contains("approve-command", missing.Message, StringComparison.Ordinal);

        File.Move(received, SnapshotVerifier.VerifiedPath(folder, "fashion-tiny"));
        Verification changed = SnapshotVerifier.Verify(Result(testAccuracy: 0.5), folder, Tolerances.Default, "approve-command");
        Assert.False(changed.Passed);
        Assert.Contains("-  test_accuracy: 0.75\n+  test_accuracy: 0.5\n", changed.Message, StringComparison.Ordinal);
        // A unified diff with file headers and a hunk header that says where the change is, two lines of context.
        string verifiedPath = SnapshotVerifier.VerifiedPath(folder, "fashion-tiny");
        Assert.Contains($"--- {verifiedPath}\n+++ {received}\n@@ -", changed.Message, StringComparison.Ordinal);
        int line = File.ReadAllText(verifiedPath).Split('\n').ToList().FindIndex(l => l == "  test_accuracy: 0.75") + 1;
        Assert.Contains($"@@ -{line - 2},5 +{line - 2},5 @@", changed.Message, StringComparison.Ordinal);
        Assert.Contains("compared exactly", changed.Message, StringComparison.Ordinal);
        Assert.Contains("test_accuracy: 0.5", File.ReadAllText(received), StringComparison.Ordinal);

        Verification same = SnapshotVerifier.Verify(Result(), folder, Tolerances.Default, "approve-command");
        Assert.True(same.Passed, same.Message);
        Assert.False(File.Exists(received));
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
    }

    [Fact]
    public void A_damaged_snapshot_names_file_and_line()
    {
        string text = Document(Result()).Render().Replace("test_loss: 0.6", "test_loss: zero point six", StringComparison.Ordinal);
        var error = Assert.Throws<SnapshotFormatException>(() => SnapshotDocument.Parse(text, "Snapshots/x.verified.txt"));
        int line = text.Split('\n').ToList().FindIndex(l => l.Contains("zero point six", StringComparison.Ordinal)) + 1;
        Assert.StartsWith($"Snapshots/x.verified.txt({line}): 'test_loss' is 'zero point six', not a number", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Approval_requires_an_identical_repeat()
    {
        string folder = TestEnvironment.TempDirectory("approval");
        string text = Document(Result()).Render();
        string received = SnapshotVerifier.ReceivedPath(folder, "fashion-tiny");
        File.WriteAllText(received, text);

        Approval refused = SnapshotApproval.Approve(received, _ => Document(Result(firstLoss: 1.25)).Render());
        Assert.False(refused.Approved);
        Assert.Contains("not deterministic", refused.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(received));
        Assert.False(File.Exists(refused.VerifiedPath));

        Approval approved = SnapshotApproval.Approve(received, document => Document(Result()).Render());
        Assert.True(approved.Approved, approved.Message);
        Assert.Equal(text, File.ReadAllText(approved.VerifiedPath));
        Assert.False(File.Exists(received));
        Assert.Equal([], SnapshotApproval.FindReceived([folder]));
    }

    [Fact]
    public void A_cpu_model_key_names_vendor_family_and_model()
    {
        Assert.Equal("intel-6-207", CpuModelSnapshots.Key("Intel(R) Xeon(R) Processor (family 6 model 207 stepping 2), isa default, ATEN_CPU_CAPABILITY=default"));
        Assert.Equal("amd-26-2", CpuModelSnapshots.Key("AMD EPYC (family 26 model 2 stepping 1), isa avx512"));
        Assert.Null(CpuModelSnapshots.Key("NVIDIA H200 (compute capability 9.0)"));
    }

    /// <summary>
    /// A CPU model that gives other bits gets its own approved snapshot only through `accept --cpu-model`; from then on
    /// that model is compared with it, exactly, and every other model still with the main snapshot.
    /// </summary>
    [Fact]
    public void A_snapshot_approved_for_one_cpu_model_is_used_on_that_model_only()
    {
        const string Portable = ", isa default, ATEN_CPU_CAPABILITY=default, MKL_CBWR=COMPATIBLE, DNNL_MAX_CPU_ISA=SSE41";
        const string Amd = "AMD EPYC (family 26 model 2 stepping 1)" + Portable;
        const string Intel = "Intel(R) Xeon(R) Processor (family 6 model 207 stepping 2)" + Portable;
        string folder = TestEnvironment.TempDirectory("cpu-model");
        File.WriteAllText(SnapshotVerifier.VerifiedPath(folder, "fashion-tiny"), Document(Result(Amd)).Render());

        // Another model's bits: the main snapshot fails, and the message says how to approve one for this model.
        Verification elsewhere = SnapshotVerifier.Verify(Result(Intel, firstLoss: 1.3), folder, Tolerances.Default, "accept");
        Assert.False(elsewhere.Passed);
        Assert.Equal(SnapshotVerifier.ReceivedPath(folder, "fashion-tiny"), elsewhere.ReceivedPath);
        Assert.Contains("accept --cpu-model", elsewhere.Message, StringComparison.Ordinal);

        Approval approval = SnapshotApproval.Approve(elsewhere.ReceivedPath, _ => Document(Result(Intel, firstLoss: 1.3)).Render(), cpuModel: true);
        Assert.True(approval.Approved, approval.Message);
        string variant = SnapshotVerifier.VerifiedPath(CpuModelSnapshots.Folder(folder, "intel-6-207"), "fashion-tiny");
        Assert.Equal(variant, approval.VerifiedPath);
        Assert.True(CpuModelSnapshots.IsVariant(variant));
        Assert.Equal(Document(Result(Amd)).Render(), File.ReadAllText(SnapshotVerifier.VerifiedPath(folder, "fashion-tiny")));

        Verification onIntel = SnapshotVerifier.Verify(Result(Intel, firstLoss: 1.3), folder, Tolerances.Default, "accept");
        Assert.True(onIntel.Passed, onIntel.Message);
        Assert.Equal(variant, onIntel.VerifiedPath);
        Assert.Equal(ComparisonMode.Exact, onIntel.Comparison!.Mode);
        Assert.True(SnapshotVerifier.Verify(Result(Amd), folder, Tolerances.Default, "accept").Passed);

        // On that model a change fails against its own snapshot, and the received file lands beside it for `accept`.
        Verification moved = SnapshotVerifier.Verify(Result(Intel, firstLoss: 1.31), folder, Tolerances.Default, "accept");
        Assert.False(moved.Passed);
        Assert.Equal(SnapshotVerifier.ReceivedPath(CpuModelSnapshots.Folder(folder, "intel-6-207"), "fashion-tiny"), moved.ReceivedPath);
        Assert.Contains(moved.ReceivedPath, SnapshotApproval.FindReceived([folder]));
    }

    [Fact]
    public void Tolerances_come_from_the_declaration_and_default_otherwise()
    {
        // As the generator emits a declaration's [Tolerance] attributes into ExperimentInfo.Tolerances.
        Tolerances tolerances = Tolerances.For([new ToleranceAttribute(Metric.TestAccuracy, 0.05), new ToleranceAttribute(Metric.Confusion, 0.2)]);
        Assert.Equal(0.05, tolerances[Metric.TestAccuracy]);
        Assert.Equal(0.2, tolerances[Metric.Confusion]);
        Assert.Equal(Tolerances.Default[Metric.TestLoss], tolerances[Metric.TestLoss]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ToleranceAttribute(Metric.TestLoss, -1));
        Assert.Contains("[Tolerance(TestLoss, ...)] is declared 2 times", Assert.Throws<ArgumentException>(() => Tolerances.For([new ToleranceAttribute(Metric.TestLoss, 0.1), new ToleranceAttribute(Metric.TestLoss, 0.2)])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_full_result_lower_than_its_completed_source_by_more_than_the_margin_fails_to_reproduce()
    {
        var completed = new ReportedAttribute(0.986) { Source = "notebook 3" };
        Assert.False(new Experiments.Runtime.Hosting.ReportedComparison(completed, 0.9761).Fails);
        Assert.True(new Experiments.Runtime.Hosting.ReportedComparison(completed, 0.9759).Fails);
        Assert.False(new Experiments.Runtime.Hosting.ReportedComparison(completed, 0.999).Fails);
        var wider = new ReportedAttribute(0.986) { Margin = 0.05 };
        Assert.False(new Experiments.Runtime.Hosting.ReportedComparison(wider, 0.94).Fails);

        // A figure not known to come from a finished run is shown, never enforced.
        var interrupted = new Experiments.Runtime.Hosting.ReportedComparison(new ReportedAttribute(0.986) { Completed = false, Source = "cell 12" }, 0.5);
        Assert.False(interrupted.Fails);
        Assert.Equal("source 98.60% (cell 12, not a completed run: not enforced), ours 50.00%, allowed margin 1.0 points", interrupted.Line);
        Assert.Equal("demo does not reproduce its source: source 98.60% (notebook 3), ours 97.59%, allowed margin 1.0 points",
            new Experiments.Runtime.Hosting.ReportedComparison(completed, 0.9759).Failure("demo"));
    }

    [Fact]
    public void Every_identity_field_is_written_once_from_its_record_and_decides_the_bits_as_declared()
    {
        // Distinct values, so that each property can be found among the fields by its value.
        var run = new RunDefinition
        {
            Fingerprint = "f", Dataset = "d", Seed = 11, Profile = "p", Settings = "s", Epochs = 12, TrainExamples = 13, ValidationExamples = 14, TestExamples = 15,
            Initialisers = "i", BatchNorm = "b", DatasetSha256 = "h",
        };
        RunEnvironment where = TestIdentities.Environment("cpu model") with { Threads = 16 };
        foreach ((object record, IReadOnlyList<IdentityField> fields) in new (object, IReadOnlyList<IdentityField>)[] { (run, run.Fields()), (where, where.Fields()) })
        {
            // A property left out of Fields() would be neither written nor compared: every one must be there.
            System.Reflection.PropertyInfo[] properties = record.GetType().GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance);
            Assert.Equal(properties.Length, fields.Count);
            Assert.All(properties, p => Assert.Contains(fields, f => Equals(f.Value, p.GetValue(record))));
            Assert.Equal(fields.Count, fields.Select(f => f.Key).Distinct().Count());
        }

        Assert.Equal(["backend", "device", "device_name", "threads", "torchsharp", "libtorch", "os", "deterministic", "tf32"], SnapshotDocument.BitKeys);
        Assert.Equal(["dotnet"], SnapshotDocument.InformationKeys);
        Assert.Equal(["allocator"], SnapshotDocument.OptionalInformationKeys);
        Assert.Equal(["dataset_sha256", "batch_norm"], SnapshotDocument.OptionalRunKeys);
        Assert.DoesNotContain("batch_norm", (run with { BatchNorm = null }).Fields().Select(f => f.Key));
        Assert.DoesNotContain("dataset_sha256", (run with { DatasetSha256 = null }).Fields().Select(f => f.Key));

        // The checkpoint key names every field that decides the bits, and nothing recorded only for the reader.
        string key = new RunIdentity("tiny", run, where).ResumeKey();
        Assert.Equal(1 + run.Fields().Count + SnapshotDocument.BitKeys.Count, key.Split('\n').Length);
        Assert.Contains("device_name cpu model", key, StringComparison.Ordinal);
        Assert.Contains("threads 16", key, StringComparison.Ordinal);
        Assert.DoesNotContain("dotnet", key, StringComparison.Ordinal);
        Assert.DoesNotContain("allocator", key, StringComparison.Ordinal);
    }
}
