using System.Diagnostics;
using System.Runtime.InteropServices;
using Experiments.Runtime.Data;
using Experiments.Runtime.Native;
using Experiments.Runtime.Randomness;
using Experiments.Runtime.Results;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Runtime.Training;

/// <summary>Trains and evaluates an experiment deterministically, with Keras' semantics.</summary>
public static class ExperimentRunner
{
    /// <param name="onBatch">Called after every optimizer step with (epoch, batches done, batches in the epoch); no device synchronisation.</param>
    public static ExperimentResult Run(
        IExperiment experiment, RunOptions options, Action<EpochMetrics>? onEpoch = null, Action<string>? log = null, Action<int, int, int>? onBatch = null)
    {
        TorchRuntime.Initialize(options.Threads);
        Device device = TorchRuntime.ResolveDevice(options.Device);
        TrainingSettings settings = options.Overrides is { } overrides ? overrides(experiment.Settings) : experiment.Settings;
        DatasetSpec spec = DatasetSpec.For(experiment.Info.Dataset);
        ImageDataset dataset = ImageDataset.Load(spec, new DatasetProvisioner(options.Data), log);

        ImageSet trainFile = options.TrainLimit is { } trainLimit
            ? dataset.Train.Select(DataSplit.Subset(dataset.Train.Labels, trainLimit, settings.Seed, stream: 0))
            : dataset.Train;
        ImageSet test = options.TestLimit is { } testLimit
            ? dataset.Test.Select(DataSplit.Subset(dataset.Test.Labels, testLimit, settings.Seed, stream: 1))
            : dataset.Test;
        DataSplit split = DataSplit.Create(settings.Validation, trainFile.Labels, settings.Seed);
        ImageSet train = split.Train.Length == trainFile.Count ? trainFile : trainFile.Select(split.Train);
        ImageSet? validation = split.ValidationIsTestSet ? test : split.Validation.Length > 0 ? trainFile.Select(split.Validation) : null;

        using var trainData = new DeviceData(train, settings.InputShape, settings.InputScale, device);
        using var testData = new DeviceData(test, settings.InputShape, settings.InputScale, device);
        using DeviceData? validationData = validation is null ? null
            : split.ValidationIsTestSet ? null : new DeviceData(validation, settings.InputShape, settings.InputScale, device);
        DeviceData? validationView = split.ValidationIsTestSet ? testData : validationData;

        // Separate streams: changing the split or the batch order leaves the initial weights alone, and vice versa.
        TorchRuntime.Seed(SeedStreams.TorchSeed(settings.Seed, SeedPurpose.WeightInit));
        using nn.Module<Tensor, Tensor> model = experiment.CreateModel();
        model.to(device);
        TorchRuntime.Seed(SeedStreams.TorchSeed(settings.Seed, SeedPurpose.Dropout));
        using KerasOptimizer optimizer = KerasOptimizer.Create(settings.Optimizer, model.parameters());

        int epochs = Math.Min(settings.Epochs, options.MaxEpochs ?? int.MaxValue);
        var history = new List<EpochMetrics>(epochs);
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            (double loss, double accuracy) = TrainEpoch(model, optimizer, trainData, settings, epoch, device, onBatch);
            Evaluated? val = validationView is null ? null : Evaluate(model, validationView, settings.Loss, options.EvaluationBatchSize);
            var metrics = new EpochMetrics(epoch + 1, loss, accuracy, val?.Evaluation.Loss, val?.Evaluation.Accuracy, clock.Elapsed.TotalSeconds);
            history.Add(metrics);
            onEpoch?.Invoke(metrics);
        }

        Evaluated trainEval = Evaluate(model, trainData, settings.Loss, options.EvaluationBatchSize);
        Evaluated testEval = Evaluate(model, testData, settings.Loss, options.EvaluationBatchSize);
        var misclassified = new List<Misclassified>();
        for (int i = 0; i < test.Count; i++)
        {
            if (testEval.Predictions[i] != test.Labels[i])
            {
                misclassified.Add(new Misclassified(i, test.Labels[i], testEval.Predictions[i]));
            }
        }

