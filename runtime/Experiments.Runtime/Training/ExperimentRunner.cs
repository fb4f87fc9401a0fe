using System.Diagnostics;
using System.Runtime.InteropServices;
using Experiments.Runtime.Data;
using Experiments.Runtime.Native;
using Experiments.Runtime.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Runtime.Training;

/// <summary>Trains and evaluates an experiment deterministically, with Keras' semantics.</summary>
public static class ExperimentRunner
{
    /// <param name="onBatch">Called after every optimizer step with (epoch, batches done, batches in the epoch); no device synchronisation.</param>
    public static ExperimentResult Run(
        IExperiment experiment, RunOptions options, Action<EpochMetrics>? onEpoch = null, Action<string>? log = null, Action<int, int, int>? onBatch = null) =>
        Train(experiment, options, onEpoch, log, onBatch).Result;

    /// <summary>As <see cref="Run"/>, also returning the test examples the metrics refer to (for galleries of misclassified images).</summary>
    public static TrainedRun Train(
        IExperiment experiment, RunOptions options, Action<EpochMetrics>? onEpoch = null, Action<string>? log = null, Action<int, int, int>? onBatch = null)
    {
        TorchRuntime.Initialize(options.Threads);
        Device device = TorchRuntime.ResolveDevice(options.Device);
        TrainingSettings settings = options.Overrides is { } overrides ? overrides(experiment.Settings) : experiment.Settings;
        TorchRuntime.SetTf32(settings.Tf32);
        ImageDataset dataset = Datasets.Load(experiment.Info, options.Data, log);

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
        using IDisposable fill = AllocatorFill.For(model);
        TorchRuntime.Seed(SeedStreams.TorchSeed(settings.Seed, SeedPurpose.Dropout));
        using KerasOptimizer optimizer = KerasOptimizer.Create(
            settings.Optimizer,
            ParameterLayout.Create(options.ParameterLayout, model.parameters(), device.type == DeviceType.CUDA ? RecurrentParameters(model) : null));

        int epochs = Math.Min(settings.Epochs, options.MaxEpochs ?? int.MaxValue);
        using var controls = new TrainingControls(settings, (train.Count + settings.BatchSize - 1) / settings.BatchSize);
        var history = new List<EpochMetrics>(epochs);
        // What LibTorch this is, read from the loaded libraries once: the identity and the checkpoint key both name it.
        string libTorch = LoadedLibraries.Describe(TorchRuntime.LibTorchPackage, cuda: device.type == DeviceType.CUDA);
        bool settle = options.SettleBatchNorm && BatchNormStatistics.HasBatchNorm(model);
        RunIdentity identity = Identity(experiment, settings, options, dataset, epochs, train.Count, validation?.Count ?? 0, test.Count, device, libTorch, settle, ConvolutionLayout.SuffixFor(model, device));
        string resumeKey = identity.ResumeKey();
        var position = new EpochPosition(0, 0, 0);
        int firstEpoch = 0;
        if (options.CheckpointPath is { } resumeFrom && options.Resume && File.Exists(resumeFrom))
        {
            CheckpointState state = Checkpoint.Load(resumeFrom, resumeKey, model, optimizer, controls);
            history.AddRange(state.History);
            firstEpoch = state.Epoch;
            position = new EpochPosition(state.NextBatch, state.LossSum, state.Correct);
            log?.Invoke($"resuming {experiment.Info.Name} from {resumeFrom}: epoch {state.Epoch + 1}, batch {state.NextBatch + 1}");
        }

        using BatchTrace? trace = BatchTrace.FromEnvironment(); // opened once per run: one header, one file handle
        bool settled = false; // statistics re-estimated for the current weights (no optimizer step since)
        Divergence? divergence = null;
        for (int epoch = firstEpoch; epoch < epochs && divergence is null && !controls.Stopped; epoch++)
        {
            var clock = Stopwatch.StartNew();
            EpochOutcome outcome = TrainEpoch(model, optimizer, controls, trainData, plan.EpochOrder(epoch), settings, epoch, device, onBatch, position, options.Stop, trace);
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
                    Checkpoint.Save(checkpointPath, new CheckpointState(resumeKey, epoch, stopped.NextBatch, stopped.LossSum, stopped.Correct, optimizer.Iterations, history, Interrupted: true, controls.State), model, optimizer, controls);
                }

                throw new RunInterruptedException(
                    $"{experiment.Info.Name} stopped at epoch {epoch + 1}, batch {stopped.NextBatch} of {outcome.Batches}" +
                    (options.CheckpointPath is { } saved ? $"; saved {saved}: continue with run --resume" : "; no checkpoint was requested"));
            }

