using System.Globalization;

namespace Experiments.Runtime.Training;

/// <summary>A learning-rate schedule (see <see cref="Schedule"/> for each formula), a pure function of (epoch, step).</summary>
/// <remarks>
/// Every argument is required here: the defaults are the attributes' (Experiments.Abstractions), which the generator
/// reads and writes out in full, so they are defined once.
/// </remarks>
public sealed record LearningRateSchedule
{
    private LearningRateSchedule(Schedule kind) => Kind = kind;

    public Schedule Kind { get; }

    public double DecayRate { get; private init; }

    public int DecaySteps { get; private init; }

    public bool Staircase { get; private init; }

    public int StepEpochs { get; private init; }

    public double Gamma { get; private init; }

    public int WarmupEpochs { get; private init; }

    public double Alpha { get; private init; }

    public IReadOnlyList<int> Boundaries { get; private init; } = [];

    public IReadOnlyList<double> Values { get; private init; } = [];

    /// <summary>Keras ExponentialDecay.</summary>
    public static LearningRateSchedule Exponential(double decayRate, int decaySteps, bool staircase) =>
        decaySteps <= 0 ? throw new ArgumentOutOfRangeException(nameof(decaySteps), decaySteps, "Exponential schedule: DecaySteps must be at least 1.")
        : !(decayRate > 0 && decayRate <= 1) ? throw new ArgumentOutOfRangeException(nameof(decayRate), decayRate, "Exponential schedule: DecayRate lies in (0, 1], e.g. 0.96.")
        : new(Schedule.Exponential) { DecayRate = decayRate, DecaySteps = decaySteps, Staircase = staircase };

    /// <summary>PyTorch StepLR.</summary>
    public static LearningRateSchedule Step(int stepEpochs, double gamma) =>
        stepEpochs <= 0 ? throw new ArgumentOutOfRangeException(nameof(stepEpochs), stepEpochs, "Step schedule: StepEpochs must be at least 1.")
        : !(gamma > 0 && gamma <= 1) ? throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "Step schedule: Gamma lies in (0, 1], e.g. 0.1.")
        : new(Schedule.Step) { StepEpochs = stepEpochs, Gamma = gamma };

    /// <summary>Keras CosineDecay over the run, after an optional linear warmup from 0.</summary>
    public static LearningRateSchedule Cosine(int warmupEpochs, double alpha) =>
        warmupEpochs < 0 ? throw new ArgumentOutOfRangeException(nameof(warmupEpochs), warmupEpochs, "Cosine schedule: WarmupEpochs must be 0 or more.")
        : !(alpha >= 0 && alpha <= 1) ? throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "Cosine schedule: Alpha lies in [0, 1].")
        : new(Schedule.Cosine) { WarmupEpochs = warmupEpochs, Alpha = alpha };

    /// <summary>Keras PiecewiseConstantDecay.</summary>
    public static LearningRateSchedule Piecewise(IReadOnlyList<int> boundaries, IReadOnlyList<double> values)
    {
        if (boundaries.Count == 0 || values.Count != boundaries.Count + 1)
        {
            throw new ArgumentException($"Piecewise schedule: {boundaries.Count} boundaries need {boundaries.Count + 1} values, got {values.Count}; give at least one boundary.", nameof(values));
        }

        if (boundaries.Zip(boundaries.Skip(1)).Any(p => p.Second <= p.First) || boundaries[0] < 0)
        {
            throw new ArgumentException($"Piecewise schedule: boundaries [{string.Join(", ", boundaries)}] must be increasing step counts from 0.", nameof(boundaries));
        }

        if (values.Any(v => !(v > 0) || !double.IsFinite(v)))
        {
            throw new ArgumentException($"Piecewise schedule: values [{string.Join(", ", values.Select(Number))}] must be positive learning rates.", nameof(values));
        }

        return new(Schedule.Piecewise) { Boundaries = boundaries.ToArray(), Values = values.ToArray() };
    }

    /// <summary>The rate of the optimizer step <paramref name="step"/> (0-based over the run) in 0-based <paramref name="epoch"/>.</summary>
    /// <param name="baseRate">The optimizer's declared learning rate.</param>
    /// <param name="stepsPerEpoch">Batches per epoch; with <paramref name="epochs"/> it gives the run's length for the cosine schedule.</param>
    public double Rate(double baseRate, int epoch, long step, int epochs, int stepsPerEpoch)
    {
        switch (Kind)
        {
            case Schedule.Exponential:
                double exponent = (double)step / DecaySteps;
                return baseRate * Math.Pow(DecayRate, Staircase ? Math.Floor(exponent) : exponent);
            case Schedule.Step:
                return baseRate * Math.Pow(Gamma, epoch / StepEpochs);
            case Schedule.Cosine:
                long warmup = (long)WarmupEpochs * stepsPerEpoch;
                if (step < warmup)
                {
                    return baseRate * step / warmup;
                }

                long decay = Math.Max(1, (long)epochs * stepsPerEpoch - warmup);
                double progress = Math.Min(step - warmup, decay) / (double)decay;
                return baseRate * (((1 - Alpha) * 0.5 * (1 + Math.Cos(Math.PI * progress))) + Alpha);
            default:
                int piece = 0;
                while (piece < Boundaries.Count && step > Boundaries[piece])
                {
                    piece++;
                }

                return Values[piece];
        }
    }

    public override string ToString() => Kind switch
    {
        Schedule.Exponential => $"exponential(decay_rate={Number(DecayRate)}, decay_steps={DecaySteps}{(Staircase ? ", staircase" : "")})",
        Schedule.Step => $"step(step_epochs={StepEpochs}, gamma={Number(Gamma)})",
        Schedule.Cosine => $"cosine(warmup_epochs={WarmupEpochs}, alpha={Number(Alpha)})",
        _ => $"piecewise(boundaries=[{string.Join(" ", Boundaries)}], values=[{string.Join(" ", Values.Select(Number))}])",
    };

    internal static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>Keras ReduceLROnPlateau's arguments (see <see cref="ReduceLearningRateOnPlateauAttribute"/>).</summary>
