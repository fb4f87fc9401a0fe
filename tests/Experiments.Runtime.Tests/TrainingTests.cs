using System.Diagnostics;
using System.Text.Json;
using Experiments.Runtime.Data;
using Experiments.Runtime.Native;
using Experiments.Runtime.Results;
using Experiments.Runtime.Training;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>Real TorchSharp training on real MNIST through the runtime.</summary>
public sealed class TrainingTests
{
    private static readonly RunOptions Small = new() { Threads = 2, TrainLimit = 2000, TestLimit = 500, Profile = "test" };

    [Fact]
    public void Trains_a_hand_written_model_and_reports_consistent_metrics()
    {
        var experiment = new TinyCnn(OptimizerSettings.Adam(), ValidationSpec.KerasTail(0.25));
        ExperimentResult result = ExperimentRunner.Run(experiment, Small);

        Assert.Equal(2, result.History.Count);
        Assert.Equal(1500, result.Identity.Run.TrainExamples);
        Assert.Equal(500, result.Identity.Run.ValidationExamples);
        Assert.True(result.History[1].Loss < result.History[0].Loss, "training loss falls from epoch 1 to 2");
        Assert.InRange(result.Test.Accuracy, 0.6, 1.0);
        Assert.Equal(result.Test.Count, result.TestConfusion.Total);
        Assert.Equal(result.Test.Accuracy, (double)result.TestConfusion.Correct / result.TestConfusion.Total);
        Assert.Equal(result.TestConfusion.Total - result.TestConfusion.Correct, result.Misclassified.Count);
        Assert.Equal(1500, result.TrainConfusion.Total);
        Assert.Equal((4 * 9) + 4 + (4 * 13 * 13 * 10) + 10, result.Parameters);
        Assert.True(result.Identity.Environment.Deterministic);
    }

    [Fact]
    public void Same_seed_in_one_process_gives_identical_metrics_json()
    {
        var experiment = new TinyCnn(OptimizerSettings.Sgd(0.05, momentum: 0.9), ValidationSpec.Seeded(0.1));
        string first = MetricsJson.Metrics(ExperimentRunner.Run(experiment, Small));
        string second = MetricsJson.Metrics(ExperimentRunner.Run(experiment, Small));
        Assert.Equal(first, second);
    }

    [Fact]
    public void Metrics_json_has_the_documented_fields()
    {
        var experiment = new TinyCnn(OptimizerSettings.RmsProp(), ValidationSpec.TestSet, Loss.MeanSquaredError);
        ExperimentResult result = ExperimentRunner.Run(experiment, Small with { MaxEpochs = 1 });
        using JsonDocument json = JsonDocument.Parse(MetricsJson.Metrics(result));
        JsonElement root = json.RootElement;
        Assert.Equal(result.Test.Accuracy, root.GetProperty("test").GetProperty("accuracy").GetDouble());
        Assert.Equal(result.Train.Loss, root.GetProperty("train").GetProperty("loss").GetDouble());
        Assert.Equal(1, root.GetProperty("history").GetArrayLength());
        Assert.Equal(result.History[0].ValidationAccuracy, root.GetProperty("history")[0].GetProperty("val_accuracy").GetDouble());
        JsonElement test = root.GetProperty("confusion").GetProperty("test");
        Assert.Equal(10, test.GetArrayLength());
        Assert.All(test.EnumerateArray(), row => Assert.Equal(10, row.GetArrayLength()));
        Assert.Equal(500, test.EnumerateArray().SelectMany(r => r.EnumerateArray()).Sum(c => c.GetInt32()));
        Assert.Equal("mnist", root.GetProperty("identity").GetProperty("dataset").GetString());
        Assert.Equal(2, root.GetProperty("identity").GetProperty("threads").GetInt32());
    }

    [CudaFact]
    public void Cuda_and_auto_resolve_to_the_gpu_where_there_is_one()
    {
        TorchRuntime.Initialize(2);
        Assert.Equal(TorchSharp.DeviceType.CUDA, TorchRuntime.ResolveDevice("cuda").type);
        Assert.Equal(TorchSharp.DeviceType.CUDA, TorchRuntime.ResolveDevice("auto").type);
    }

    [WithoutCudaFact]
    public void Cuda_requested_without_cuda_is_a_clear_error()
    {
        TorchRuntime.Initialize(2);
        var e = Assert.Throws<DeviceUnavailableException>(() => TorchRuntime.ResolveDevice("cuda"));
        Assert.Contains("CUDA is not available", e.Message, StringComparison.Ordinal);
        Assert.Contains("--device cpu", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => TorchRuntime.ResolveDevice("tpu"));
        Assert.Equal(TorchSharp.DeviceType.CPU, TorchRuntime.ResolveDevice("CPU").type);
        Assert.Equal(TorchSharp.DeviceType.CPU, TorchRuntime.ResolveDevice("auto").type);
    }

    [Fact]
    public void Resident_set_stays_flat_from_the_second_epoch_on()
    {
        // Sampled inside each epoch too (every 20 batches): RSS, and the tensors alive on the training thread.
        var rss = new List<long>();
        var inside = new List<(int Epoch, int Batch, long Bytes, long Tensors)>();
        static long Resident()
        {
            using var self = Process.GetCurrentProcess();
            return self.WorkingSet64;
        }

        var experiment = new Experiments.Catalog.MnistMlp512RmsProp();
        ExperimentRunner.Run(experiment, Small with { TrainLimit = 6000, MaxEpochs = 5 }, _ => rss.Add(Resident()), onBatch: (epoch, done, _) =>
        {
            if (done % 20 == 0)
            {
                inside.Add((epoch, done, Resident(), TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount));
            }
        });

        // Without a dispose scope per batch RSS grew about 125 MB per 100 batches (measured on the MLP); an epoch here is 188 batches.
        double growth = (double)(rss[^1] - rss[1]) / rss[1];
        Assert.True(growth < 0.05, $"RSS per epoch (MB): {string.Join(", ", rss.Select(r => r >> 20))}; growth after epoch 2 {growth:P1}");
        foreach (var epoch in inside.Where(s => s.Epoch > 2).GroupBy(s => s.Epoch))
        {
            long first = epoch.First().Bytes, peak = epoch.Max(s => s.Bytes);
            Assert.True(peak - first < 24L << 20, $"epoch {epoch.Key}: RSS grew from {first >> 20} to {peak >> 20} MB within the epoch (batches {string.Join(", ", epoch.Select(s => $"{s.Batch}: {s.Bytes >> 20}"))})");

            // The collector would keep RSS flat even without the scope (finalizers free what a batch leaked), so the
            // scope itself is checked: every tensor a batch makes is disposed when the batch ends, not finalised later.
            Assert.True(epoch.Select(s => s.Tensors).Distinct().Count() == 1,
                $"epoch {epoch.Key}: live tensors on the training thread changed between batches ({string.Join(", ", epoch.Select(s => $"{s.Batch}: {s.Tensors}"))}): a batch leaves tensors to the finaliser");
        }
    }
}
