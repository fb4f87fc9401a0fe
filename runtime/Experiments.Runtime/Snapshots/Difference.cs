namespace Experiments.Runtime.Snapshots;

/// <summary>What part of a result a <see cref="Difference"/> is about.</summary>
public enum DifferenceKind
{
    /// <summary>A field of what was run (<c>run.fingerprint</c>, <c>run.settings</c>, the data): always compared exactly.</summary>
    Run,

    /// <summary>Which experiment it is, its seed list or its parameter count: always compared exactly.</summary>
    Identity,

    /// <summary>A number beyond what the comparison allows: a final metric, an epoch's, a seed's, or a seed distribution's.</summary>
    Metric,

    /// <summary>A confusion matrix whose moved cells are beyond what the comparison allows.</summary>
    Confusion,

    /// <summary>Something present on one side only or of another shape: history length, divergence, a validation value, class names, a seed's digest.</summary>
    Shape,

    /// <summary>Not a difference itself but a hint on the others (the closest approved kernel set).</summary>
    Note,
}

/// <summary>
/// One thing a comparison found beyond what it allows: which field (<c>final.test_accuracy</c>, <c>run.fingerprint</c>,
/// <c>history epoch 3 loss</c>, <c>confusion_test</c>, <c>seed 2 test_accuracy</c>), both sides as the snapshot shows them,
/// the metric and the allowed distance where one applies, and the readable line every view prints. Views select by
/// <see cref="Kind"/>, <see cref="Field"/> and <see cref="Metric"/>, never by parsing <see cref="Message"/>.
/// </summary>
/// <param name="Approved">The approved side as text ("(none)" when absent).</param>
/// <param name="Received">The received side as text ("(none)" when absent).</param>
public sealed record Difference(DifferenceKind Kind, string Field, string Approved, string Received, string Message)
{
    /// <summary>The metric whose tolerance or check judged it; null for run fields and shapes.</summary>
    public Metric? Metric { get; init; }

    /// <summary>How far it was allowed to move (0 under an exact comparison); null where no distance applies.</summary>
    public double? Allowed { get; init; }

    public override string ToString() => Message;
}
