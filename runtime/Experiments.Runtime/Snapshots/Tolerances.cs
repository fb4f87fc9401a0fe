using System.Reflection;

namespace Experiments.Runtime.Snapshots;

/// <summary>
/// How far each metric may move when a snapshot is checked under a different environment. Declared per experiment with
/// <see cref="ToleranceAttribute"/>; metrics an experiment does not mention keep <see cref="Default"/>'s value.
/// </summary>
public sealed class Tolerances
{
    private readonly Dictionary<Metric, double> _absolute;

    private Tolerances(Dictionary<Metric, double> absolute) => _absolute = absolute;

    /// <summary>
    /// Defaults sized for the seed catalog: across CPU models and backends the smoke and full runs stayed within them
    /// (a point of accuracy, a few hundredths of loss, 2% of examples changing confusion cell).
    /// </summary>
    public static Tolerances Default { get; } = new(new Dictionary<Metric, double>
    {
        [Metric.TestAccuracy] = 0.01,
        [Metric.TestLoss] = 0.03,
        [Metric.TrainAccuracy] = 0.01,
        [Metric.TrainLoss] = 0.03,
        [Metric.EpochLoss] = 0.03,
        [Metric.EpochAccuracy] = 0.01,
        [Metric.ValidationLoss] = 0.03,
        [Metric.ValidationAccuracy] = 0.01,
        [Metric.Confusion] = 0.02,
    });

    public double this[Metric metric] => _absolute[metric];

    /// <summary>
    /// The defaults overridden by the [Tolerance] attributes on the experiment's class; a sweep point (a generated
    /// class nested in the sweep's declaration) takes those of its declaration.
    /// </summary>
    public static Tolerances For(IExperiment experiment) => For(DeclaringClass(experiment));

    /// <summary>The class whose attributes declare an experiment's checks: a sweep point's (generated, nested) class defers to its sweep's.</summary>
    internal static Type DeclaringClass(IExperiment experiment) =>
        experiment.Info.Sweep.Length > 0 && experiment.GetType().DeclaringType is { } declaration ? declaration : experiment.GetType();

    public static Tolerances For(Type experimentType)
    {
        var absolute = new Dictionary<Metric, double>(Default._absolute);
        foreach (ToleranceAttribute attribute in experimentType.GetCustomAttributes<ToleranceAttribute>())
        {
            absolute[attribute.Metric] = attribute.Absolute;
        }

        return new Tolerances(absolute);
    }

    /// <summary>These tolerances with configuration values (experiments.NAME.tolerances in experiments.yaml) on top.</summary>
    public Tolerances With(IReadOnlyDictionary<Metric, double> overrides)
    {
        var absolute = new Dictionary<Metric, double>(_absolute);
        foreach ((Metric metric, double value) in overrides)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            absolute[metric] = value;
        }

        return new Tolerances(absolute);
    }

    public Tolerances With(Metric metric, double absolute)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(absolute);
        return new Tolerances(new Dictionary<Metric, double>(_absolute) { [metric] = absolute });
    }

    public override string ToString() => string.Join(", ", _absolute.Select(p => $"{p.Key} {p.Value:R}"));
}
