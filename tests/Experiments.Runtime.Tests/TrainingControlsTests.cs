using Experiments.Runtime.Data;
using Experiments.Runtime.Results;
using Experiments.Runtime.Training;
using TorchSharp;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>
/// Schedules, plateau reduction and early stopping: each formula and rule against values worked out by hand from
/// Keras' definitions, and real training through the runtime, interrupted and resumed, against the uninterrupted run.
/// </summary>
public sealed class TrainingControlsTests
{
    private static readonly RunOptions Small = new() { Threads = 2, TrainLimit = 2000, TestLimit = 500, Profile = "test" };

    private static TrainingSettings Settings(int epochs = 10, ValidationSpec? validation = null) =>
        new([784], OptimizerSettings.Sgd(0.1), Loss.CategoricalCrossEntropy, batchSize: 32, epochs, validation ?? ValidationSpec.TestSet, seed: 1);

    [Fact]
    public void Schedules_follow_their_formulas()
    {
        LearningRateSchedule exponential = LearningRateSchedule.Exponential(0.5, 10, staircase: false);
        Assert.Equal(0.1 * Math.Sqrt(0.5), exponential.Rate(0.1, 0, 5, 10, 100), 15);
        Assert.Equal(0.1 * Math.Pow(0.5, 1.5), exponential.Rate(0.1, 0, 15, 10, 100), 15);
        Assert.Equal(0.05, LearningRateSchedule.Exponential(0.5, 10, staircase: true).Rate(0.1, 0, 15, 10, 100), 15);

        LearningRateSchedule step = LearningRateSchedule.Step(3, 0.1);
        Assert.Equal([0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001], Enumerable.Range(0, 7).Select(e => Math.Round(step.Rate(0.1, e, 0, 10, 100), 15)));

        // Cosine over 3 epochs of 10 steps after 1 epoch of warmup: 20 decay steps from 0.1 down to alpha x 0.1.
        LearningRateSchedule cosine = LearningRateSchedule.Cosine(1, 0.1);
        Assert.Equal(0.0, cosine.Rate(0.1, 0, 0, 3, 10));
        Assert.Equal(0.05, cosine.Rate(0.1, 0, 5, 3, 10), 15);
        Assert.Equal(0.1, cosine.Rate(0.1, 1, 10, 3, 10), 15);
        Assert.Equal(0.1 * ((0.9 * 0.5) + 0.1), cosine.Rate(0.1, 2, 20, 3, 10), 15);
        Assert.Equal(0.01, cosine.Rate(0.1, 2, 30, 3, 10), 15);

        // Keras PiecewiseConstantDecay: a boundary step still has the value before it.
        LearningRateSchedule piecewise = LearningRateSchedule.Piecewise([10, 20], [0.1, 0.01, 0.001]);
        Assert.Equal([0.1, 0.1, 0.01, 0.01, 0.001], new long[] { 0, 10, 11, 20, 21 }.Select(s => piecewise.Rate(1, 0, s, 10, 100)));
    }

