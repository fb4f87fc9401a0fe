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
    /// Defaults for comparisons that cannot be exact (another backend, device or kernel set): a point of accuracy, three
    /// hundredths of loss, 2% of examples changing confusion cell. A choice, not a measured bound: across the CPU
    /// kernel sets measured on one CPU model, 11 of the 16 seed smoke runs stayed within them and the others did not
    /// (docs/reproducibility.md), which is why an experiment can widen them with [Tolerance] and why a snapshot can
    /// carry a measured kernel envelope instead.
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

    /// <summary>The defaults overridden by the experiment's declared [Tolerance] attributes (<see cref="ExperimentInfo.Tolerances"/>).</summary>
    public static Tolerances For(IExperiment experiment) => For(experiment.Info.Tolerances);

    /// <summary>The defaults overridden by <paramref name="declared"/>; a metric declared twice is an error (the generator reports it at compile time).</summary>
    public static Tolerances For(IReadOnlyList<ToleranceAttribute> declared)
    {
        var absolute = new Dictionary<Metric, double>(Default._absolute);
        foreach (ToleranceAttribute attribute in declared)
        {
            if (declared.Count(a => a.Metric == attribute.Metric) > 1)
            {
                throw new ArgumentException($"[Tolerance({attribute.Metric}, ...)] is declared {declared.Count(a => a.Metric == attribute.Metric)} times; declare each metric once.", nameof(declared));
            }

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
