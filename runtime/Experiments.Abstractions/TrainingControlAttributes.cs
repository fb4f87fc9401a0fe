namespace Experiments;

/// <summary>How a <see cref="LearningRateScheduleAttribute"/> moves the learning rate.</summary>
public enum Schedule
{
    /// <summary>
    /// Keras ExponentialDecay: <c>lr * DecayRate ^ (step / DecaySteps)</c>, the exponent floored when
    /// <see cref="LearningRateScheduleAttribute.Staircase"/> is set. <c>step</c> counts optimizer steps from 0.
    /// </summary>
    Exponential,

    /// <summary>PyTorch StepLR: <c>lr * Gamma ^ floor(epoch / StepEpochs)</c>, epochs counted from 0.</summary>
    Step,

    /// <summary>
    /// Keras CosineDecay over the whole run: after an optional linear warmup from 0 to <c>lr</c> over
    /// <see cref="LearningRateScheduleAttribute.WarmupEpochs"/>, <c>lr * ((1 - Alpha) * (1 + cos(pi * s / D)) / 2 + Alpha)</c>
    /// with <c>s</c> the steps since the warmup and <c>D</c> the steps left in the run.
    /// </summary>
    Cosine,

    /// <summary>
    /// Keras PiecewiseConstantDecay: <c>Values[0]</c> while <c>step &lt;= Boundaries[0]</c>, <c>Values[i]</c> while
    /// <c>Boundaries[i - 1] &lt; step &lt;= Boundaries[i]</c>, the last value after the last boundary. The values are the
    /// rates themselves (the declared learning rate is not used).
    /// </summary>
    Piecewise,
}

/// <summary>
/// A learning-rate schedule, a pure function of (epoch, step) of the run, so a resumed run continues it exactly.
/// Every argument must be a compile-time constant; the generator checks them (EXP0013). A schedule and
/// <see cref="ReduceLearningRateOnPlateauAttribute"/> cannot both be declared (EXP0022), as in Keras.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class LearningRateScheduleAttribute(Schedule schedule) : Attribute
{
    public Schedule Schedule { get; } = schedule;

    /// <summary>Exponential: the factor per <see cref="DecaySteps"/> steps, in (0, 1].</summary>
    public double DecayRate { get; set; }

    /// <summary>Exponential: the steps over which the rate is multiplied by <see cref="DecayRate"/> once.</summary>
    public int DecaySteps { get; set; }

    /// <summary>Exponential: decay at whole multiples of <see cref="DecaySteps"/> only.</summary>
    public bool Staircase { get; set; }

    /// <summary>Step: the epochs between two multiplications by <see cref="Gamma"/>.</summary>
    public int StepEpochs { get; set; }

    /// <summary>Step: the factor applied every <see cref="StepEpochs"/> epochs (PyTorch's default 0.1).</summary>
    public double Gamma { get; set; } = 0.1;

    /// <summary>Cosine: epochs of linear warmup from 0 before the decay (0: none).</summary>
    public int WarmupEpochs { get; set; }

    /// <summary>Cosine: the final rate as a fraction of the declared one (Keras' alpha, default 0).</summary>
    public double Alpha { get; set; }

    /// <summary>Piecewise: increasing optimizer step counts where the rate changes.</summary>
    public int[] Boundaries { get; set; } = [];

    /// <summary>Piecewise: one rate more than <see cref="Boundaries"/>.</summary>
    public double[] Values { get; set; } = [];
}

/// <summary>
/// Keras ReduceLROnPlateau: after <see cref="Patience"/> epochs without an improvement of the monitored metric by more
/// than <see cref="MinDelta"/>, the learning rate is multiplied by <see cref="Factor"/> (not below
/// <see cref="MinLearningRate"/>), then <see cref="Cooldown"/> epochs pass before counting again. Losses improve
/// downwards, accuracies upwards. Its state (best value, wait, cooldown, current rate) is part of the checkpoint.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ReduceLearningRateOnPlateauAttribute(Metric monitor) : Attribute
{
    /// <summary>An epoch metric: <see cref="Metric.ValidationLoss"/>, <see cref="Metric.ValidationAccuracy"/>, <see cref="Metric.EpochLoss"/> or <see cref="Metric.EpochAccuracy"/>.</summary>
    public Metric Monitor { get; } = monitor;

    /// <summary>The factor the rate is multiplied by, in (0, 1) (Keras' default 0.1).</summary>
    public double Factor { get; set; } = 0.1;

    /// <summary>Epochs without improvement before the rate is reduced (Keras' default 10).</summary>
    public int Patience { get; set; } = 10;

    /// <summary>The least change that counts as an improvement (Keras' default 1e-4).</summary>
    public double MinDelta { get; set; } = 1e-4;

    /// <summary>Epochs after a reduction before waiting starts again.</summary>
    public int Cooldown { get; set; }

    /// <summary>The rate is never reduced below this.</summary>
    public double MinLearningRate { get; set; }
}

/// <summary>
/// Keras EarlyStopping: training stops once the monitored metric has not improved by more than
/// <see cref="MinDelta"/> for <see cref="Patience"/> epochs, counted from <see cref="StartFromEpoch"/>. With
/// <see cref="RestoreBestWeights"/> the final model has the weights of the best epoch (the earliest on ties) however
/// the run ends, stopped early or after its last epoch (Keras restores them only when it stopped the run itself).
/// Its state, best weights included, is part of the checkpoint; the result names the epoch it stopped after and the
/// epoch whose weights it kept.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class EarlyStoppingAttribute(Metric monitor) : Attribute
{
    /// <summary>An epoch metric: <see cref="Metric.ValidationLoss"/>, <see cref="Metric.ValidationAccuracy"/>, <see cref="Metric.EpochLoss"/> or <see cref="Metric.EpochAccuracy"/>.</summary>
    public Metric Monitor { get; } = monitor;

    /// <summary>Epochs without improvement before stopping (Keras' default 0: the first epoch without one stops).</summary>
    public int Patience { get; set; }

    /// <summary>The least change that counts as an improvement.</summary>
    public double MinDelta { get; set; }

    /// <summary>End with the weights of the best epoch.</summary>
    public bool RestoreBestWeights { get; set; }

    /// <summary>Epochs (counted from 0) before monitoring starts, for a warmup.</summary>
    public int StartFromEpoch { get; set; }
}
