using Experiments.Runtime.Randomness;
using MathNet.Numerics.Distributions;

namespace Experiments.Runtime.Results;

/// <summary>A 95% (or other) interval and how it was made.</summary>
public sealed record Interval(double Low, double High, string Method)
{
    public bool Contains(double value) => value >= Low && value <= High;
}

/// <summary>One metric over seeds: n, mean, sample standard deviation, range, and two intervals for the mean.</summary>
public sealed record SeedSummary(int Count, double Mean, double StandardDeviation, double Min, double Max, Interval StudentT, Interval Bootstrap)
{
    /// <summary>"97.35% ± 0.12 (n = 10)" for fractions shown as percentages, else the plain numbers.</summary>
    public string Describe(bool percent) => percent
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Mean * 100:F2}% ± {StandardDeviation * 100:F2} (n = {Count})")
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Mean:F4} ± {StandardDeviation:F4} (n = {Count})");
}

/// <summary>Where a single reported figure lies in our distribution of single runs.</summary>
/// <param name="Percentile">Share of our runs below the figure (ties count half), 0 to 100.</param>
/// <param name="ZScore">(figure - mean) / SD; infinite when every seed gave the same value and the figure differs.</param>
/// <param name="Prediction">The 95% prediction interval of one more run: mean ± t(n-1) · SD · sqrt(1 + 1/n).</param>
/// <param name="Verdict">Inside the prediction interval, above it or below it.</param>
public sealed record ReportedVerdict(double Reported, double Percentile, double ZScore, Interval Prediction, ReportedPlacement Verdict);

/// <summary>Two sets of seeds compared on one metric (B against A).</summary>
/// <param name="Difference">Mean of B minus mean of A.</param>
/// <param name="Interval">Welch's 95% interval of the difference.</param>
/// <param name="ProbabilityOfImprovement">P(a run of B beats a run of A), over all pairs, ties half (as rliable defines it).</param>
/// <param name="Verdict">Better, worse or within noise (the interval contains 0), in the metric's direction.</param>
public sealed record SeedComparison(double Difference, Interval Interval, double ProbabilityOfImprovement, SeedVerdict Verdict);

/// <summary>
/// The statistics of results over seeds. Intervals: Student t on the mean (exact for normal data, the usual choice
/// for 3-10 seeds) and a percentile bootstrap of the mean (no normality assumption; with few seeds it is too narrow,
/// so the file states both). The bootstrap draws from a fixed-seed generator, so the same seeds give the same bits.
/// </summary>
public static class SeedStatistics
{
    /// <summary>The intervals' coverage (the texts say 95%).</summary>
    public const double Level = 0.95;
    public const int BootstrapResamples = 10_000;

    /// <summary>The bootstrap's generator: <see cref="Xoshiro256StarStar"/> from this seed, one <c>NextInt(n)</c> per draw, resample after resample.</summary>
    public const ulong BootstrapSeed = 0x5EED5;

    public static SeedSummary Summarise(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            throw new ArgumentException("No values to summarise.", nameof(values));
        }

