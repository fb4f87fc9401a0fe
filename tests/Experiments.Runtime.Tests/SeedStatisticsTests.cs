using Experiments.Runtime.Results;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>The statistics over seeds, against values computed here another way (numeric integration, hand counts).</summary>
public sealed class SeedStatisticsTests
{
    /// <summary>
    /// Student's t CDF by numeric integration, independent of the library: with x = sqrt(v) tan(theta) the density
    /// becomes proportional to cos^(v-1)(theta), so CDF(x) = 1/2 + I(atan(x / sqrt v)) / (2 I(pi/2)) with
    /// I(a) = integral of cos^(v-1) from 0 to a (Simpson's rule).
    /// </summary>
    private static double TCdf(double x, double v)
    {
        static double Integral(double upper, double v)
        {
            const int steps = 20_000;
            double h = upper / steps;
            double sum = 0;
            for (int i = 0; i <= steps; i++)
            {
                double weight = i == 0 || i == steps ? 1 : i % 2 == 1 ? 4 : 2;
                sum += weight * Math.Pow(Math.Cos(i * h), v - 1);
            }

            return sum * h / 3;
        }

        return 0.5 + (Math.Sign(x) * Integral(Math.Atan(Math.Abs(x) / Math.Sqrt(v)), v) / (2 * Integral(Math.PI / 2, v)));
    }

