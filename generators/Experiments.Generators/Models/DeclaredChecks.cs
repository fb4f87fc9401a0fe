namespace Experiments.Generators.Models;

/// <summary>A [Tolerance(Metric, absolute)] as written: the metric and the absolute tolerance.</summary>
public sealed record ToleranceSpec(Metric Metric, double Absolute);

/// <summary>A [SeedTolerance(Metric)] as written; a null property was not set, so the attribute's default applies.</summary>
public sealed record SeedToleranceSpec(Metric Metric, double? Level, Direction? Direction, bool? OnlyWorseFails);

/// <summary>A [Reported(testAccuracy)] as written; a null property was not set, so the attribute's default applies.</summary>
public sealed record ReportedSpec(double TestAccuracy, double? Margin, bool? Completed, string? Source);

/// <summary>
/// How a declaration's results are checked: its [Tolerance], [SeedTolerance] and [Reported] attributes, read once at
/// compile time and emitted into ExperimentInfo (every point of a sweep gets its declaration's). Not part of the
/// fingerprint: they decide how a result is judged, not what is trained.
/// </summary>
public sealed record DeclaredChecks(EquatableArray<ToleranceSpec> Tolerances, EquatableArray<SeedToleranceSpec> SeedTolerances, ReportedSpec? Reported)
{
    public static DeclaredChecks None { get; } = new(default, default, null);
}
