namespace Experiments.Runtime.Results;

/// <summary>Two sets of seeds on one metric: B against A beyond noise, in the metric's direction, or not.</summary>
public enum SeedVerdict
{
    WithinNoise,
    Better,
    Worse,
}

/// <summary>Where a reported single-run figure lies against our distribution of single runs.</summary>
public enum ReportedPlacement
{
    Within,
    Above,
    Below,
}

/// <summary>One changed snapshot in a review, against its approval.</summary>
public enum ReviewVerdict
{
    /// <summary>Same environment, same bits.</summary>
    Exact,

    /// <summary>Another environment, inside the tolerances.</summary>
    WithinTolerance,

    /// <summary>Same environment, other bits: fails.</summary>
    Changed,

    /// <summary>Another environment, outside a tolerance: fails.</summary>
    BeyondTolerance,

    /// <summary>Multi-seed, another environment, the distributions agree.</summary>
    WithinNoise,

    /// <summary>Multi-seed, another environment, a distribution moved: fails.</summary>
    BeyondNoise,

    /// <summary>No approved snapshot before.</summary>
    New,

    /// <summary>The approved snapshot was deleted.</summary>
    Removed,
}

/// <summary>The one place each verdict's words are written, for reports, tables and aggregate.json alike.</summary>
public static class Verdicts
{
    public static string Text(this SeedVerdict verdict) => verdict switch
    {
        SeedVerdict.WithinNoise => "within noise",
        SeedVerdict.Better => "better",
        _ => "worse",
    };

    public static string Text(this ReportedPlacement placement) => placement switch
    {
        ReportedPlacement.Within => "within our distribution",
        ReportedPlacement.Above => "above our distribution",
        _ => "below our distribution",
    };

    public static string Text(this ReviewVerdict verdict) => verdict switch
    {
        ReviewVerdict.Exact => "exact",
        ReviewVerdict.WithinTolerance => "within tolerance",
        ReviewVerdict.Changed => "changed",
        ReviewVerdict.BeyondTolerance => "beyond tolerance",
        ReviewVerdict.WithinNoise => "within noise",
        ReviewVerdict.BeyondNoise => "beyond noise",
        ReviewVerdict.New => "new",
        _ => "removed",
    };

    /// <summary>Whether the snapshot fails its comparison (what a review counts as failing).</summary>
    public static bool Fails(this ReviewVerdict verdict) => verdict is ReviewVerdict.Changed or ReviewVerdict.BeyondTolerance or ReviewVerdict.BeyondNoise;

    /// <summary>The verdict of values compared in <paramref name="direction"/>: <paramref name="noise"/> when the interval holds 0.</summary>
    public static SeedVerdict Of(bool noise, double difference, bool higherIsBetter) =>
        noise ? SeedVerdict.WithinNoise : (difference > 0) == higherIsBetter ? SeedVerdict.Better : SeedVerdict.Worse;
}
