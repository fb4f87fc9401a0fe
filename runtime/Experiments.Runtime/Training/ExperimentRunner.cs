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
        TorchRuntime.SetTf32(settings.Tf32);
        DatasetSpec spec = DatasetSpec.For(experiment.Info.Dataset);
        ImageDataset dataset = ImageDataset.Load(spec, new DatasetProvisioner(options.Data), log);

        DataPlan plan = DataPlan.Create(dataset.Train.Labels, dataset.Test.Labels, settings.Validation, settings.Seed, options.TrainLimit, options.TestLimit);
        ImageSet train = dataset.Train.Select(plan.Train);
        ImageSet test = dataset.Test.Select(plan.Test);
        ImageSet? validation = plan.ValidationIsTestSet ? test : plan.Validation.Length > 0 ? dataset.Train.Select(plan.Validation) : null;

        using var trainData = new DeviceData(train, settings.InputShape, settings.InputScale, device);
        using var testData = new DeviceData(test, settings.InputShape, settings.InputScale, device);
        using DeviceData? validationData = validation is null ? null
            : plan.ValidationIsTestSet ? null : new DeviceData(validation, settings.InputShape, settings.InputScale, device);
        DeviceData? validationView = plan.ValidationIsTestSet ? testData : validationData;

        // Separate streams: changing the split or the batch order leaves the initial weights alone, and vice versa.
        TorchRuntime.Seed(SeedStreams.TorchSeed(settings.Seed, SeedPurpose.WeightInit));
        using nn.Module<Tensor, Tensor> model = experiment.CreateModel();
        model.to(device);
        TorchRuntime.Seed(SeedStreams.TorchSeed(settings.Seed, SeedPurpose.Dropout));
        using KerasOptimizer optimizer = KerasOptimizer.Create(
            settings.Optimizer,
            ParameterLayout.Create(options.ParameterLayout, model.parameters(), device.type == DeviceType.CUDA ? RecurrentParameters(model) : null));

        int epochs = Math.Min(settings.Epochs, options.MaxEpochs ?? int.MaxValue);
        var history = new List<EpochMetrics>(epochs);
        string resumeKey = ResumeKey(experiment, settings, options, epochs, device);
        var position = new EpochPosition(0, 0, 0);
        int firstEpoch = 0;
        if (options.CheckpointPath is { } resumeFrom && options.Resume && File.Exists(resumeFrom))
        {
            CheckpointState state = Checkpoint.Load(resumeFrom, resumeKey, model, optimizer);
            history.AddRange(state.History);
            firstEpoch = state.Epoch;
            position = new EpochPosition(state.NextBatch, state.LossSum, state.Correct);
            log?.Invoke($"resuming {experiment.Info.Name} from {resumeFrom}: epoch {state.Epoch + 1}, batch {state.NextBatch + 1}");
        }

        Divergence? divergence = null;
        for (int epoch = firstEpoch; epoch < epochs && divergence is null; epoch++)
        {
            var clock = Stopwatch.StartNew();
            EpochOutcome outcome = TrainEpoch(model, optimizer, trainData, plan.EpochOrder(epoch), settings, epoch, device, onBatch, position, options.Stop);
            double trainSeconds = clock.Elapsed.TotalSeconds;
            position = new EpochPosition(0, 0, 0);
            if (outcome.Diverged is { } diverged)
            {
                divergence = diverged;
                if (!options.RecordDivergence)
                {
                    throw new TrainingDivergedException(experiment.Info.Name, diverged, settings, options.CheckpointPath);
                }

                log?.Invoke($"{experiment.Info.Name} diverged at epoch {diverged.Epoch}, batch {diverged.Batch} (loss {diverged.Loss}); recorded as the result");
            }
            else if (outcome.StoppedAt is { } stopped)
            {
                if (options.CheckpointPath is { } checkpointPath)
                {
                    Checkpoint.Save(checkpointPath, new CheckpointState(resumeKey, epoch, stopped.NextBatch, stopped.LossSum, stopped.Correct, optimizer.Iterations, history, Interrupted: true), model, optimizer);
                }

                throw new RunInterruptedException(
                    $"{experiment.Info.Name} stopped at epoch {epoch + 1}, batch {stopped.NextBatch} of {outcome.Batches}" +
                    (options.CheckpointPath is { } saved ? $"; saved {saved}: continue with run --resume" : "; no checkpoint was requested"));
            }

            Evaluated? val = validationView is null ? null : Evaluate(model, validationView, settings.Loss, options.EvaluationBatchSize);
            var metrics = new EpochMetrics(epoch + 1, outcome.Loss, outcome.Accuracy, val?.Evaluation.Loss, val?.Evaluation.Accuracy, clock.Elapsed.TotalSeconds)
            {
                TrainSeconds = trainSeconds,
            };
            history.Add(metrics);

            // Every tensor op leaves a small managed wrapper (disposed, but its memory is reclaimed only by a collection):
            // about 1.6 MB per epoch for seed 003's MLP. Collecting once per epoch (a few milliseconds) keeps the resident
            // set flat from the second epoch instead of letting the heap grow to the collector's budget first.
            GC.Collect();
            onEpoch?.Invoke(metrics);
            if (divergence is null && options.CheckpointPath is { } path)
            {
                Checkpoint.Save(path, new CheckpointState(resumeKey, epoch + 1, 0, 0, 0, optimizer.Iterations, history, Interrupted: false), model, optimizer);
            }
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
            Tf32 = settings.Tf32,
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
            test,
            divergence,
            WeightsHash(model));
    }

    /// <summary>Where an epoch starts (a resumed one mid-way) or stopped: the next batch and the running sums before it.</summary>
    private sealed record EpochPosition(int NextBatch, double LossSum, long Correct);

    private sealed record EpochOutcome(double Loss, double Accuracy, int Batches, EpochPosition? StoppedAt, Divergence? Diverged);

    private static EpochOutcome TrainEpoch(
        nn.Module<Tensor, Tensor> model, KerasOptimizer optimizer, DeviceData data, int[] order, TrainingSettings settings, int epoch, Device device,
        Action<int, int, int>? onBatch, EpochPosition start, CancellationToken stop)
    {
        model.train();
        int count = data.Count;

        // Sums stay on the device: no host synchronisation inside the epoch. Each batch's loss is kept (one small copy)
        // so that a NaN or infinity can be traced to its batch when the epoch's figures come back.
        using Tensor permutation = torch.tensor(order.Select(i => (long)i).ToArray(), torch.int64).to(device);
        using Tensor lossSum = torch.tensor(start.LossSum, torch.float64, device).reshape(1);
        using Tensor correct = torch.tensor(start.Correct, torch.int64, device).reshape(1);
        int batches = (count + settings.BatchSize - 1) / settings.BatchSize;
        using Tensor batchLosses = torch.zeros(batches, torch.float32, device);
        int batch = start.NextBatch;
        for (; batch < batches; batch++)
        {
            if (stop.IsCancellationRequested)
            {
                break;
            }

            using var scope = torch.NewDisposeScope();
            int first = batch * settings.BatchSize;
            int size = Math.Min(settings.BatchSize, count - first);
            Tensor index = permutation.narrow(0, first, size);
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
                batchLosses.narrow(0, batch, 1).copy_(loss.detach().reshape(1));
            }

            onBatch?.Invoke(epoch + 1, batch + 1, batches);
        }

        Divergence? diverged = FirstNonFinite(batchLosses, epoch);
        if (diverged is null && batch < batches)
        {
            return new EpochOutcome(double.NaN, double.NaN, batches, new EpochPosition(batch, lossSum.item<double>(), correct.item<long>()), null);
        }

        return new EpochOutcome(lossSum.item<double>() / count, (double)correct.item<long>() / count, batches, null, diverged);
    }

    /// <summary>The parameters of LSTM, GRU and RNN modules: on CUDA they stay in the buffer cuDNN uses without copying.</summary>
    private static HashSet<TorchSharp.Modules.Parameter> RecurrentParameters(nn.Module model) =>
        model.modules()
            .Where(m => m is TorchSharp.Modules.LSTM or TorchSharp.Modules.GRU or TorchSharp.Modules.RNN)
            .SelectMany(m => m.parameters())
            .ToHashSet(ParameterLayout.ReferenceComparer);

    private static string WeightsHash(nn.Module model)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach ((string name, Tensor tensor) in model.state_dict())
        {
            using Tensor onHost = tensor.detach().cpu().contiguous();
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(name));
            hash.AppendData(onHost.bytes);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>One synchronisation per epoch: the first batch whose loss is NaN or infinite, if any.</summary>
    private static Divergence? FirstNonFinite(Tensor batchLosses, int epoch)
    {
        using var scope = torch.NewDisposeScope();
        Tensor bad = torch.isfinite(batchLosses).logical_not();
        if (!bad.any().item<bool>())
        {
            return null;
        }

        int index = Array.IndexOf(bad.cpu().data<bool>().ToArray(), true);
        return new Divergence(epoch + 1, index + 1, batchLosses.cpu().data<float>()[index]);
    }

    private static string ResumeKey(IExperiment experiment, TrainingSettings settings, RunOptions options, int epochs, Device device) => string.Join('\n',
        $"experiment {experiment.Info.Name}",
        $"fingerprint {experiment.Info.Fingerprint}",
        $"settings {settings}",
        $"profile {options.Profile} train {options.TrainLimit?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "all"} test {options.TestLimit?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "all"} epochs {epochs}",
        $"device {device} threads {options.Threads}",
        $"backend {TorchRuntime.Backend} torchsharp {TorchRuntime.TorchSharpVersion} libtorch {TorchRuntime.LibTorchPackage}",
        $"deterministic {DeterministicAlgorithms.IsEnabled}");

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