public sealed record PlateauSettings
{
    public PlateauSettings(Metric monitor, double factor, int patience, double minDelta, int cooldown, double minLearningRate)
    {
        Monitor = EpochMetric.Check(monitor, "ReduceLearningRateOnPlateau");
        Factor = factor > 0 && factor < 1 ? factor : throw new ArgumentOutOfRangeException(nameof(factor), factor, "ReduceLearningRateOnPlateau: Factor lies strictly between 0 and 1, e.g. 0.5.");
        Patience = patience >= 0 ? patience : throw new ArgumentOutOfRangeException(nameof(patience), patience, "ReduceLearningRateOnPlateau: Patience must be 0 or more.");
        MinDelta = minDelta >= 0 && double.IsFinite(minDelta) ? minDelta : throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "ReduceLearningRateOnPlateau: MinDelta must be 0 or more.");
        Cooldown = cooldown >= 0 ? cooldown : throw new ArgumentOutOfRangeException(nameof(cooldown), cooldown, "ReduceLearningRateOnPlateau: Cooldown must be 0 or more.");
        MinLearningRate = minLearningRate >= 0 && double.IsFinite(minLearningRate) ? minLearningRate : throw new ArgumentOutOfRangeException(nameof(minLearningRate), minLearningRate, "ReduceLearningRateOnPlateau: MinLearningRate must be 0 or more.");
    }

    public Metric Monitor { get; }

    public double Factor { get; }

    public int Patience { get; }

    public double MinDelta { get; }

    public int Cooldown { get; }

    public double MinLearningRate { get; }

    public override string ToString() =>
        $"reduce_lr_on_plateau({EpochMetric.Key(Monitor)}, factor={LearningRateSchedule.Number(Factor)}, patience={Patience}, min_delta={LearningRateSchedule.Number(MinDelta)}, cooldown={Cooldown}, min_lr={LearningRateSchedule.Number(MinLearningRate)})";
}

/// <summary>Keras EarlyStopping's arguments (see <see cref="EarlyStoppingAttribute"/>).</summary>
public sealed record EarlyStoppingSettings
{
    public EarlyStoppingSettings(Metric monitor, int patience, double minDelta, bool restoreBestWeights, int startFromEpoch)
    {
        Monitor = EpochMetric.Check(monitor, "EarlyStopping");
        Patience = patience >= 0 ? patience : throw new ArgumentOutOfRangeException(nameof(patience), patience, "EarlyStopping: Patience must be 0 or more.");
        MinDelta = minDelta >= 0 && double.IsFinite(minDelta) ? minDelta : throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "EarlyStopping: MinDelta must be 0 or more.");
        RestoreBestWeights = restoreBestWeights;
        StartFromEpoch = startFromEpoch >= 0 ? startFromEpoch : throw new ArgumentOutOfRangeException(nameof(startFromEpoch), startFromEpoch, "EarlyStopping: StartFromEpoch must be 0 or more.");
    }

    public Metric Monitor { get; }

    public int Patience { get; }

    public double MinDelta { get; }

    public bool RestoreBestWeights { get; }

    public int StartFromEpoch { get; }

    public override string ToString() =>
        $"early_stopping({EpochMetric.Key(Monitor)}, patience={Patience}, min_delta={LearningRateSchedule.Number(MinDelta)}{(RestoreBestWeights ? ", restore_best_weights" : "")}{(StartFromEpoch > 0 ? $", start_from_epoch={StartFromEpoch}" : "")})";
}

/// <summary>The epoch metrics a control may monitor, with the history's names and Keras' mode (losses down, accuracies up).</summary>
public static class EpochMetric
{
    public static Metric Check(Metric metric, string control) => metric is Metric.ValidationLoss or Metric.ValidationAccuracy or Metric.EpochLoss or Metric.EpochAccuracy
        ? metric
        : throw new ArgumentOutOfRangeException(nameof(metric), metric, $"{control} monitors an epoch metric: Metric.ValidationLoss, Metric.ValidationAccuracy, Metric.EpochLoss or Metric.EpochAccuracy.");

    public static string Key(Metric metric) => metric switch
    {
        Metric.ValidationLoss => "val_loss",
        Metric.ValidationAccuracy => "val_accuracy",
        Metric.EpochAccuracy => "accuracy",
        _ => "loss",
    };

    public static bool HigherIsBetter(Metric metric) => metric is Metric.ValidationAccuracy or Metric.EpochAccuracy;

    /// <summary>The metric's value in an epoch's figures; null where the run has no validation data.</summary>
    public static double? Value(Metric metric, EpochMetrics epoch) => metric switch
    {
        Metric.ValidationLoss => epoch.ValidationLoss,
        Metric.ValidationAccuracy => epoch.ValidationAccuracy,
        Metric.EpochAccuracy => epoch.Accuracy,
        _ => epoch.Loss,
    };

    /// <summary>Keras' comparison: <paramref name="current"/> beats <paramref name="best"/> by more than <paramref name="minDelta"/> (ties do not).</summary>
    public static bool Improves(Metric metric, double current, double best, double minDelta) =>
        HigherIsBetter(metric) ? current - minDelta > best : current + minDelta < best;
}