        var identity = new RunIdentity
        {
            Experiment = experiment.Info.Name,
            Fingerprint = experiment.Info.Fingerprint,
            Dataset = spec.Key,
            Seed = settings.Seed,
            Profile = options.Profile,
            Settings = settings.ToString(),
            Epochs = epochs,
            TrainExamples = train.Count,
            ValidationExamples = validation?.Count ?? 0,
            TestExamples = test.Count,
            Device = device.type == DeviceType.CPU ? "cpu" : $"cuda:{device.index}",
            DeviceName = device.type == DeviceType.CPU ? MachineInfo.CpuIdentity() : $"CUDA device {device.index}",
            Threads = options.Threads,
            Backend = TorchRuntime.Backend,
            TorchSharp = TorchRuntime.TorchSharpVersion,
            LibTorch = TorchRuntime.LibTorchPackage,
            DotNet = RuntimeInformation.FrameworkDescription,
            Os = RuntimeInformation.RuntimeIdentifier,
            Deterministic = DeterministicAlgorithms.IsEnabled,
            Tf32 = false,
            Initialisers = KerasInit.Scheme,
        };

        long parameters = model.parameters().Sum(p => p.numel());
        return new ExperimentResult(
            identity,
            parameters,
            trainEval.Evaluation,
            testEval.Evaluation,
            history,
            ConfusionMatrix.From(spec.ClassNames, train.Labels, trainEval.Predictions),
            ConfusionMatrix.From(spec.ClassNames, test.Labels, testEval.Predictions),
            misclassified,
            test);
    }

    private static (double Loss, double Accuracy) TrainEpoch(
        nn.Module<Tensor, Tensor> model, KerasOptimizer optimizer, DeviceData data, TrainingSettings settings, int epoch, Device device, Action<int, int, int>? onBatch)
    {
        model.train();
        int count = data.Count;
        int[] order = SeedStreams.Create(settings.Seed, SeedPurpose.Shuffle, epoch).Permutation(count);

        // Sums stay on the device: no host synchronisation inside the epoch.
        using Tensor permutation = torch.tensor(order.Select(i => (long)i).ToArray(), torch.int64).to(device);
        using Tensor lossSum = torch.zeros(1, torch.float64, device);
        using Tensor correct = torch.zeros(1, torch.int64, device);
        int batches = (count + settings.BatchSize - 1) / settings.BatchSize;
        for (int start = 0; start < count; start += settings.BatchSize)
        {
            using var scope = torch.NewDisposeScope();
            int size = Math.Min(settings.BatchSize, count - start);
            Tensor index = permutation.narrow(0, start, size);
            Tensor inputs = data.Inputs.index_select(0, index);
            Tensor targets = data.Targets.index_select(0, index);
            Tensor logits = model.call(inputs);
            Tensor loss = Losses.Mean(settings.Loss, logits, targets);
            optimizer.ZeroGrad();
            loss.backward();
            optimizer.Step();
            using (torch.no_grad())
            {
                lossSum.add_(loss.detach().to(torch.float64), alpha: size);
                correct.add_(logits.argmax(1).eq(targets).sum());
            }

            onBatch?.Invoke(epoch + 1, (start / settings.BatchSize) + 1, batches);
        }

        return (lossSum.item<double>() / count, (double)correct.item<long>() / count);
    }

    private sealed record Evaluated(Evaluation Evaluation, int[] Predictions);

    private static Evaluated Evaluate(nn.Module<Tensor, Tensor> model, DeviceData data, LossKind lossKind, int batchSize)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        using Tensor lossSum = torch.zeros(1, torch.float64, data.Inputs.device);
        using Tensor predictions = torch.empty(data.Count, torch.int64, data.Inputs.device);
        for (int start = 0; start < data.Count; start += batchSize)
        {
            using var scope = torch.NewDisposeScope();
            int size = Math.Min(batchSize, data.Count - start);
            Tensor logits = model.call(data.Inputs.narrow(0, start, size));
            Tensor targets = data.Targets.narrow(0, start, size);
            lossSum.add_(Losses.Sum(lossKind, logits, targets).to(torch.float64));
            predictions.narrow(0, start, size).copy_(logits.argmax(1));
        }

        using Tensor onHost = predictions.cpu();
        int[] predicted = onHost.data<long>().Select(p => (int)p).ToArray();
        int correct = 0;
        for (int i = 0; i < predicted.Length; i++)
        {
            correct += predicted[i] == data.Labels[i] ? 1 : 0;
        }

        return new Evaluated(new Evaluation(lossSum.item<double>() / data.Count, (double)correct / data.Count, data.Count), predicted);
    }
}
