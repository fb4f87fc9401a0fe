using System.Globalization;
using System.Text.Json;
using Experiments.Runtime.Data;
using Experiments.Runtime.Results;
using Experiments.Runtime.Training;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>
/// A trained result used after its run: the weights it keeps (model.safetensors), and `predict` on PNG files written
/// from the very MNIST test images the run evaluated, which must give the run's own predictions.
/// </summary>
public sealed class PredictTests
{
    private const int TestExamples = 60;

    private static readonly Lazy<string> Result = new(() =>
    {
        string folder = TestEnvironment.TempDirectory("predict-results");
        var run = ProcessDeterminismTests.Cli(
            "run", "mnist-mlp-50-sgd", "--profile", "tiny", "--threads", "1", "--out", folder,
            "--set", "profiles.tiny.train_examples=600", "--set", $"profiles.tiny.test_examples={TestExamples}", "--set", "profiles.tiny.max_epochs=2");
        Assert.True(run.ExitCode == 0, run.Output);
        return Path.Combine(folder, "mnist-mlp-50-sgd");
    });

    [Fact]
    public void The_result_keeps_its_weights_and_their_hash_is_the_one_in_metrics_json()
    {
        string weights = Path.Combine(Result.Value, TrainedWeights.FileName);
        Assert.True(File.Exists(weights), "no model.safetensors in the result folder");

        var experiment = new Experiments.Catalog.MnistMlp50Sgd();
        Native.TorchRuntime.Initialize(threads: 1);
        using var model = experiment.CreateModel();
        TrainedWeights.Load(model, weights);
        using JsonDocument metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(Result.Value, "metrics.json")));
        Assert.Equal(metrics.RootElement.GetProperty("weights_sha256").GetString(), TrainedWeights.Sha256(model));
    }

    [Fact]
    public void Predict_gives_the_runs_own_predictions_for_its_test_images_as_png_files()
    {
        // The run's test examples: the same seeded subset the runner takes (DataPlan), from the pinned MNIST files.
        var experiment = new Experiments.Catalog.MnistMlp50Sgd();
        ImageDataset mnist = ImageDataset.Load(DatasetSpec.Mnist);
        DataPlan plan = DataPlan.Create(mnist.Train.Labels, mnist.Test.Labels, experiment.Settings.Validation, experiment.Settings.Seed, 600, TestExamples);
        ImageSet test = mnist.Test.Select(plan.Test);
        string images = TestEnvironment.TempDirectory("predict-images");
        var files = new List<string>();
        for (int i = 0; i < test.Count; i++)
        {
            string file = Path.Combine(images, $"{i:D2}.png");
            ImageFiles.WriteGray(file, test.Images.AsSpan(i * test.PixelsPerImage, test.PixelsPerImage), test.Rows, test.Cols);
            files.Add(file);
        }

        var predict = ProcessDeterminismTests.Cli(["predict", Result.Value, .. files, "--top", "2"]);
        Assert.True(predict.ExitCode == 0, predict.Output);
        string[] lines = predict.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains(".png: ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(test.Count, lines.Length);

        // misclassified.json: per true class, the test indices the model got wrong and what it predicted.
        using JsonDocument wrong = JsonDocument.Parse(File.ReadAllText(Path.Combine(Result.Value, "misclassified.json")));
        var predictedByRun = Enumerable.Range(0, test.Count).ToDictionary(i => i, i => test.Labels[i].ToString(CultureInfo.InvariantCulture));
        foreach (JsonProperty trueClass in wrong.RootElement.EnumerateObject())
        {
            foreach (JsonElement entry in trueClass.Value.EnumerateArray())
            {
                predictedByRun[entry.GetProperty("index").GetInt32()] = entry.GetProperty("predicted").GetString()!;
            }
        }

        for (int i = 0; i < test.Count; i++)
        {
            string line = lines[i];
            Assert.StartsWith(files[i] + ": ", line, StringComparison.Ordinal);
            string[] top = line[(files[i].Length + 2)..].Split(", ");
            Assert.Equal(2, top.Length);
            Assert.Equal(predictedByRun[i], top[0].Split(' ')[0]);
            double first = double.Parse(top[0].Split(' ')[1].TrimEnd('%'), CultureInfo.InvariantCulture);
            double second = double.Parse(top[1].Split(' ')[1].TrimEnd('%'), CultureInfo.InvariantCulture);
            Assert.True(first >= second && first <= 100 && second >= 0, line);
        }

        // At full precision, every class: the mean of -ln p(true class) is the test loss the run recorded
        // (categorical cross-entropy), and the share of right top classes its test accuracy.
        var json = ProcessDeterminismTests.Cli(["predict", Result.Value, .. files, "--top", "10", "--json"]);
        Assert.True(json.ExitCode == 0, json.Output);
        List<Prediction> predictions = JsonSerializer.Deserialize(json.Output[json.Output.IndexOf('[', StringComparison.Ordinal)..], ResultJsonContext.Default.ListPrediction)!;
        Assert.Equal(test.Count, predictions.Count);
        Assert.All(predictions, p => Assert.Equal(10, p.Top.Count));
        Assert.All(predictions, p => Assert.Equal(1.0, p.Top.Sum(c => c.Probability), 5));
        double loss = predictions.Select((p, i) => -Math.Log(p.Top.Single(c => c.Class == test.Labels[i].ToString(CultureInfo.InvariantCulture)).Probability)).Average();
        double accuracy = predictions.Where((p, i) => p.Top[0].Class == test.Labels[i].ToString(CultureInfo.InvariantCulture)).Count() / (double)test.Count;
        using JsonDocument metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(Result.Value, "metrics.json")));
        JsonElement recorded = metrics.RootElement.GetProperty("test");
        Assert.Equal(recorded.GetProperty("accuracy").GetDouble(), accuracy);
        double recordedLoss = recorded.GetProperty("loss").GetDouble();
        Assert.True(Math.Abs(loss - recordedLoss) <= 1e-5 * recordedLoss, $"mean -ln p(true class) {loss:R}, recorded test loss {recordedLoss:R}");
    }

    [Fact]
    public void An_image_of_the_wrong_size_or_no_image_is_a_data_error_naming_the_file()
    {
        string folder = TestEnvironment.TempDirectory("predict-bad");
        string small = Path.Combine(folder, "small.png");
        ImageFiles.WriteGray(small, new byte[14 * 14], 14, 14);
        string text = Path.Combine(folder, "notes.png");
        File.WriteAllText(text, "not an image");

        var wrongSize = ProcessDeterminismTests.Cli("predict", Result.Value, small);
        Assert.Equal(3, wrongSize.ExitCode);
        Assert.Contains($"{small} is 14x14 pixels; the model takes 28x28 images", wrongSize.Output, StringComparison.Ordinal);

        var notImage = ProcessDeterminismTests.Cli("predict", Result.Value, text);
        Assert.Equal(3, notImage.ExitCode);
        Assert.Contains($"{text} cannot be read as an image", notImage.Output, StringComparison.Ordinal);

        var noResult = ProcessDeterminismTests.Cli("predict", folder, small);
        Assert.Equal(2, noResult.ExitCode);
        Assert.Contains("is not a result folder (no snapshot.txt)", noResult.Output, StringComparison.Ordinal);
    }
}