            settled = settle && validationView is not null;
            if (settled)
            {
                BatchNormStatistics.Settle(model, trainData, options.EvaluationBatchSize);
            }

            Evaluated? val = validationView is null ? null : Evaluate(model, validationView, settings, options.EvaluationBatchSize);
            var metrics = new EpochMetrics(epoch + 1, outcome.Loss, outcome.Accuracy, val?.Evaluation.Loss, val?.Evaluation.Accuracy, clock.Elapsed.TotalSeconds)
            {
                TrainSeconds = trainSeconds,
                LearningRate = controls.VariesRate ? optimizer.LearningRate : null,
            };
            history.Add(metrics);
            controls.EpochEnd(metrics, model);

            // Every tensor op leaves a small managed wrapper (disposed, but its memory is reclaimed only by a collection):
            // about 1.6 MB per epoch for seed 003's MLP. Collecting once per epoch (a few milliseconds) keeps the resident
            // set flat from the second epoch instead of letting the heap grow to the collector's budget first.
            GC.Collect();
            onEpoch?.Invoke(metrics);
            if (controls.Stopped)
            {
                log?.Invoke($"{experiment.Info.Name}: early stopping after epoch {metrics.Epoch}: {EpochMetric.Key(settings.EarlyStopping!.Monitor)} has not improved for {settings.EarlyStopping.Patience} epochs");
            }
            if (divergence is null && options.CheckpointPath is { } path)
            {
                Checkpoint.Save(path, new CheckpointState(resumeKey, epoch + 1, 0, 0, 0, optimizer.Iterations, history, Interrupted: false, controls.State), model, optimizer, controls);
            }
        }

        // Best weights (when declared) replace the last epoch's however the run ended; they were kept after that
        // epoch's statistics were settled, so settling again below is needed exactly when it was before.
        EarlyStoppingOutcome? stopping = controls.Finish(model);
        if (settle && !settled)
        {
            BatchNormStatistics.Settle(model, trainData, options.EvaluationBatchSize);
        }

        Evaluated trainEval = Evaluate(model, trainData, settings, options.EvaluationBatchSize);
        Evaluated testEval = Evaluate(model, testData, settings, options.EvaluationBatchSize);
        var misclassified = new List<Misclassified>();
        for (int i = 0; i < test.Count; i++)
        {
            if (testEval.Predictions[i] != test.Labels[i])
            {
                misclassified.Add(new Misclassified(i, test.Labels[i], testEval.Predictions[i]));
            }
        }

        long parameters = model.parameters().Sum(p => p.numel());
        var result = new ExperimentResult(
            identity,
            parameters,
            trainEval.Evaluation,
            testEval.Evaluation,
            history,
            ConfusionMatrix.From(dataset.ClassNames, train.Labels, trainEval.Predictions),
            ConfusionMatrix.From(dataset.ClassNames, test.Labels, testEval.Predictions),
            misclassified,
            divergence,
            TrainedWeights.Sha256(model))
        {
            EarlyStopping = stopping,
            // The model's last use: PyBridge reads each tensor's bytes, which only host memory gives, so a GPU model moves to the CPU.
            ModelWeights = TrainedWeights.Save(device.type == DeviceType.CPU ? model : model.cpu()),
        };
        return new TrainedRun(result, test);
    }

    /// <summary>Where an epoch starts (a resumed one mid-way) or stopped: the next batch and the running sums before it.</summary>
    private sealed record EpochPosition(int NextBatch, double LossSum, long Correct);

    private sealed record EpochOutcome(double Loss, double Accuracy, int Batches, EpochPosition? StoppedAt, Divergence? Diverged);

    private static EpochOutcome TrainEpoch(
        nn.Module<Tensor, Tensor> model, KerasOptimizer optimizer, TrainingControls controls, DeviceData data, int[] order, TrainingSettings settings, int epoch, Device device,
        Action<int, int, int>? onBatch, EpochPosition start, CancellationToken stop, BatchTrace? trace)
    {
        model.train();
        int count = data.Count;

        // No host synchronisation inside the epoch, and as few tensor calls per batch as possible besides the step
        // itself: each batch's loss and predictions are written into preallocated device tensors (one indexed write
        // each), and the epoch's figures are summed on the host from one copy of each at the end. The loss sum is
        // accumulated in batch order in double precision, as a device accumulator did before: size x loss is exact
        // in double (a float times an integer below 2^29), so the sum has the same bits whichever side computes it.
        using Tensor permutation = torch.tensor(order.Select(i => (long)i).ToArray(), torch.int64).to(device);
        int batches = (count + settings.BatchSize - 1) / settings.BatchSize;
        using Tensor batchLosses = torch.zeros(batches, torch.float32, device);
        using Tensor predictions = torch.zeros(count, torch.int64, device);
        IReadOnlyList<(KernelPenalty, Tensor)> penalties = KernelPenalty.Resolve(settings.Regularization, model);
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
            if (settings.Augmentation.Count > 0)
            {
                inputs = Augmentation.Apply(settings.Augmentation, inputs, settings.Seed, epoch, order.AsSpan(first, size));
            }

            Tensor targets = data.Targets.index_select(0, index);
            Tensor logits = model.call(inputs);
            Tensor loss = Losses.Mean(settings.Loss, logits, targets, settings.LabelSmoothing);
            if (KernelPenalty.Total(penalties) is { } penalty)
            {
                loss = loss + penalty;
            }

            optimizer.LearningRate = controls.RateAt(epoch, optimizer.Iterations);
            optimizer.ZeroGrad();
            loss.backward();
            AllocatorFill.AfterBackward();
            optimizer.Step();
            trace?.Step(epoch, batch, loss, optimizer.Parameters);
            using (torch.no_grad())
            {
                batchLosses[batch] = loss;
                predictions[TensorIndex.Slice(first, first + size)] = logits.argmax(1);
            }

            onBatch?.Invoke(epoch + 1, batch + 1, batches);
        }

        // The one synchronisation of the epoch.
        using Tensor lossesOnHost = batchLosses.cpu();
        using Tensor predictionsOnHost = predictions.cpu();
        ReadOnlySpan<float> losses = lossesOnHost.data<float>().ToArray();
        long[] predicted = predictionsOnHost.data<long>().ToArray();
        double lossSum = start.LossSum;
        long correct = start.Correct;
        for (int b = start.NextBatch; b < batch; b++)
        {
            int first = b * settings.BatchSize;
            int size = Math.Min(settings.BatchSize, count - first);
            lossSum += size * (double)losses[b];
            for (int p = first; p < first + size; p++)
            {
                correct += predicted[p] == data.Labels[order[p]] ? 1 : 0;
            }
        }

        Divergence? diverged = FirstNonFinite(losses, epoch);
        if (diverged is null && batch < batches)
        {
            return new EpochOutcome(double.NaN, double.NaN, batches, new EpochPosition(batch, lossSum, correct), null);
        }

        return new EpochOutcome(lossSum / count, (double)correct / count, batches, null, diverged);
    }

    /// <summary>The parameters of LSTM, GRU and RNN modules: on CUDA they stay in the buffer cuDNN uses without copying.</summary>
    private static HashSet<TorchSharp.Modules.Parameter> RecurrentParameters(nn.Module model) =>
        model.modules()
            .Where(m => m is TorchSharp.Modules.LSTM or TorchSharp.Modules.GRU or TorchSharp.Modules.RNN)
            .SelectMany(m => m.parameters())
            .ToHashSet(ParameterLayout.ReferenceComparer);

    /// <summary>The first batch whose loss is NaN or infinite, if any (batches not reached are zero).</summary>
    private static Divergence? FirstNonFinite(ReadOnlySpan<float> batchLosses, int epoch)
    {
        for (int i = 0; i < batchLosses.Length; i++)
        {
            if (!float.IsFinite(batchLosses[i]))
            {
                return new Divergence(epoch + 1, i + 1, batchLosses[i]);
            }
        }

        return null;
    }

    private static RunIdentity Identity(
        IExperiment experiment, TrainingSettings settings, RunOptions options, ImageDataset dataset, int epochs, int trainCount, int validationCount, int testCount,
        Device device, string libTorch, bool settle, string layout) => new(
        experiment.Info.Name,
        new RunDefinition
        {
            Fingerprint = experiment.Info.Fingerprint,
            Dataset = dataset.Key,
            DatasetSha256 = dataset.ContentSha256,
            Seed = settings.Seed,
            Profile = options.Profile,
            Settings = settings.ToString(),
            Epochs = epochs,
            TrainExamples = trainCount,
            ValidationExamples = validationCount,
            TestExamples = testCount,
            Initialisers = KerasInit.Scheme,
            BatchNorm = settle ? BatchNormStatistics.Description : null,
        },
        new RunEnvironment
        {
            Backend = TorchRuntime.Backend,
            Device = device.type == DeviceType.CPU ? "cpu" : $"cuda:{device.index}",
            DeviceName = device.type == DeviceType.CPU ? MachineInfo.CpuIdentity() + layout : LoadedLibraries.GpuModel(device.index) ?? $"CUDA device {device.index} (model unknown: no CUDA driver library answered)",
            Threads = options.Threads,
            TorchSharp = TorchRuntime.TorchSharpVersion,
            LibTorch = libTorch,
            Os = RuntimeInformation.RuntimeIdentifier,
            Deterministic = DeterministicAlgorithms.IsEnabled,
            Tf32 = settings.Tf32,
            DotNet = RuntimeInformation.FrameworkDescription,
            Allocator = AllocatorFill.Mode ?? "none",
        })
    {
        Summary = string.IsNullOrWhiteSpace(experiment.Info.Summary) ? null : experiment.Info.Summary,
    };

    private sealed record Evaluated(Evaluation Evaluation, int[] Predictions);

    /// <remarks>The loss is the training loss (label smoothing and kernel regularizers included, as Keras' evaluate computes it).</remarks>
    private static Evaluated Evaluate(nn.Module<Tensor, Tensor> model, DeviceData data, TrainingSettings settings, int batchSize)
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
            lossSum.add_(Losses.Sum(settings.Loss, logits, targets, settings.LabelSmoothing).to(torch.float64));
            predictions.narrow(0, start, size).copy_(logits.argmax(1));
        }

        using Tensor onHost = predictions.cpu();
        int[] predicted = onHost.data<long>().Select(p => (int)p).ToArray();
        int correct = 0;
        for (int i = 0; i < predicted.Length; i++)
        {
            correct += predicted[i] == data.Labels[i] ? 1 : 0;
        }

        // Keras' evaluate adds the regularization losses to every batch's mean: once to the mean over the set.
        using Tensor? penalty = KernelPenalty.Total(settings.Regularization, model);
        double loss = (lossSum.item<double>() / data.Count) + (penalty is null ? 0 : penalty.to(torch.float64).item<double>());
        return new Evaluated(new Evaluation(loss, (double)correct / data.Count, data.Count), predicted);
    }
}
