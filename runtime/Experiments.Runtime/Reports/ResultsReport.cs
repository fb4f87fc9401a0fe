using Experiments.Runtime.IO;
using Experiments.Runtime.Results;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Experiments.Runtime.Snapshots;
using Markdig;

namespace Experiments.Runtime.Reports;

/// <summary>`report [DIR]`: one page comparing every experiment of a results folder, as report.md and report.html.</summary>
public static class ResultsReport
{
    /// <param name="Aggregate">For a multi-seed result, its seeds' statistics (<see cref="Snapshot"/> is then the first seed's).</param>
    public sealed record Row(string Folder, SnapshotDocument Snapshot, double Seconds, ReportedAttribute? Reported, SeedAggregate? Aggregate = null)
    {
        public double TestAccuracy => Aggregate?.Final["test_accuracy"].Mean ?? Snapshot.TestAccuracy;
    }

    /// <param name="sourceProfile">The profile whose multi-seed results are located against the source's reported figure (the full one).</param>
    public static IReadOnlyList<Row> Load(string resultsFolder, IReadOnlyList<IExperiment> registry, string? sourceProfile = null)
    {
        if (!Directory.Exists(resultsFolder))
        {
            throw new FileNotFoundException($"{resultsFolder} does not exist; run experiments first (run --out {resultsFolder}).", resultsFolder);
        }

        var rows = new List<Row>();
        foreach (string folder in Directory.EnumerateDirectories(resultsFolder).Order(StringComparer.Ordinal))
        {
            if (SeedAggregate.IsAggregateFolder(folder))
            {
                SeedAggregate aggregate = SeedAggregate.Load(folder);
                ReportedAttribute? source = registry.FirstOrDefault(e => e.Info.Name == aggregate.Experiment)?.Info.Reported;
                if (source is not null && aggregate.Runs[0].Snapshot.Profile == sourceProfile)
                {
                    aggregate = aggregate.WithReported(source.TestAccuracy);
                }

                double total = aggregate.Runs.Sum(r => Seconds(Path.Combine(folder, r.Folder)));
                rows.Add(new Row(Path.GetFileName(folder), aggregate.Runs[0].Snapshot, total, source, aggregate));
                continue;
            }

            string snapshot = Path.Combine(folder, "snapshot.txt");
            if (!File.Exists(snapshot))
            {
                continue;
            }

            SnapshotDocument document = SnapshotDocument.Parse(File.ReadAllText(snapshot), snapshot);
            double seconds = Seconds(folder);
            ReportedAttribute? reported = registry.FirstOrDefault(e => e.Info.Name == document.Experiment)?.Info.Reported;
            rows.Add(new Row(Path.GetFileName(folder), document, seconds, reported));
        }

        if (rows.Count == 0)
        {
            throw new FileNotFoundException($"{resultsFolder} holds no result folders (folders with snapshot.txt).", resultsFolder);
        }

        return rows;
    }

    private static double Seconds(string folder)
    {
        string timing = Path.Combine(folder, "timing.json");
        return File.Exists(timing) ? JsonDocument.Parse(File.ReadAllText(timing)).RootElement.GetProperty("total_seconds").GetDouble() : double.NaN;
    }