    /// <summary>The 97.5% point by bisection on <see cref="TCdf"/>.</summary>
    private static double TQuantile(double v)
    {
        double low = 0, high = 100;
        for (int i = 0; i < 60; i++)
        {
            double middle = (low + high) / 2;
            (low, high) = TCdf(middle, v) < 0.975 ? (middle, high) : (low, middle);
        }

        return (low + high) / 2;
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.0)]
    [InlineData(4.0)]
    [InlineData(9.0)]
    [InlineData(5.5)]
    [InlineData(29.0)]
    public void The_t_quantile_matches_numeric_integration(double degreesOfFreedom)
    {
        Assert.Equal(TQuantile(degreesOfFreedom), SeedStatistics.StudentQuantile(degreesOfFreedom), 4);
    }

    [Fact]
    public void Summary_matches_an_independent_computation()
    {
        double[] values = [0.9122, 0.9087, 0.9140, 0.9101, 0.9135];
        // Mean and SD from sums of squares (another route than the two-pass sum of deviations).
        double n = values.Length;
        double mean = values.Sum() / n;
        double sd = Math.Sqrt((values.Sum(v => v * v) - (n * mean * mean)) / (n - 1));
        double half = TQuantile(n - 1) * sd / Math.Sqrt(n);

        SeedSummary summary = SeedStatistics.Summarise(values);
        Assert.Equal(5, summary.Count);
        Assert.Equal(mean, summary.Mean, 12);
        Assert.Equal(sd, summary.StandardDeviation, 9);
        Assert.Equal((0.9087, 0.9140), (summary.Min, summary.Max));
        Assert.Equal(mean - half, summary.StudentT.Low, 6);
        Assert.Equal(mean + half, summary.StudentT.High, 6);
    }

    [Fact]
    public void The_bootstrap_interval_is_repeatable_lies_in_the_range_and_agrees_with_t_for_many_seeds()
    {
        double[] few = [0.80, 0.85, 0.83];
        Interval first = SeedStatistics.BootstrapMean(few);
        Assert.Equal(first, SeedStatistics.BootstrapMean(few));
        Assert.InRange(first.Low, few.Min(), few.Average());
        Assert.InRange(first.High, few.Average(), few.Max());
        Assert.Equal(new Interval(0.5, 0.5, first.Method), SeedStatistics.BootstrapMean([0.5, 0.5, 0.5]) with { Method = first.Method });

        // With many values the bootstrap and t intervals of the mean agree closely (both approach mean ± 1.96 SE).
        double[] many = Enumerable.Range(0, 400).Select(i => Math.Sin(i * 12.9898) * 0.5).ToArray();
        SeedSummary summary = SeedStatistics.Summarise(many);
        double tWidth = summary.StudentT.High - summary.StudentT.Low;
        double bootWidth = summary.Bootstrap.High - summary.Bootstrap.Low;
        Assert.InRange(bootWidth / tWidth, 0.9, 1.1);
    }

    [Fact]
    public void The_bootstrap_equals_an_independent_resampling_with_the_same_generator()
    {
        // The same draws (the documented generator contract), counted per seed instead of summed in draw order, and
        // the percentiles by MathNet's R7 definition instead of our interpolation.
        double[] values = [0.9122, 0.9087, 0.9140, 0.9101, 0.9135, 0.9010, 0.9177];
        int n = values.Length;
        var random = new Experiments.Runtime.Randomness.Xoshiro256StarStar(SeedStatistics.BootstrapSeed);
        var means = new double[SeedStatistics.BootstrapResamples];
        var counts = new int[n];
        for (int b = 0; b < means.Length; b++)
        {
            Array.Clear(counts);
            for (int i = 0; i < n; i++)
            {
                counts[random.NextInt(n)]++;
            }

            means[b] = Enumerable.Range(0, n).Sum(i => counts[i] * values[i]) / n;
        }

        Interval ours = SeedStatistics.BootstrapMean(values);
        Assert.Equal(MathNet.Numerics.Statistics.Statistics.QuantileCustom(means, 0.025, MathNet.Numerics.Statistics.QuantileDefinition.R7), ours.Low, 12);
        Assert.Equal(MathNet.Numerics.Statistics.Statistics.QuantileCustom(means, 0.975, MathNet.Numerics.Statistics.QuantileDefinition.R7), ours.High, 12);
    }

    [Fact]
    public void The_bootstrap_interval_lands_on_the_exact_bootstrap_distributions_percentiles()
    {
        // Its known limit, independent of any generator: with 4 seeds there are 4^4 equally likely resamples, so the
        // bootstrap distribution of the mean is known exactly. Powers of two make every mean exact in binary.
        double[] values = [0.0625, 0.125, 0.25, 0.5];
        var exact = new List<double>();
        for (int k = 0; k < 256; k++)
        {
            exact.Add((values[k & 3] + values[(k >> 2) & 3] + values[(k >> 4) & 3] + values[(k >> 6) & 3]) / 4);
        }

        double Atom(double level)
        {
            // The atom whose cumulative probability first reaches the level, checked to be far (3 standard
            // errors of 10,000 resamples) from the level on both sides, so the sampled percentile must land on it.
            double[] atoms = exact.Distinct().Order().ToArray();
            double below = 0;
            foreach (double atom in atoms)
            {
                double at = below + (exact.Count(m => m == atom) / 256.0);
                if (at >= level)
                {
                    double margin = 3 * Math.Sqrt(level * (1 - level) / SeedStatistics.BootstrapResamples);
                    Assert.True(below < level - margin && at > level + margin, $"atom {atom}: cumulative {below} to {at} too close to {level}");
                    return atom;
                }

                below = at;
            }

            throw new InvalidOperationException("no atom");
        }

        Interval ours = SeedStatistics.BootstrapMean(values);
        Assert.Equal(0.09375, Atom(0.025)); // two draws of 1/16 and two of 1/8: 1.95% of resamples lie below, 4.30% at or below
        Assert.Equal(0.40625, Atom(0.975)); // three of 1/2 and one of 1/8: 96.48% below, 98.05% at or below
        Assert.Equal(Atom(0.025), ours.Low, 12);
        Assert.Equal(Atom(0.975), ours.High, 12);
    }

    [Fact]
    public void A_reported_figure_is_located_by_percentile_z_and_the_prediction_interval()
    {
        double[] ours = [0.88, 0.89, 0.90, 0.91, 0.92];
        double mean = 0.90;
        double sd = Math.Sqrt(0.001 / 4);
        double half = TQuantile(4) * sd * Math.Sqrt(1 + (1.0 / 5));

        ReportedVerdict inside = SeedStatistics.Locate(ours, 0.90);
        Assert.Equal(50, inside.Percentile, 9);
        Assert.Equal(0, inside.ZScore, 9);
        Assert.Equal(mean - half, inside.Prediction.Low, 6);
        Assert.Equal(mean + half, inside.Prediction.High, 6);
        Assert.Equal(ReportedPlacement.Within, inside.Verdict);

        ReportedVerdict below = SeedStatistics.Locate(ours, 0.8271);
        Assert.Equal(0, below.Percentile);
        Assert.Equal((0.8271 - mean) / sd, below.ZScore, 6);
        Assert.Equal(ReportedPlacement.Below, below.Verdict);
        Assert.Equal(ReportedPlacement.Above, SeedStatistics.Locate(ours, 0.99).Verdict);

        // 3 of 5 below 0.905 (0.88, 0.89, 0.90).
        Assert.Equal(60, SeedStatistics.Locate(ours, 0.905).Percentile, 9);
    }

    [Fact]
    public void Two_sets_of_seeds_are_compared_with_welch_and_the_probability_of_improvement()
    {
        double[] a = [1, 2, 3];
        double[] b = [2, 3, 4];

        // By hand: pairs (a, b) with b > a: 3 + 2 + 1 = 6, ties (2,2) and (3,3) count half: 7 of 9.
        SeedComparison higher = SeedStatistics.Compare(a, b, higherIsBetter: true);
        Assert.Equal(1, higher.Difference, 12);
        Assert.Equal(7.0 / 9, higher.ProbabilityOfImprovement, 12);

        // Welch with equal variances (1 and 1) and n = 3: SE = sqrt(2/3), df = 4.
        double half = TQuantile(4) * Math.Sqrt(2.0 / 3);
        Assert.Equal(1 - half, higher.Interval.Low, 6);
        Assert.Equal(1 + half, higher.Interval.High, 6);
        Assert.Equal(SeedVerdict.WithinNoise, higher.Verdict);

        // Unequal counts and variances, where Welch differs from the pooled test. By hand: A = 1..6 (n 6, mean 3.5,
        // s² 17.5 / 5 = 3.5), B = 2, 6, 10 (n 3, mean 6, s² 32 / 2 = 16); s²/n: 0.58333 and 5.33333, SE = sqrt(5.91667)
        // = 2.43242; df = 5.91667² / (0.58333² / 5 + 5.33333² / 2) = 35.00694 / 14.29028 = 2.4497 (pooled: 7).
        double[] six = [1, 2, 3, 4, 5, 6];
        double[] three = [2, 6, 10];
        double va = 3.5 / 6, vb = 16.0 / 3;
        double df = (va + vb) * (va + vb) / ((va * va / 5) + (vb * vb / 2));
        Assert.Equal(2.4497, df, 4);
        SeedComparison welch = SeedStatistics.Compare(six, three, higherIsBetter: true);
        double welchHalf = TQuantile(df) * Math.Sqrt(va + vb);
        Assert.Equal(2.5, welch.Difference, 12);
        Assert.Equal(2.5 - welchHalf, welch.Interval.Low, 5);
        Assert.Equal(2.5 + welchHalf, welch.Interval.High, 5);
        Assert.Contains("2.4 degrees of freedom", welch.Interval.Method, StringComparison.Ordinal);
        Assert.True(welchHalf > TQuantile(7) * Math.Sqrt(va + vb) * 1.4, "with these variances Welch's interval is far wider than the pooled df would give");
        // B against A is the mirror image: the same degrees of freedom and width.
        SeedComparison mirrored = SeedStatistics.Compare(three, six, higherIsBetter: true);
        Assert.Equal(-2.5 - welchHalf, mirrored.Interval.Low, 5);
        Assert.Equal(welch.Interval.Method, mirrored.Interval.Method);

        double[] clearlyLower = [10.1, 10.2, 10.0, 10.15];
        double[] clearlyHigher = [12.0, 12.1, 11.9, 12.05];
        Assert.Equal(SeedVerdict.Better, SeedStatistics.Compare(clearlyLower, clearlyHigher, higherIsBetter: true).Verdict);
        Assert.Equal(SeedVerdict.Worse, SeedStatistics.Compare(clearlyLower, clearlyHigher, higherIsBetter: false).Verdict);
        Assert.Equal(0, SeedStatistics.Compare(clearlyLower, clearlyHigher, higherIsBetter: false).ProbabilityOfImprovement);
    }
}

/// <summary>Each verdict has its own words (a report that printed an enum's name would read "WithinNoise").</summary>
public sealed class VerdictWordsTests
{
    [Fact]
    public void Every_verdict_reads_as_words_of_its_own()
    {
        string[] words =
        [
            .. Enum.GetValues<SeedVerdict>().Select(v => v.Text()),
            .. Enum.GetValues<ReportedPlacement>().Select(v => v.Text()),
            .. Enum.GetValues<ReviewVerdict>().Select(v => v.Text()),
        ];
        Assert.All(words, w => Assert.Matches("^[a-z]+( [a-z]+)*$", w));
        Assert.Equal(words.Length - 1, words.Distinct().Count()); // "within noise" is both a seed verdict and a review verdict
        Assert.Equal(["changed", "beyond tolerance", "beyond noise"], Enum.GetValues<ReviewVerdict>().Where(v => v.Fails()).Select(v => v.Text()));
    }
}