    [Fact]
    public void Bad_schedule_arguments_name_the_argument()
    {
        Assert.Contains("DecaySteps", Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Exponential(0.5, 0, false)).Message, StringComparison.Ordinal);
        Assert.Contains("3 values", Assert.Throws<ArgumentException>(() => LearningRateSchedule.Piecewise([10, 20], [0.1, 0.01])).Message, StringComparison.Ordinal);
        Assert.Contains("increasing", Assert.Throws<ArgumentException>(() => LearningRateSchedule.Piecewise([20, 10], [0.1, 0.01, 0.001])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Settings() with { Schedule = LearningRateSchedule.Step(2, 0.5), Plateau = new PlateauSettings(Metric.ValidationLoss, 0.5, 1, 0, 0, 0) });
        Assert.Contains("monitors an epoch metric", Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStoppingSettings(Metric.TestAccuracy, 0, 0, false, 0)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plateau_reduces_as_Keras_does_with_patience_and_cooldown()
    {
        // Worked by hand from Keras' ReduceLROnPlateau.on_epoch_end (factor 0.5, patience 2, min_delta 0, cooldown 1):
        // epoch 4 is the second without improvement (reduce, cooldown 1); epoch 5 ends the cooldown and, no longer in
        // it, waits 1; epoch 6 waits 2 (reduce); epoch 7 improves; epochs 8 and 9 wait 1 and 2 (reduce).
        double[] losses = [1.0, 0.9, 0.95, 0.93, 0.92, 0.91, 0.89, 0.95, 0.96];
        double[] expected = [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125];
        TrainingSettings settings = Settings() with { Plateau = new PlateauSettings(Metric.ValidationLoss, 0.5, 2, 0, 1, 0) };
        using var controls = new TrainingControls(settings, 100);
        using var model = torch.nn.Linear(2, 2);
        var rates = new List<double>();
        for (int e = 0; e < losses.Length; e++)
        {
            controls.EpochEnd(new EpochMetrics(e + 1, 1, 0.5, losses[e], 0.5, 0), model);
            rates.Add(controls.RateAt(e + 1, 0));
        }

        Assert.Equal(expected, rates.Select(r => Math.Round(r, 12)));
        Assert.Equal(new PlateauState(0.89, 0, 1, 0.0125), controls.Plateau! with { Best = Math.Round(controls.Plateau.Best, 12), LearningRate = Math.Round(controls.Plateau.LearningRate, 12) });
    }

    [Fact]
    public void Plateau_never_goes_below_its_floor_and_accuracy_improves_upwards()
    {
        TrainingSettings settings = Settings() with { Plateau = new PlateauSettings(Metric.ValidationAccuracy, 0.1, 0, 0, 0, 0.03) };
        using var controls = new TrainingControls(settings, 100);
        using var model = torch.nn.Linear(2, 2);
        controls.EpochEnd(new EpochMetrics(1, 1, 0.5, 1, 0.80, 0), model); // improves on -inf: no reduction
        controls.EpochEnd(new EpochMetrics(2, 1, 0.5, 1, 0.85, 0), model); // higher accuracy improves
        Assert.Equal(0.1, controls.RateAt(2, 0));
        controls.EpochEnd(new EpochMetrics(3, 1, 0.5, 1, 0.85, 0), model); // a tie is no improvement: 0.1 -> 0.03 (floor)
        Assert.Equal(0.03, controls.RateAt(3, 0));
        controls.EpochEnd(new EpochMetrics(4, 1, 0.5, 1, 0.84, 0), model);
        Assert.Equal(0.03, controls.RateAt(4, 0));
    }

    [Fact]
    public void Early_stopping_stops_at_its_patience_and_restores_the_earliest_best_epoch()
    {
        TrainingSettings settings = Settings() with { EarlyStopping = new EarlyStoppingSettings(Metric.ValidationLoss, 1, 0, true, 0) };
        using var controls = new TrainingControls(settings, 100);
        using var model = torch.nn.Linear(2, 2);
        double[] losses = [0.5, 0.4, 0.4];
        for (int e = 0; e < losses.Length; e++)
        {
            using (torch.no_grad())
            {
                model.weight!.fill_(e + 1);
            }

            controls.EpochEnd(new EpochMetrics(e + 1, 1, 0.5, losses[e], 0.5, 0), model);
        }

        // Epoch 3 ties epoch 2's 0.4: no improvement, the wait reaches the patience of 1.
        Assert.True(controls.Stopped);
        EarlyStoppingOutcome outcome = controls.Finish(model)!;
        Assert.Equal(new EarlyStoppingOutcome(3, 2, 0.4), outcome);
        Assert.Equal(2f, model.weight!.mean().item<float>());
        Assert.Equal("stopped after epoch 3, weights of epoch 2 restored", outcome.ToString());
    }

    [Fact]
    public void Best_weights_are_restored_when_the_run_ends_without_stopping_and_monitoring_waits_for_its_start()
    {
        TrainingSettings settings = Settings() with { EarlyStopping = new EarlyStoppingSettings(Metric.EpochLoss, 10, 0, true, 1) };
        using var controls = new TrainingControls(settings, 100);
        using var model = torch.nn.Linear(2, 2);
        double[] losses = [0.1, 0.5, 0.3, 0.4];
        for (int e = 0; e < losses.Length; e++)
        {
            using (torch.no_grad())
            {
                model.weight!.fill_(e + 1);
            }

            controls.EpochEnd(new EpochMetrics(e + 1, losses[e], 0.5, null, null, 0), model);
        }

        // Epoch 1 (0.1) is before StartFromEpoch 1 and not monitored; of epochs 2-4, epoch 3 is best.
        Assert.False(controls.Stopped);
        Assert.Equal(new EarlyStoppingOutcome(null, 3, 0.3), controls.Finish(model));
        Assert.Equal(3f, model.weight!.mean().item<float>());
    }

    /// <summary>Plateau and early stopping whose state matters after an interruption: nothing after epoch 1 improves by 10.</summary>
    private static TrainingSettings Stateful(TrainingSettings s) => s.With(epochs: 4) with
    {
        Plateau = new PlateauSettings(Metric.ValidationLoss, 0.5, 1, 10, 0, 0),
        EarlyStopping = new EarlyStoppingSettings(Metric.ValidationLoss, 2, 10, true, 0),
    };

    private static TrainingSettings Scheduled(TrainingSettings s) => s.With(epochs: 3) with { Schedule = LearningRateSchedule.Cosine(1, 0.1) };

    [Fact]
    public void Plateau_and_early_stopping_decide_in_real_training_and_record_it()
    {
        var experiment = new TinyCnn(OptimizerSettings.Sgd(0.05), ValidationSpec.Seeded(0.1));
        ExperimentResult result = ExperimentRunner.Run(experiment, Small with { Overrides = Stateful });
        Assert.Equal(3, result.History.Count);
        // The rate an epoch trained with; a reduction at its end shows in the next epoch (as Keras logs it).
        Assert.Equal([0.05, 0.05, 0.025], result.History.Select(e => e.LearningRate!.Value));
        Assert.Equal(3, result.EarlyStopping!.StoppedAfterEpoch);
        Assert.Equal(1, result.EarlyStopping.RestoredEpoch);
        Assert.Contains("reduce_lr_on_plateau(val_loss, factor=0.5, patience=1, min_delta=10, cooldown=0, min_lr=0), early_stopping(val_loss, patience=2, min_delta=10, restore_best_weights)", result.Identity.Run.Settings, StringComparison.Ordinal);

        // The restored weights are epoch 1's: evaluating them on the validation split gives epoch 1's validation loss.
        string snapshot = Snapshots.SnapshotDocument.From(result).Render();
        Assert.Contains("early_stopping: stopped after epoch 3, weights of epoch 1 restored", snapshot, StringComparison.Ordinal);
        Assert.Contains("learning_rate", snapshot, StringComparison.Ordinal);
        Assert.Equal(snapshot, Snapshots.SnapshotDocument.Parse(snapshot, "controls.verified.txt").Render());
        Assert.Contains("\"early_stopping\"", MetricsJson.Metrics(result), StringComparison.Ordinal);
    }

    [Fact]
    public void Scheduled_rates_are_recorded_per_epoch()
    {
        var experiment = new TinyCnn(OptimizerSettings.Adam(), ValidationSpec.None);
        ExperimentResult result = ExperimentRunner.Run(experiment, Small with { Overrides = Scheduled });
        int steps = (2000 + 63) / 64;
        double[] expected = Enumerable.Range(0, 3).Select(e => LearningRateSchedule.Cosine(1, 0.1).Rate(0.001, e, ((e + 1) * steps) - 1, 3, steps)).ToArray();
        Assert.Equal(expected, result.History.Select(e => e.LearningRate!.Value));
        Assert.Null(result.EarlyStopping);
    }

    /// <summary>
    /// A kernel regularizer enters what is minimised and what is reported, as in Keras: L2 0.05 on the dense kernel
    /// (about 0.7 at the end of the epoch: glorot weights summing to about 14 in squares) lifts the epoch's training loss
    /// and the test loss well above an unregularized run's, whose data losses it barely changes.
    /// </summary>
    [Fact]
    public void A_kernel_regularizer_is_added_to_the_training_and_the_evaluation_loss()
    {
        var experiment = new TinyCnn(OptimizerSettings.Sgd(0.05), ValidationSpec.None);
        ExperimentResult plain = ExperimentRunner.Run(experiment, Small with { Overrides = s => s.With(epochs: 1) });
        ExperimentResult regularized = ExperimentRunner.Run(experiment, Small with
        {
            Overrides = s => s.With(epochs: 1) with { Regularization = [new KernelPenalty("dense.weight", 0, 0.05)] },
        });
        Assert.True(regularized.History[0].Loss > plain.History[0].Loss + 0.3, $"epoch loss {regularized.History[0].Loss} against {plain.History[0].Loss} without the regularizer");
        Assert.True(regularized.Test.Loss > plain.Test.Loss + 0.3, $"test loss {regularized.Test.Loss} against {plain.Test.Loss} without the regularizer");
        Assert.Contains(", regularization dense.weight L1L2(0, 0.05)", regularized.Identity.Run.Settings, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => ExperimentRunner.Run(experiment, Small with
        {
            Overrides = s => s.With(epochs: 1) with { Regularization = [new KernelPenalty("dense_9.weight", 0, 0.05)] },
        }));
    }

    /// <summary>Every augmentation layer at once: each example's draws come from (seed, epoch, index), so a resumed epoch redraws the same.</summary>
    private static TrainingSettings Augmented(TrainingSettings s) => s.With(epochs: 3) with
    {
        Augmentation = [Augmentation.RandomFlip(Layers.FlipMode.Horizontal), Augmentation.RandomTranslation(0.1, 0.1), Augmentation.RandomRotation(0.05), Augmentation.RandomZoom(0.1)],
    };

    public static TheoryData<string> Controls => ["stateful", "scheduled", "augmented"];

    [Theory]
    [MemberData(nameof(Controls))]
    public void Interrupted_mid_epoch_or_after_an_epoch_the_resumed_run_equals_the_uninterrupted_one(string controls)
    {
        Func<TrainingSettings, TrainingSettings> overrides = controls switch { "stateful" => Stateful, "scheduled" => Scheduled, _ => Augmented };
        var experiment = new TinyCnn(OptimizerSettings.Sgd(0.05, momentum: 0.9), ValidationSpec.Seeded(0.1));
        RunOptions options = Small with { Overrides = overrides };
        string uninterrupted = MetricsJson.Metrics(ExperimentRunner.Run(experiment, options));

        // A stop requested mid-epoch 2 (what SIGINT does): the checkpoint holds that batch and the controls' state.
        string folder = TestEnvironment.TempDirectory("controls-" + controls);
        string stopped = Path.Combine(folder, "stopped.ckpt");
        using (var stop = new CancellationTokenSource())
        {
            Assert.Throws<RunInterruptedException>(() => ExperimentRunner.Run(
                experiment, options with { CheckpointPath = stopped, Stop = stop.Token }, onBatch: (epoch, batch, _) => { if (epoch == 2 && batch == 10) { stop.Cancel(); } }));
        }

        Assert.Equal((1, 10), (Checkpoint.ReadState(stopped).Epoch, Checkpoint.ReadState(stopped).NextBatch));
        Assert.Equal(uninterrupted, MetricsJson.Metrics(ExperimentRunner.Run(experiment, options with { CheckpointPath = stopped, Resume = true })));

        // A process killed during epoch 2 (SIGKILL saves nothing): what is left is epoch 1's boundary checkpoint.
        string killed = Path.Combine(folder, "killed.ckpt");
        Assert.Throws<InvalidOperationException>(() => ExperimentRunner.Run(
            experiment, options with { CheckpointPath = killed }, onEpoch: e => { if (e.Epoch == 2) { throw new InvalidOperationException("killed"); } }));
        CheckpointState left = Checkpoint.ReadState(killed);
        Assert.Equal((1, 0), (left.Epoch, left.NextBatch));
        Assert.Equal(controls == "stateful", left.Controls?.HasBestWeights == true);
        Assert.Equal(uninterrupted, MetricsJson.Metrics(ExperimentRunner.Run(experiment, options with { CheckpointPath = killed, Resume = true })));
        if (controls == "augmented")
        {
            // The augmentation is in effect (training differs without it) and is part of what was run.
            Assert.NotEqual(uninterrupted, MetricsJson.Metrics(ExperimentRunner.Run(experiment, Small with { Overrides = s => s.With(epochs: 3) })));
            Assert.Contains("augmentation RandomFlip(Horizontal) RandomTranslation(0.1, 0.1) RandomRotation(0.05) RandomZoom(0.1)", uninterrupted, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_trace_records_every_step_and_leaves_the_bits_alone()
    {
        var experiment = new TinyCnn(OptimizerSettings.Sgd(0.05), ValidationSpec.None);
        string plain = MetricsJson.Metrics(ExperimentRunner.Run(experiment, Small));
        string trace = Path.Combine(TestEnvironment.TempDirectory("trace"), "run.trace");
        Environment.SetEnvironmentVariable("EXPERIMENTS_TRACE", trace);
        try
        {
            Assert.Equal(plain, MetricsJson.Metrics(ExperimentRunner.Run(experiment, Small)));
        }
        finally
        {
            Environment.SetEnvironmentVariable("EXPERIMENTS_TRACE", null);
        }

        string[] steps = File.ReadAllLines(trace).Where(l => !l.StartsWith('#')).ToArray();
        int batches = (2000 + 63) / 64;
        Assert.Equal(2 * batches, steps.Length);
        Assert.Equal(["1 1", "2 " + batches], new[] { steps[0], steps[^1] }.Select(l => string.Join(' ', l.Split(' ')[..2])));
        Assert.Equal(2 * batches, steps.Select(l => l.Split(' ')[4]).Distinct().Count());
    }
}