    public static string Markdown(IReadOnlyList<Row> rows, string title)
    {
        var md = new StringBuilder();
        md.Append("# ").Append(title).Append("\n\n");
        md.Append("| experiment | dataset | profile | parameters | epochs | test accuracy | test loss | train accuracy | source reported | time |\n");
        md.Append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (Row row in rows)
        {
            SnapshotDocument s = row.Snapshot;
            string reported = row.Reported is { } r ? ExperimentReport.Percent(r.TestAccuracy) + (r.Completed ? "" : " (incomplete run)") : "";
            if (row.Aggregate is { } seeds)
            {
                // Several seeds: "mean ± SD (n)", and where the source's figure lies in that distribution.
                reported += seeds.Reported is { } verdict ? $": {verdict.Verdict.Text()}" : "";
                md.Append(CultureInfo.InvariantCulture,
                    $"| [{seeds.Experiment}]({row.Folder}/report.md) | {s.Run["dataset"]} | {s.Profile} | {s.Parameters:N0} | {s.History.Count} | {seeds.Final["test_accuracy"].Describe(percent: true)} | {seeds.Final["test_loss"].Mean:F4} | {seeds.Final["train_accuracy"].Describe(percent: true)} | {reported} | {row.Seconds:F1} s |\n");
                continue;
            }

            md.Append(CultureInfo.InvariantCulture,
                $"| [{s.Experiment}]({row.Folder}/report.md) | {s.Run["dataset"]} | {s.Profile} | {s.Parameters:N0} | {s.History.Count} | {ExperimentReport.Percent(s.TestAccuracy)} | {s.TestLoss:F4} | {ExperimentReport.Percent(s.TrainAccuracy)} | {reported} | {row.Seconds:F1} s |\n");
        }

        foreach (Sweep sweep in Sweeps(rows))
        {
            md.Append("\n## Sweep ").Append(sweep.Name).Append("\n\n");
            md.Append("| ").Append(string.Join(" | ", sweep.Parameters)).Append(" | test accuracy | test loss | train accuracy | epochs |\n");
            md.Append('|').Append(string.Concat(Enumerable.Repeat("---|", sweep.Parameters.Count))).Append("---:|---:|---:|---:|\n");
            foreach ((Row row, IReadOnlyList<string> values) in sweep.Points)
            {
                SnapshotDocument p = row.Snapshot;
                md.Append("| ").Append(string.Join(" | ", values)).Append(CultureInfo.InvariantCulture,
                    $" | [{ExperimentReport.Percent(p.TestAccuracy)}]({row.Folder}/report.md) | {p.TestLoss:F4} | {ExperimentReport.Percent(p.TrainAccuracy)} | {p.History.Count} |\n");
            }

            md.Append(CultureInfo.InvariantCulture, $"\n<img src=\"{SweepPlotName(sweep.Name)}\" width=\"60%\" alt=\"{sweep.Name}: final metrics per point\">\n");
        }

        Row best = rows.MaxBy(r => r.TestAccuracy)!;
        md.Append(CultureInfo.InvariantCulture, $"\nBest test accuracy: **{best.Snapshot.Experiment}** ({ExperimentReport.Percent(best.TestAccuracy)}{(best.Aggregate is null ? "" : ", mean over seeds")}).\n");
        md.Append("Environment: ").Append(string.Join(", ", rows.Select(r => $"{r.Snapshot.Environment["device"]} ({r.Snapshot.Environment["device_name"]}), {r.Snapshot.Environment["threads"]} threads").Distinct())).Append(".\n\n");
        foreach (Row row in rows)
        {
            md.Append("## ").Append(row.Snapshot.Experiment).Append("\n\n");
            foreach (string picture in row.Aggregate is null ? new[] { "accuracy.png", "loss.png", "confusion-test.png" } : ["accuracy.png", "loss.png", "seeds.png"])
            {
                md.Append(CultureInfo.InvariantCulture, $"<img src=\"{row.Folder}/{picture}\" width=\"32%\" alt=\"{picture}\"> ");
            }

            md.Append("\n\n");
        }

        return md.ToString();
    }

    /// <summary>A sweep's points among the results: the parameter names and each point's values, in folder order.</summary>
    public sealed record Sweep(string Name, IReadOnlyList<string> Parameters, IReadOnlyList<(Row Row, IReadOnlyList<string> Values)> Points);

    /// <summary>
    /// The sweeps the result folders hold, read from the experiments' names (NAME@parameter=value,...), so a results
    /// folder reports its sweeps without the project that made them.
    /// </summary>
    public static IReadOnlyList<Sweep> Sweeps(IReadOnlyList<Row> rows)
    {
        var points = new List<(string Sweep, string[] Names, string[] Values, Row Row)>();
        foreach (Row row in rows)
        {
            string name = row.Snapshot.Experiment;
            int at = name.IndexOf('@', StringComparison.Ordinal);
            if (at <= 0)
            {
                continue;
            }

            string[][] pairs = name[(at + 1)..].Split(',').Select(pair => pair.Split('=', 2)).ToArray();
            if (pairs.Any(pair => pair.Length != 2))
            {
                continue;
            }

            points.Add((name[..at], pairs.Select(pair => pair[0]).ToArray(), pairs.Select(pair => pair[1]).ToArray(), row));
        }

        return points.GroupBy(p => (p.Sweep, string.Join(",", p.Names)))
            .Select(g => new Sweep(g.Key.Sweep, g.First().Names, g.Select(p => (p.Row, (IReadOnlyList<string>)p.Values)).ToList()))
            .ToList();
    }

    public static string SweepPlotName(string sweep) => $"sweep-{sweep}.png";

    /// <summary>The same page as a standalone HTML file a browser opens directly (Markdig, pipe tables on).</summary>
    public static string Html(string markdown, string title)
    {
        MarkdownPipeline pipeline = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();
        string body = Markdig.Markdown.ToHtml(markdown, pipeline);
        return $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>{{System.Net.WebUtility.HtmlEncode(title)}}</title>
            <style>body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}td{text-align:right}td:first-child{text-align:left}img{border:1px solid #eee}</style>
            </head><body>
            {{body}}
            </body></html>

            """;
    }

    /// <summary>Writes report.md and report.html into the results folder (each atomically); returns their paths and the Markdown.</summary>
    public static (string MarkdownPath, string HtmlPath, string Markdown) Write(string resultsFolder, IReadOnlyList<Row> rows)
    {
        string title = $"Experiment results: {Path.GetFileName(Path.GetFullPath(resultsFolder).TrimEnd(Path.DirectorySeparatorChar))}";
        string markdown = Markdown(rows, title);
        string markdownPath = Path.Combine(resultsFolder, "report.md");
        string htmlPath = Path.Combine(resultsFolder, "report.html");
        foreach (Sweep sweep in Sweeps(rows))
        {
            AtomicFile.WriteAllBytes(Path.Combine(resultsFolder, SweepPlotName(sweep.Name)), Plots.Sweep(sweep));
        }

        AtomicFile.WriteAllText(markdownPath, markdown);
        AtomicFile.WriteAllText(htmlPath, Html(markdown, title));
        return (markdownPath, htmlPath, markdown);
    }
}
