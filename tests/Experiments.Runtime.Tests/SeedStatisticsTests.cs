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
        Assert.Equal("within our distribution", inside.Verdict);

        ReportedVerdict below = SeedStatistics.Locate(ours, 0.8271);
        Assert.Equal(0, below.Percentile);
        Assert.Equal((0.8271 - mean) / sd, below.ZScore, 6);
        Assert.Equal("below our distribution", below.Verdict);
        Assert.Equal("above our distribution", SeedStatistics.Locate(ours, 0.99).Verdict);

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
        Assert.Equal("within noise", higher.Verdict);

        double[] clearlyLower = [10.1, 10.2, 10.0, 10.15];
        double[] clearlyHigher = [12.0, 12.1, 11.9, 12.05];
        Assert.Equal("better", SeedStatistics.Compare(clearlyLower, clearlyHigher, higherIsBetter: true).Verdict);
        Assert.Equal("worse", SeedStatistics.Compare(clearlyLower, clearlyHigher, higherIsBetter: false).Verdict);
        Assert.Equal(0, SeedStatistics.Compare(clearlyLower, clearlyHigher, higherIsBetter: false).ProbabilityOfImprovement);
    }
}
