using System.Globalization;
using System.Text;
using Experiments.Runtime.IO;
using Experiments.Runtime.Results;

namespace Experiments.Runtime.Reports;

/// <summary>
/// `diff A B` of two multi-seed results: per final metric, B's mean against A's with Welch's 95% interval of the
/// difference, the probability that a run of B beats a run of A, and a verdict (better, worse, within noise).
/// </summary>
public static class SeedDiff
{
    public sealed record Row(string Metric, SeedSummary A, SeedSummary B, SeedComparison Comparison);

    public static IReadOnlyList<Row> Compare(SeedAggregate a, SeedAggregate b) => SeedAggregate.Metrics
        .Select(m => new Row(m.Label, a.Final[m.Key], b.Final[m.Key], SeedStatistics.Compare(a.Values(m.Key), b.Values(m.Key), m.HigherIsBetter)))
        .ToList();

    public static string Render(IReadOnlyList<Row> rows, string left, string right, string leftExperiment, string rightExperiment, bool markdown)
    {
        string Name(string path, string experiment) => experiment == Path.GetFileName(Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar)) ? path : $"{path} ({experiment})";
        string[] header = ["metric", "A: mean ± SD (n)", "B: mean ± SD (n)", "B - A [95% interval]", "P(B better)", "verdict"];
        IEnumerable<string[]> cells = rows.Select(r =>
        {
            bool percent = r.Metric.Contains("accuracy", StringComparison.Ordinal);
            double scale = percent ? 100 : 1;
            string unit = percent ? " points" : "";
            return new[]
            {
                r.Metric,
                r.A.Describe(percent),
                r.B.Describe(percent),
                string.Create(CultureInfo.InvariantCulture, $"{r.Comparison.Difference * scale:+0.00;-0.00;0.00}{unit} [{r.Comparison.Interval.Low * scale:+0.00;-0.00;0.00}, {r.Comparison.Interval.High * scale:+0.00;-0.00;0.00}]"),
                string.Create(CultureInfo.InvariantCulture, $"{r.Comparison.ProbabilityOfImprovement:F2}"),
                r.Comparison.Verdict.Text(),
            };
        });
        var text = new StringBuilder();
        if (markdown)
        {
            text.Append(CultureInfo.InvariantCulture, $"**A** `{Name(left, leftExperiment)}` against **B** `{Name(right, rightExperiment)}`, over seeds\n\n");
            text.Append("| ").Append(string.Join(" | ", header)).Append(" |\n|---|---:|---:|---:|---:|---|\n");
            foreach (string[] row in cells)
            {
                text.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
            }
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"A: {Name(left, leftExperiment)}\nB: {Name(right, rightExperiment)}\n");
            text.Append(TextTable.Render([header, .. cells], leftAligned: 1));
        }

        text.Append("\nWelch's t interval for the difference of means; P(B better) counts every pair of runs (ties half); ")
            .Append("'within noise' when the interval contains 0.\n");
        return text.ToString();
    }
}
