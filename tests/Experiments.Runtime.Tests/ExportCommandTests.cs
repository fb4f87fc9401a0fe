using System.Collections;
using Experiments.Runtime.Export;
using Experiments.Runtime.Snapshots;
using Experiments.Tests.Shared;
using TorchSharp.PyBridge;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Experiments.Runtime.Tests;

/// <summary>
/// `export` end to end on mnist-cnn-16-36's smoke result: ONNX Runtime and Debian's PyTorch reproduce the run's test
/// predictions from the exported files (its test confusion matrix, class for class), and what cannot be exported says so.
/// </summary>
public sealed class ExportCommandTests(ITestOutputHelper output)
{
    private static readonly Lazy<string> SmokeResult = new(() =>
    {
        string folder = TestEnvironment.TempDirectory("export-results");
        var run = ProcessDeterminismTests.Cli("run", "mnist-cnn-16-36", "--profile", "smoke", "--threads", "2", "--out", folder);
        Assert.True(run.ExitCode == 0, run.Output);
        return Path.Combine(folder, "mnist-cnn-16-36");
    });

    [Fact]
    public void Onnx_runtime_and_pytorch_reproduce_the_smoke_results_test_predictions_from_the_exported_files()
    {
        string exported = TestEnvironment.TempDirectory("export-all");
        var export = ProcessDeterminismTests.Cli("export", SmokeResult.Value, "--format", "all", "--out", exported, "--reference");
        Assert.True(export.ExitCode == 0, export.Output);
        Assert.Equal(
            [ModelExporter.OnnxFile, ModelExporter.StateDictFile, ModelExporter.PythonFile, ModelExporter.ReferenceFile],
            Directory.GetFiles(exported).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // reference.pt: the run's own test examples and the trained model's logits (export checked them against the run's confusion matrix).
        Hashtable reference;
        using (FileStream file = File.OpenRead(Path.Combine(exported, ModelExporter.ReferenceFile)))
        {
            reference = PyTorchUnpickler.UnpickleStateDict(file);
        }

        using var inputs = (Tensor)reference["inputs"]!;
        using var logits = (Tensor)reference["logits"]!;
        using var labels = (Tensor)reference["labels"]!;
        SnapshotDocument snapshot = SnapshotDocument.Parse(File.ReadAllText(Path.Combine(SmokeResult.Value, "snapshot.txt")), "snapshot.txt");
        Assert.Equal(snapshot.Run["test_examples"], inputs.shape[0].ToString(System.Globalization.CultureInfo.InvariantCulture));

        // ONNX Runtime on the exported graph: TorchSharp's logits, and so the run's test confusion matrix exactly.
        float[] expected = logits.data<float>().ToArray();
        float[] onnx = ExportChecks.OnnxRuntimeLogits(Path.Combine(exported, ModelExporter.OnnxFile), inputs);
        float difference = ExportChecks.LargestDifference(expected, onnx);
        output.WriteLine($"ONNX Runtime: {inputs.shape[0]} test images, largest logit difference {difference:G3}");
        Assert.True(difference <= ExportChecks.Tolerance(expected), $"ONNX Runtime's logits differ by {difference}");
        int classes = snapshot.TestConfusion.ClassNames.Count;
        long[] truth = labels.data<long>().ToArray();
        var confusion = new int[classes, classes];
        for (int i = 0; i < truth.Length; i++)
        {
            int predicted = Enumerable.Range(0, classes).MaxBy(c => onnx[(i * classes) + c]);
            confusion[truth[i], predicted]++;
        }

        for (int t = 0; t < classes; t++)
        {
            Assert.Equal(snapshot.TestConfusion.Rows[t], Enumerable.Range(0, classes).Select(p => confusion[t, p]));
        }

        // Debian's PyTorch on model.py and model.pt (and python3-onnx's checker on model.onnx), where installed; CI requires them.
        output.WriteLine(ExportChecks.PythonCheck(TestEnvironment.RepositoryRoot, exported) ?? "python3 with torch and onnx is not installed here: PyTorch not checked");
    }

    [Fact]
    public void One_format_writes_only_its_files_next_to_the_result_by_default()
    {
        var export = ProcessDeterminismTests.Cli("export", SmokeResult.Value, "--format", "onnx");
        Assert.True(export.ExitCode == 0, export.Output);
        string folder = Path.Combine(SmokeResult.Value, "export");
        Assert.Equal([ModelExporter.OnnxFile], Directory.GetFiles(folder).Select(Path.GetFileName));
        Assert.Contains($"wrote {Path.Combine(folder, ModelExporter.OnnxFile)}", export.Output, StringComparison.Ordinal);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void A_model_with_a_function_layer_or_a_folder_without_a_result_is_an_error_that_says_why()
    {
        string results = TestEnvironment.TempDirectory("export-function");
        var run = ProcessDeterminismTests.Cli(
            "run", "mnist-branches-2", "--profile", "tiny", "--threads", "1", "--out", results,
            "--set", "profiles.tiny.train_examples=200", "--set", "profiles.tiny.test_examples=50", "--set", "profiles.tiny.max_epochs=1");
        Assert.True(run.ExitCode == 0, run.Output);
        var export = ProcessDeterminismTests.Cli("export", Path.Combine(results, "mnist-branches-2"));
        Assert.Equal(2, export.ExitCode);
        Assert.Contains("mnist-branches-2 has a Function layer (global::Experiments.Catalog.BatchRange.Normalise)", export.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(results, "mnist-branches-2", "export")));

        var notResult = ProcessDeterminismTests.Cli("export", results);
        Assert.Equal(2, notResult.ExitCode);
        Assert.Contains("is not a result folder (no snapshot.txt)", notResult.Output, StringComparison.Ordinal);
    }
}