        int n = values.Count;
        double mean = values.Average();
        double sd = n > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (n - 1)) : 0;
        Interval t = n > 1
            ? Around(mean, StudentQuantile(n - 1) * sd / Math.Sqrt(n), $"Student t, 95%, {n - 1} degrees of freedom")
            : new Interval(mean, mean, "Student t: needs two or more seeds");
        return new SeedSummary(n, mean, sd, values.Min(), values.Max(), t, BootstrapMean(values));
    }

    /// <summary>The percentile bootstrap interval of the mean: resample the seeds with replacement, take the 2.5% and 97.5% points of the means.</summary>
    public static Interval BootstrapMean(IReadOnlyList<double> values)
    {
        int n = values.Count;
        var random = new Xoshiro256StarStar(BootstrapSeed);
        var means = new double[BootstrapResamples];
        for (int b = 0; b < means.Length; b++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum += values[random.NextInt(n)];
            }

            means[b] = sum / n;
        }

        Array.Sort(means);
        double tail = (1 - Level) / 2;
        return new Interval(Quantile(means, tail), Quantile(means, 1 - tail), $"percentile bootstrap of the mean, 95%, {BootstrapResamples} resamples");
    }

    /// <summary>Where a reported single-run figure lies among our single runs.</summary>
    public static ReportedVerdict Locate(IReadOnlyList<double> values, double reported)
    {
        SeedSummary s = Summarise(values);
        double below = values.Count(v => v < reported) + (0.5 * values.Count(v => v == reported));
        double z = s.StandardDeviation > 0 ? (reported - s.Mean) / s.StandardDeviation : reported == s.Mean ? 0 : double.PositiveInfinity * Math.Sign(reported - s.Mean);
        Interval prediction = s.Count > 1
            ? Around(s.Mean, StudentQuantile(s.Count - 1) * s.StandardDeviation * Math.Sqrt(1 + (1.0 / s.Count)), $"prediction interval of one run, 95%")
            : new Interval(s.Mean, s.Mean, "prediction interval: needs two or more seeds");
        ReportedPlacement verdict = prediction.Contains(reported) ? ReportedPlacement.Within : reported > prediction.High ? ReportedPlacement.Above : ReportedPlacement.Below;
        return new ReportedVerdict(reported, 100 * below / values.Count, z, prediction, verdict);
    }

    /// <summary>B against A on one metric: Welch's interval for the difference of means, and the probability of improvement.</summary>
    /// <param name="level">The interval's coverage (default 95%).</param>
    public static SeedComparison Compare(IReadOnlyList<double> a, IReadOnlyList<double> b, bool higherIsBetter, double level = Level)
    {
        if (!(level is > 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, "An interval's level is a fraction between 0 and 1 (0.95 for 95%).");
        }

        SeedSummary sa = Summarise(a);
        SeedSummary sb = Summarise(b);
        double difference = sb.Mean - sa.Mean;
        double va = sa.StandardDeviation * sa.StandardDeviation / sa.Count;
        double vb = sb.StandardDeviation * sb.StandardDeviation / sb.Count;
        double se = Math.Sqrt(va + vb);
        Interval interval;
        if (sa.Count < 2 || sb.Count < 2)
        {
            interval = new Interval(difference, difference, "Welch: needs two or more seeds on each side");
        }
        else if (se == 0)
        {
            interval = new Interval(difference, difference, "Welch: no spread on either side");
        }
        else
        {
            // Welch-Satterthwaite degrees of freedom.
            double df = (va + vb) * (va + vb) / ((va * va / (sa.Count - 1)) + (vb * vb / (sb.Count - 1)));
            interval = Around(difference, StudentQuantile(df, level) * se, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Welch t, {level * 100:0.##}%, {df:F1} degrees of freedom"));
        }

        double wins = 0;
        foreach (double x in a)
        {
            foreach (double y in b)
            {
                wins += (higherIsBetter ? y > x : y < x) ? 1 : y == x ? 0.5 : 0;
            }
        }

        bool noise = interval.Contains(0) && !(interval.Low == interval.High && difference != 0);
        return new SeedComparison(difference, interval, wins / (a.Count * b.Count), Verdicts.Of(noise, difference, higherIsBetter));
    }

    /// <summary>The two-sided Student t critical value for <paramref name="level"/> (default <see cref="Level"/>).</summary>
    public static double StudentQuantile(double degreesOfFreedom, double level = Level) => StudentT.InvCDF(0, 1, degreesOfFreedom, 1 - ((1 - level) / 2));

    private static Interval Around(double centre, double half, string method) => new(centre - half, centre + half, method);

    /// <summary>Linear interpolation between order statistics (the definition numpy and R use by default).</summary>
    private static double Quantile(double[] sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int low = (int)Math.Floor(position);
        int high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + ((position - low) * (sorted[high] - sorted[low]));
    }
}
