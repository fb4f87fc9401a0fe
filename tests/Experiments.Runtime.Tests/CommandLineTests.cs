using System.Text.Json;
using Experiments.Runtime.Reports;
using Experiments.Runtime.Snapshots;
using SkiaSharp;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>The day-to-day commands end to end, through the real catalog executable, on a tiny profile of real data.</summary>
public sealed class CommandLineTests
{
    private static readonly Lazy<string> Results = new(() =>
    {
        string folder = TestEnvironment.TempDirectory("cli-results");
        var run = ProcessDeterminismTests.Cli(
            "run", "mnist-mlp-50-sgd", "fashion-mlp-bn", "--profile", "tiny", "--threads", "2", "--out", folder,
            "--set", "profiles.tiny.train_examples=300", "--set", "profiles.tiny.test_examples=120", "--set", "profiles.tiny.max_epochs=2");
        Assert.True(run.ExitCode == 0, run.Output);
        return folder;
    });

    [Fact]
    public void Run_writes_every_output_and_they_parse()
    {
        string folder = Path.Combine(Results.Value, "fashion-mlp-bn");
        using JsonDocument metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "metrics.json")));
        Assert.Equal(120, metrics.RootElement.GetProperty("test").GetProperty("examples").GetInt32());

        string[] history = File.ReadAllLines(Path.Combine(folder, "history.csv"));
        Assert.Equal("epoch,loss,accuracy,val_loss,val_accuracy,seconds", history[0]);
        Assert.Equal(3, history.Length);

        string[] confusion = File.ReadAllLines(Path.Combine(folder, "confusion-test.csv"));
        Assert.Equal(@"true \ predicted,T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot", confusion[0]);
        Assert.Equal(120, confusion.Skip(1).Sum(line => line.Split(',').Skip(1).Sum(int.Parse)));
        Assert.Equal(11, File.ReadAllLines(Path.Combine(folder, "confusion-train.csv")).Length);

        string report = File.ReadAllText(Path.Combine(folder, "report.md"));
        Assert.Contains("![Confusion matrix, test set](confusion-test.png)", report, StringComparison.Ordinal);
        Assert.Contains("88.40%", report, StringComparison.Ordinal);
        Assert.Contains("max_epochs: 2", File.ReadAllText(Path.Combine(folder, "config.yaml")), StringComparison.Ordinal);

        foreach ((string file, int width, int height) in new[] { ("accuracy.png", 800, 500), ("loss.png", 800, 500), ("confusion-test.png", 760, 760) })
        {
            using SKBitmap bitmap = SKBitmap.Decode(Path.Combine(folder, file));
            Assert.True(bitmap is not null, $"{file} does not decode as an image");
            Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        }

        foreach (string file in new[] { "misclassified.png", "samples.png" })
        {
            using SKBitmap bitmap = SKBitmap.Decode(Path.Combine(folder, file));
            Assert.True(bitmap is { Width: > 500, Height: > 500 }, $"{file}: {bitmap?.Width}x{bitmap?.Height}");
            // Dark digits or garments on white: a blank picture would be all one colour.
            Assert.True(bitmap!.Pixels.Select(p => p.Red).Distinct().Count() > 50, $"{file} looks blank");
        }
    }

    [Fact]
    public void Run_from_a_stored_configuration_repeats_the_result_exactly()
    {
        string replay = TestEnvironment.TempDirectory("cli-replay");
        var run = ProcessDeterminismTests.Cli("run", "--from", Path.Combine(Results.Value, "mnist-mlp-50-sgd", "config.yaml"), "--out", replay);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(
            File.ReadAllText(Path.Combine(Results.Value, "mnist-mlp-50-sgd", "snapshot.txt")),
            File.ReadAllText(Path.Combine(replay, "mnist-mlp-50-sgd", "snapshot.txt")));
    }

    [Fact]
    public void Diff_reports_a_planted_change_and_fails_beyond_tolerance()
    {
        string original = Path.Combine(Results.Value, "mnist-mlp-50-sgd");
        Assert.Equal(0, ProcessDeterminismTests.Cli("diff", original, original).ExitCode);

        string changed = Path.Combine(TestEnvironment.TempDirectory("cli-diff"), "mnist-mlp-50-sgd");
        Directory.CreateDirectory(changed);
        string snapshot = File.ReadAllText(Path.Combine(original, "snapshot.txt"));
        int at = snapshot.IndexOf("  test_accuracy: ", StringComparison.Ordinal);
        int end = snapshot.IndexOf('\n', at);
        File.WriteAllText(Path.Combine(changed, "snapshot.txt"), snapshot[..at] + "  test_accuracy: 0.05" + snapshot[end..]);

        var terminal = ProcessDeterminismTests.Cli("diff", original, changed);
        Assert.Equal(1, terminal.ExitCode);
        Assert.Contains("mnist-mlp-50-sgd: BEYOND TOLERANCE", terminal.Output, StringComparison.Ordinal);
        Assert.Contains("final.test_accuracy", terminal.Output, StringComparison.Ordinal);

        var markdown = ProcessDeterminismTests.Cli("diff", original, changed, "--md");
        Assert.Equal(1, markdown.ExitCode);
        Assert.Contains("| metric | better | A | B | change | tolerance | verdict |", markdown.Output, StringComparison.Ordinal);
        Assert.Contains("| test accuracy | ↑ higher | ", markdown.Output, StringComparison.Ordinal);
        Assert.Contains("| **beyond** |", markdown.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_writes_markdown_and_html_for_the_folder()
    {
        var report = ProcessDeterminismTests.Cli("report", Results.Value);
        Assert.True(report.ExitCode == 0, report.Output);
        string html = File.ReadAllText(Path.Combine(Results.Value, "report.html"));
        Assert.Contains("<table>", html, StringComparison.Ordinal);
        Assert.Contains("fashion-mlp-bn/confusion-test.png", html, StringComparison.Ordinal);
        Assert.Contains("| [mnist-mlp-50-sgd](mnist-mlp-50-sgd/report.md) |", File.ReadAllText(Path.Combine(Results.Value, "report.md")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run mnist-mlp-50-sgd --threads 0", "error: --threads 0: use at least 1.")]
    [InlineData("run mnist-mlp-50-sgd --seeds 0", "error: --seeds 0: use at least 1.")]
    [InlineData("run mnist-mlp-50-sgd --parallel -2", "error: --parallel -2: use at least 1.")]
    [InlineData("run mnist-mlp-50-sgd --unit-index -1", "error: --unit-index -1: use at least 0.")]
    [InlineData("run mnist-mlp-50-sgd --pin-kernels avx3", "error: --pin-kernels avx3: Unknown kernel set 'avx3'. Known: all, native,")]
    [InlineData("run mnist-mlp-50-sgd --kernels portable,avx3", "error: --kernels portable,avx3: Unknown kernel set 'avx3'.")]
    [InlineData("run mnist-mlp-50-sgd --shard 5/4", "error: --shard '5/4': a shard is i/N with 1 <= i <= N")]
    [InlineData("publish --backend gpu", "error: Argument 'gpu' not recognized. Must be one of:")]
    [InlineData("run mnist-mlp-50-sgd --thread 2", "error: No experiment matches '--thread'.")]
    public void Bad_arguments_are_usage_errors_that_name_the_option_before_anything_runs(string arguments, string message)
    {
        var result = ProcessDeterminismTests.Cli(arguments.Split(' '));
        Assert.True(result.ExitCode == 2, result.Output);
        Assert.Contains(message, result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("epoch", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sweep_is_listed_together_run_by_its_pattern_and_reported_as_a_table_and_a_plot()
    {
        var list = ProcessDeterminismTests.Cli("list");
        Assert.True(list.ExitCode == 0, list.Output);
        Assert.Contains("sweep mnist-branches-2-lr: 3 points over learning_rate (0.01, 0.05, 0.1); run them all with: run 'mnist-branches-2-lr@*'", list.Output, StringComparison.Ordinal);

        string folder = TestEnvironment.TempDirectory("cli-sweep");
        var run = ProcessDeterminismTests.Cli(
            "run", "mnist-branches-2-lr@*", "--profile", "tiny", "--threads", "2", "--out", folder, "--set", "experiments.mnist-branches-2-lr.batch_size=50",
            "--set", "profiles.tiny.train_examples=300", "--set", "profiles.tiny.test_examples=120", "--set", "profiles.tiny.max_epochs=1");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(
            ["mnist-branches-2-lr@learning_rate=0.01", "mnist-branches-2-lr@learning_rate=0.05", "mnist-branches-2-lr@learning_rate=0.1"],
            Directory.GetDirectories(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        // The swept value per point; the sweep's own configuration entry for every point.
        Assert.Contains("SGD(lr=0.1, momentum=0), CategoricalCrossEntropy, batch 50,", File.ReadAllText(Path.Combine(folder, "mnist-branches-2-lr@learning_rate=0.1", "snapshot.txt")), StringComparison.Ordinal);

        var report = ProcessDeterminismTests.Cli("report", folder);
        Assert.True(report.ExitCode == 0, report.Output);
        string markdown = File.ReadAllText(Path.Combine(folder, "report.md"));
        Assert.Contains("## Sweep mnist-branches-2-lr\n\n| learning_rate | test accuracy | test loss | train accuracy | epochs |\n|---|---:|---:|---:|---:|\n| 0.01 | [", markdown, StringComparison.Ordinal);
        Assert.Contains("](mnist-branches-2-lr@learning_rate=0.1/report.md) |", markdown, StringComparison.Ordinal);
        Assert.Contains("<img src=\"sweep-mnist-branches-2-lr.png\"", markdown, StringComparison.Ordinal);
        using SKBitmap plot = SKBitmap.Decode(Path.Combine(folder, "sweep-mnist-branches-2-lr.png"));
        Assert.True(plot is not null, "the sweep plot does not decode as an image");
        Assert.Equal((800, 500), (plot.Width, plot.Height));
    }

    [Fact]
    public void Several_seeds_give_seed_folders_equal_to_single_runs_an_aggregate_of_them_and_a_diff_with_a_verdict()
    {
        string[] tiny = ["--profile", "tiny", "--threads", "1", "--set", "profiles.tiny.train_examples=300", "--set", "profiles.tiny.test_examples=120", "--set", "profiles.tiny.max_epochs=2"];
        string sequential = TestEnvironment.TempDirectory("cli-seeds");
        var run = ProcessDeterminismTests.Cli(["run", "mnist-mlp-50-sgd", "--seeds", "3", "--out", sequential, .. tiny]);
        Assert.True(run.ExitCode == 0, run.Output);
        string root = Path.Combine(sequential, "mnist-mlp-50-sgd");

        // Seed 2 of the three is the plain --seed 2 run, byte for byte.
        string single = TestEnvironment.TempDirectory("cli-seed-2");
        var plain = ProcessDeterminismTests.Cli(["run", "mnist-mlp-50-sgd", "--seed", "2", "--out", single, .. tiny]);
        Assert.True(plain.ExitCode == 0, plain.Output);
        Assert.Equal(File.ReadAllText(Path.Combine(single, "mnist-mlp-50-sgd", "metrics.json")), File.ReadAllText(Path.Combine(root, "seed-2", "metrics.json")));

        // The aggregate's mean and SD are those of the three metrics.json files, computed here.
        double[] accuracies = new[] { 1, 2, 3 }.Select(k =>
        {
            using JsonDocument metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, $"seed-{k}", "metrics.json")));
            return metrics.RootElement.GetProperty("test").GetProperty("accuracy").GetDouble();
        }).ToArray();
        double mean = accuracies.Average();
        double sd = Math.Sqrt(accuracies.Sum(a => (a - mean) * (a - mean)) / 2);
        using (JsonDocument aggregate = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "aggregate.json"))))
        {
            JsonElement test = aggregate.RootElement.GetProperty("final").GetProperty("test_accuracy");
            Assert.Equal(3, test.GetProperty("n").GetInt32());
            Assert.Equal(mean, test.GetProperty("mean").GetDouble(), 12);
            Assert.Equal(sd, test.GetProperty("sd").GetDouble(), 12);
            Assert.Equal([1L, 2L, 3L], aggregate.RootElement.GetProperty("seeds").EnumerateArray().Select(e => e.GetInt64()));
            Assert.Equal(2, aggregate.RootElement.GetProperty("history").GetArrayLength());
        }

        // A reported figure's place: a number where the seeds spread, the string "+inf"/"-inf" where two equal seeds leave no spread.
        using (JsonDocument located = JsonDocument.Parse(SeedAggregate.Load(root, reported: 0.5).Json()))
        {
            JsonElement reported = located.RootElement.GetProperty("reported");
            Assert.Equal(0.5, reported.GetProperty("test_accuracy").GetDouble());
            Assert.Equal(JsonValueKind.Number, reported.GetProperty("z_score").ValueKind);
            Assert.Equal(2, reported.GetProperty("prediction_95").GetArrayLength());
        }

        string twins = TestEnvironment.TempDirectory("cli-seeds-twins");
        foreach (string seed in new[] { "seed-1", "seed-2" })
        {
            Directory.CreateDirectory(Path.Combine(twins, seed));
            File.Copy(Path.Combine(root, "seed-1", "snapshot.txt"), Path.Combine(twins, seed, "snapshot.txt"));
        }

        using (JsonDocument flat = JsonDocument.Parse(SeedAggregate.Load(twins, reported: accuracies[0] + 0.01).Json()))
        {
            Assert.Equal("+inf", flat.RootElement.GetProperty("reported").GetProperty("z_score").GetString());
            Assert.Equal(0, flat.RootElement.GetProperty("final").GetProperty("test_accuracy").GetProperty("sd").GetDouble());
        }

        foreach (string picture in new[] { "accuracy.png", "loss.png", "seeds.png" })
        {
            using SKBitmap bitmap = SKBitmap.Decode(Path.Combine(root, picture));
            Assert.True(bitmap is not null, $"{picture} does not decode as an image");
        }

        // Two worker processes: the same bits.
        string parallel = TestEnvironment.TempDirectory("cli-seeds-parallel");
        var workers = ProcessDeterminismTests.Cli(["run", "mnist-mlp-50-sgd", "--seeds", "3", "--parallel", "2", "--out", parallel, .. tiny]);
        Assert.True(workers.ExitCode == 0, workers.Output);
        Assert.Equal(File.ReadAllText(Path.Combine(root, "aggregate.json")), File.ReadAllText(Path.Combine(parallel, "mnist-mlp-50-sgd", "aggregate.json")));
        Assert.False(Directory.EnumerateDirectories(Path.Combine(parallel, "mnist-mlp-50-sgd"), ".workers-*").Any());

        // A diff of two multi-seed results: distributions with a verdict per metric (the same seeds: within noise).
        var diff = ProcessDeterminismTests.Cli("diff", root, Path.Combine(parallel, "mnist-mlp-50-sgd"), "--md");
        Assert.True(diff.ExitCode == 0, diff.Output);
        Assert.Contains("| metric | A: mean ± SD (n) | B: mean ± SD (n) | B - A [95% interval] | P(B better) | verdict |", diff.Output, StringComparison.Ordinal);
        Assert.Contains("| test accuracy |", diff.Output, StringComparison.Ordinal);
        Assert.Contains("| 0.50 | within noise |", diff.Output, StringComparison.Ordinal);

        // A profile's seeds: N does the same without --seeds.
        string byProfile = TestEnvironment.TempDirectory("cli-seeds-profile");
        var profileSeeds = ProcessDeterminismTests.Cli(["run", "mnist-mlp-50-sgd", "--out", byProfile, "--set", "profiles.tiny.seeds=2", .. tiny]);
        Assert.True(profileSeeds.ExitCode == 0, profileSeeds.Output);
        Assert.Equal(File.ReadAllText(Path.Combine(root, "seed-2", "metrics.json")), File.ReadAllText(Path.Combine(byProfile, "mnist-mlp-50-sgd", "seed-2", "metrics.json")));

        var report = ProcessDeterminismTests.Cli("report", sequential);
        Assert.True(report.ExitCode == 0, report.Output);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"| {mean * 100:F2}% ± {sd * 100:F2} (n = 3) |"), File.ReadAllText(Path.Combine(sequential, "report.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_multi_seed_snapshot_is_approved_only_after_every_seed_repeats_and_records_the_kernel_spread()
    {
        // accept repeats the run in a child process, which reads this folder's experiments.yaml for the tiny profile.
        string folder = TestEnvironment.TempDirectory("cli-seed-snapshot");
        File.WriteAllText(Path.Combine(folder, "experiments.yaml"), "profiles:\n  tiny:\n    train_examples: 300\n    test_examples: 120\n    max_epochs: 1\n");
        string snapshots = Directory.CreateDirectory(Path.Combine(folder, "snapshots")).FullName;
        string received = Path.Combine(snapshots, "mnist-mlp-50-sgd.seeds.received.txt");
        string results = Path.Combine(folder, "results");
        var run = ProcessDeterminismTests.CliIn(folder, "run", "mnist-mlp-50-sgd", "--seeds", "3", "--profile", "tiny", "--threads", "1", "--out", results, "--snapshot", received);
        Assert.True(run.ExitCode == 0, run.Output);

        // One row per seed: the final metrics and the digest of that seed folder's own snapshot.
        string receivedText = File.ReadAllText(received);
        SeedSnapshot document = SeedSnapshot.Parse(receivedText, received);
        Assert.Equal([1L, 2L, 3L], document.Seeds.Select(s => s.Seed));
        foreach (SeedRow row in document.Seeds)
        {
            string file = Path.Combine(results, "mnist-mlp-50-sgd", $"seed-{row.Seed}", "snapshot.txt");
            SnapshotDocument seed = SnapshotDocument.Parse(File.ReadAllText(file), file);
            Assert.Equal((seed.TestAccuracy, seed.TestLoss, seed.TrainAccuracy, seed.TrainLoss), (row.TestAccuracy, row.TestLoss, row.TrainAccuracy, row.TrainLoss));
            Assert.Equal(SeedSnapshot.Digest(seed), row.Digest);
        }

        // A received file that the repeat cannot reproduce is refused and left in place.
        string tampered = receivedText.Replace(document.Seeds[1].Digest, "0123456789abcdef", StringComparison.Ordinal);
        File.WriteAllText(received, tampered);
        var refused = ProcessDeterminismTests.CliIn(folder, "accept", snapshots, "--kernels", "none");
        Assert.True(refused.ExitCode == 1, refused.Output);
        Assert.Contains("seed 2 snapshot_sha256: approved 0123456789abcdef", refused.Output, StringComparison.Ordinal);
        Assert.Equal(tampered, File.ReadAllText(received));

        File.WriteAllText(received, receivedText);
        var accept = ProcessDeterminismTests.CliIn(folder, "accept", snapshots, "--kernels", "all");
        Assert.True(accept.ExitCode == 0, accept.Output);
        Assert.Contains("a repeat of the 3 seeds of 'mnist-mlp-50-sgd' (tiny) in a separate process was identical", accept.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(received));
        string verifiedPath = Path.Combine(snapshots, "mnist-mlp-50-sgd.seeds.verified.txt");
        SeedSnapshot approved = SeedSnapshot.Parse(File.ReadAllText(verifiedPath), verifiedPath);
        Assert.Equal(document.Seeds, approved.Seeds);

        // Every other kernel set this CPU runs repeated seed 1; the approved file keeps their final metrics.
        int otherSets = Native.KernelSet.Parse("all").Count(s => s.Variables.Count > 0);
        Assert.Equal(otherSets, approved.Kernels?.Runs.Count ?? 0);
        Assert.Equal(receivedText, (approved with { Kernels = null }).Render());
    }

    [Fact]
    public void Configuration_errors_name_file_line_and_column_and_exit_with_the_usage_code()
    {
        string folder = TestEnvironment.TempDirectory("cli-config");
        string config = Path.Combine(folder, "experiments.yaml");
        File.WriteAllText(config, "profiles:\n  tiny:\n    train_examples: 300\n    max_epochs: -2\n");
        var badValue = ProcessDeterminismTests.Cli("run", "mnist-mlp-50-sgd", "--config", config, "--out", folder);
        Assert.Equal(2, badValue.ExitCode);
        Assert.Contains($"{config}(4,17): max_epochs is '-2': use a whole number of at least 1", badValue.Output, StringComparison.Ordinal);

        File.WriteAllText(config, "experiments:\n  mnist-mlp-50-sgd:\n    learning_rat: 0.1\n");
        var unknownKey = ProcessDeterminismTests.Cli("run", "mnist-mlp-50-sgd", "--config", config, "--out", folder);
        Assert.Equal(2, unknownKey.ExitCode);
        Assert.Contains($"{config}(3,5): unknown key 'learning_rat' in experiment 'mnist-mlp-50-sgd'", unknownKey.Output, StringComparison.Ordinal);

        File.WriteAllText(config, "output: results\nprofiles: [\n");
        var malformed = ProcessDeterminismTests.Cli("run", "mnist-mlp-50-sgd", "--config", config, "--out", folder);
        Assert.Equal(2, malformed.ExitCode);
        Assert.Contains($"{config}(3,1): not valid YAML", malformed.Output, StringComparison.Ordinal);

        var badSet = ProcessDeterminismTests.Cli("run", "mnist-mlp-50-sgd", "--set", "experiments.mnist-mlp-50-sgd.batch_size=0", "--out", folder);
        Assert.Equal(2, badSet.ExitCode);
        Assert.Contains("--set 'experiments.mnist-mlp-50-sgd.batch_size=0': batch_size is '0'", badSet.Output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(folder));
    }

    [Fact]
    public void Report_of_a_folder_without_results_is_a_usage_error()
    {
        var report = ProcessDeterminismTests.Cli("report", TestEnvironment.TempDirectory("cli-empty"));
        Assert.Equal(2, report.ExitCode);
        Assert.Contains("holds no result folders", report.Output, StringComparison.Ordinal);
    }
}
