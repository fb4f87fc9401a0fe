namespace Experiments;

/// <summary>A figure a snapshot holds; tolerances are declared per metric.</summary>
public enum Metric
{
    /// <summary>Accuracy of the final model on the test set (a fraction, 0 to 1).</summary>
    TestAccuracy,

    /// <summary>Mean loss of the final model on the test set.</summary>
    TestLoss,

    /// <summary>Accuracy of the final model on the training set.</summary>
    TrainAccuracy,

    /// <summary>Mean loss of the final model on the training set.</summary>
    TrainLoss,

    /// <summary>Every epoch's running training loss in the history.</summary>
    EpochLoss,

    /// <summary>Every epoch's running training accuracy in the history.</summary>
    EpochAccuracy,

    /// <summary>Every epoch's validation loss in the history.</summary>
    ValidationLoss,

    /// <summary>Every epoch's validation accuracy in the history.</summary>
    ValidationAccuracy,

    /// <summary>
    /// Confusion matrices: the fraction of examples whose (true, predicted) cell changed, that is half the summed absolute
    /// cell differences divided by the number of examples.
    /// </summary>
    Confusion,
}

/// <summary>
/// How far a metric may move when a snapshot is checked on a machine whose identity differs from the approved one
/// (another CPU model, backend or library version). Under a matching identity every comparison is exact and tolerances
/// are not used. Absolute differences; put one attribute per metric on the experiment's class.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ToleranceAttribute : Attribute
{
    public ToleranceAttribute(Metric metric, double absolute)
    {
        if (!(absolute >= 0) || double.IsInfinity(absolute))
        {
            throw new ArgumentOutOfRangeException(nameof(absolute), absolute, $"The tolerance for {metric} must be a finite number >= 0.");
        }

        Metric = metric;
        Absolute = absolute;
    }

    public Metric Metric { get; }

    public double Absolute { get; }
}

/// <summary>
/// The test accuracy the experiment's source (a notebook, a paper) reported. A full-profile run is checked against it:
/// it may not be lower by more than <see cref="Margin"/>, when <see cref="Completed"/> says the figure comes from a run
/// with the declared settings.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ReportedAttribute : Attribute
{
    public ReportedAttribute(double testAccuracy)
    {
        if (!(testAccuracy is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(testAccuracy), testAccuracy, "A reported accuracy is a fraction between 0 and 1 (98.6% is 0.986).");
        }

        TestAccuracy = testAccuracy;
    }

    public double TestAccuracy { get; }

    /// <summary>How much lower the reproduced accuracy may be (absolute, default one percentage point).</summary>
    public double Margin { get; set; } = 0.01;

    /// <summary>False when the figure is not known to come from a finished run with these settings (interrupted training, stale outputs).</summary>
    public bool Completed { get; set; } = true;

    /// <summary>Where the figure is printed (notebook and cell), for the reader.</summary>
    public string Source { get; set; } = "";
}

/// <summary>Which way a metric improves.</summary>
public enum Direction
{
    /// <summary>The metric's own: accuracy higher, loss lower.</summary>
    Natural,

    HigherIsBetter,

    LowerIsBetter,
}

/// <summary>
/// How a multi-seed snapshot's final metric is compared when the run's identity differs from the approved one (another
/// CPU model, GPU, backend or library version). Under a matching identity every seed must repeat exactly; otherwise the
/// received seeds and the approved seeds are compared as two distributions: Welch's interval for the difference of
/// their means at <see cref="Level"/>, widened on both sides by the spread the approval measured under other CPU kernel
/// sets. The metric fails when the widened interval excludes zero: worse (and, unless <see cref="OnlyWorseFails"/>,
/// better) beyond the seed-to-seed noise. Without any of these attributes the four final metrics are checked at 99%.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SeedToleranceAttribute : Attribute
{
    private double _level = 0.99;

    public SeedToleranceAttribute(Metric metric)
    {
        if (metric is not (Metric.TestAccuracy or Metric.TestLoss or Metric.TrainAccuracy or Metric.TrainLoss))
        {
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "Seed distributions are compared on the final metrics: TestAccuracy, TestLoss, TrainAccuracy or TrainLoss.");
        }

        Metric = metric;
    }

    public Metric Metric { get; }

    /// <summary>The confidence level of the interval for the difference of means (default 0.99).</summary>
    public double Level
    {
        get => _level;
        set => _level = value is > 0 and < 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"The level for {Metric} is a fraction between 0 and 1, e.g. 0.99.");
    }

    /// <summary>Which way the metric improves; by default accuracy higher and loss lower.</summary>
    public Direction Direction { get; set; }

    /// <summary>True: a distribution better beyond the noise passes (and is reported); only a worse one fails.</summary>
    public bool OnlyWorseFails { get; set; }
}
