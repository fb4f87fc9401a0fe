using System.Globalization;
using System.Text;
using Experiments.Runtime.IO;
using Experiments.Runtime.Results;
using Experiments.Runtime.Snapshots;
using Experiments.Runtime.Training;

namespace Experiments.Runtime.Reports;

/// <summary>One approved snapshot that changed: its text before (null: new) and after (null: removed).</summary>
public sealed record ReviewItem(string Path, string? Approved, string? Received)
{
    public bool Seeds => SeedSnapshot.IsSeedSnapshotPath(Path);
}

/// <summary>The snapshots a review covers and how many others stayed as they were.</summary>
public sealed record ReviewSet(IReadOnlyList<ReviewItem> Changed, int Unchanged, string Source);

/// <summary>
/// How a review names and compares its two sides: `review` shows approved against received snapshots, comparing
/// exactly where the environments match and carrying the marker its CI script finds its comment by; `diff --md` shows
/// any two results, A against B, always under the declared tolerances (its exit code follows them).
/// </summary>
/// <param name="Noun">What one side's file is called in the counts ("approved snapshot", "result").</param>
public sealed record ReviewSides(string Before, string After, ComparisonMode? Mode, bool Marker, string Noun)
{
    public static ReviewSides ApprovedReceived { get; } = new("approved", "received", null, Marker: true, "approved snapshot");

    public static ReviewSides Diff { get; } = new("A", "B", ComparisonMode.Tolerance, Marker: false, "result");

    /// <summary>The line for an experiment on one side only.</summary>
    public string OneSided(bool onlyAfter) => Marker
        ? (onlyAfter ? "New: no approved snapshot before." : "Removed: the approved snapshot was deleted.")
        : $"Only in {(onlyAfter ? After : Before)}.";
}

/// <summary>
/// `review`: a pull-request comment for the result snapshots that changed. Per experiment: what changed in what was run
/// (fingerprint, settings, data, environment), the final metrics with direction arrows, tolerance and verdict, the
/// learning curves before and after in one picture, the change of the test confusion matrix as a heatmap, and in
/// collapsible blocks the per-epoch history and the confusion cells that moved. Unchanged experiments are one line.
/// </summary>
public static class Review
{
    /// <summary>The hidden marker by which a CI script finds (and updates) its own comment.</summary>
    public const string Marker = "<!-- experiments-review -->";

    /// <summary>Received snapshots under <paramref name="root"/> against their verified files.</summary>
    public static ReviewSet FromReceived(string root)
    {
        IReadOnlyList<string> received = SnapshotApproval.FindReceived([root]);
        var items = received.Select(path =>
        {
            string verified = path[..^SnapshotVerifier.ReceivedSuffix.Length] + SnapshotVerifier.VerifiedSuffix;
            return new ReviewItem(verified, File.Exists(verified) ? File.ReadAllText(verified) : null, File.ReadAllText(path));
        }).ToList();
        int verifiedCount = VerifiedFiles(root).Count();
        return new ReviewSet(items, verifiedCount - items.Count(i => i.Approved is not null), "received snapshots");
    }

    /// <summary>Verified snapshots under <paramref name="root"/> that differ from those at git ref <paramref name="baseRef"/> (committed or not).</summary>
    public static ReviewSet FromGit(string root, string baseRef)
    {
        string full = System.IO.Path.GetFullPath(root);
        string top = Git(full, "rev-parse", "--show-toplevel").Trim();
        _ = Git(top, "rev-parse", "--verify", "--quiet", baseRef + "^{commit}");
        string relative = System.IO.Path.GetRelativePath(top, full);
        IEnumerable<string> changed = Git(top, "diff", "--name-only", "--no-renames", baseRef, "--", relative)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Concat(Git(top, "ls-files", "--others", "--exclude-standard", "--", relative).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            .Where(p => p.EndsWith(SnapshotVerifier.VerifiedSuffix, StringComparison.Ordinal))
            .Distinct()
            .Order(StringComparer.Ordinal);
        var items = new List<ReviewItem>();
        foreach (string path in changed)
        {
            string file = System.IO.Path.Combine(top, path);
            (int exitCode, string before, _) = ChildProcess.Capture(["git", "show", $"{baseRef}:{path}"], top);
            items.Add(new ReviewItem(file, exitCode == 0 ? before : null, File.Exists(file) ? File.ReadAllText(file) : null));
        }

        int verifiedCount = VerifiedFiles(root).Count();
        return new ReviewSet(items, verifiedCount - items.Count(i => i.Received is not null), $"approved snapshots changed since {baseRef}");
    }

    /// <param name="tolerances">The declared tolerances of an experiment (by name).</param>
    /// <param name="seedChecks">The declared multi-seed checks of an experiment (by name).</param>
    /// <param name="summary">The current layer summary of an experiment, if it is registered.</param>
    /// <param name="images">Where the pictures go (null: none); <paramref name="linkFrom"/> is the folder the Markdown's relative links start from.</param>
    /// <param name="sides">How the two sides are named and compared; by default approved against received.</param>
    public static string Markdown(
        ReviewSet set, Func<string, Tolerances> tolerances, Func<string, IReadOnlyList<SeedCheck>> seedChecks, Func<string, string?> summary,
        string? images, string linkFrom, ReviewSides? sides = null)
    {
        sides ??= ReviewSides.ApprovedReceived;
        var sections = new List<(string Experiment, string Profile, ReviewVerdict Verdict, string Headline, string Body)>();
        foreach (ReviewItem item in set.Changed)
        {
            sections.Add(item.Seeds ? SeedSection(item, seedChecks) : Section(item, tolerances, summary, images, linkFrom, sides));
        }

        int beyond = sections.Count(s => s.Verdict.Fails());
        var text = new StringBuilder();
        if (sides.Marker)
        {
            text.Append(Marker).Append('\n');
        }

        text.Append(CultureInfo.InvariantCulture, $"## Experiment results: {Count(sections.Count, "snapshot")} changed, {beyond} failing {(beyond == 1 ? "its" : "their")} comparison\n\n");
        if (sections.Count == 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"No {set.Source}; {Count(set.Unchanged, sides.Noun)} unchanged.\n");
            return text.ToString();
        }

        text.Append(MarkdownTable.Render(
            [["experiment", "profile", "verdict", "test accuracy"], .. sections.Select(s => new[] { $"[{s.Experiment}](#{Anchor(s.Experiment, s.Profile)})", s.Profile, s.Verdict.Text(), s.Headline })],
            leftAligned: 3));
        text.Append(CultureInfo.InvariantCulture, $"{Count(set.Unchanged, "other " + sides.Noun)} unchanged.\n\n");
        foreach ((string experiment, string profile, ReviewVerdict verdict, _, string body) in sections)
        {
            text.Append(CultureInfo.InvariantCulture, $"### {experiment} ({profile}): {verdict.Text()}\n\n").Append(body);
        }

        return text.ToString();
    }

    private static (string, string, ReviewVerdict, string, string) Section(
        ReviewItem item, Func<string, Tolerances> tolerances, Func<string, string?> summary, string? images, string linkFrom, ReviewSides sides)
    {
        (string first, string second) = (sides.Before, sides.After);
        SnapshotDocument? before = item.Approved is null ? null : SnapshotDocument.Parse(item.Approved, item.Path + " (approved)");
        SnapshotDocument? after = item.Received is null ? null : SnapshotDocument.Parse(item.Received, item.Path + " (received)");
        SnapshotDocument any = (after ?? before)!;
        var body = new StringBuilder();
        if (before is null || after is null)
        {
            SnapshotDocument only = (before ?? after)!;
            body.Append(sides.OneSided(onlyAfter: before is null)).Append('\n');
            body.Append(MarkdownTable.Render(
                [["metric", before is null ? second : first], ["test accuracy", ExperimentReport.Percent(only.TestAccuracy)], ["test loss", Loss(only.TestLoss)],
                    ["train accuracy", ExperimentReport.Percent(only.TrainAccuracy)], ["train loss", Loss(only.TrainLoss)]]));
            AppendSummary(body, only.Summary ?? summary(only.Experiment));
            return (only.Experiment, only.Profile, before is null ? ReviewVerdict.New : ReviewVerdict.Removed, ExperimentReport.Percent(only.TestAccuracy), body.ToString());
        }

        Tolerances declared = tolerances(after.Experiment);
        SnapshotComparison comparison = SnapshotComparison.Compare(before, after, declared, sides.Mode);
        ReviewVerdict verdict = comparison.Matches ? (comparison.Mode == ComparisonMode.Exact ? ReviewVerdict.Exact : ReviewVerdict.WithinTolerance)
            : comparison.Mode == ComparisonMode.Exact ? ReviewVerdict.Changed : ReviewVerdict.BeyondTolerance;
        if (before.Run["fingerprint"] != after.Run["fingerprint"])
        {
            body.Append("**The declaration changed** (its fingerprint differs): review the numbers below as a new result.\n");
        }

        // What was run and where: only the fields that differ.
        List<string[]> fields = SnapshotDocument.RunKeys.Concat(SnapshotDocument.OptionalRunKeys)
            .Where(k => before.Run.GetValueOrDefault(k) != after.Run.GetValueOrDefault(k))
            .Select(k => new[] { "run." + k, before.Run.GetValueOrDefault(k) ?? "(none)", after.Run.GetValueOrDefault(k) ?? "(none)" })
            .Concat(SnapshotDocument.BitKeys.Where(k => before.Environment[k] != after.Environment[k]).Select(k => new[] { "environment." + k, before.Environment[k], after.Environment[k] }))
            .Concat(before.Parameters != after.Parameters ? [["parameters", Invariant(before.Parameters), Invariant(after.Parameters)]] : Array.Empty<string[]>())
            .ToList();
        body.Append(fields.Count == 0
            ? "Same experiment, settings and environment.\n"
            : MarkdownTable.Render([["field", first, second], .. fields], leftAligned: 3));
        body.Append(comparison.Mode == ComparisonMode.Exact
            ? "Same environment: every number must match exactly.\n"
            : $"Compared under tolerances: {comparison.ModeReason}.\n");

        bool Beyond(string key) => comparison.Differs(key);
        string[] MetricRow(string label, string key, Metric metric, double a, double b, bool higherIsBetter)
        {
            bool same = BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b);
            string metricVerdict = same ? "exact"
                : comparison.Mode == ComparisonMode.Exact ? "changed"
                : Beyond(key) ? "**beyond**" : "within tolerance";
            bool accuracy = metric is Metric.TestAccuracy or Metric.TrainAccuracy;
            return
            [
                label, higherIsBetter ? "↑ higher" : "↓ lower",
                accuracy ? ExperimentReport.Percent(a) : Loss(a), accuracy ? ExperimentReport.Percent(b) : Loss(b),
                Change(b - a, higherIsBetter, accuracy),
                comparison.Mode == ComparisonMode.Exact ? "exact" : (accuracy ? Invariant($"±{declared[metric] * 100:0.##} pts") : Invariant($"±{declared[metric]:0.####}")),
                metricVerdict,
            ];
        }

        body.Append(MarkdownTable.Render(
            [
                ["metric", "better", first, second, "change", "tolerance", "verdict"],
                MetricRow("test accuracy", "final.test_accuracy", Metric.TestAccuracy, before.TestAccuracy, after.TestAccuracy, true),
                MetricRow("test loss", "final.test_loss", Metric.TestLoss, before.TestLoss, after.TestLoss, false),
                MetricRow("train accuracy", "final.train_accuracy", Metric.TrainAccuracy, before.TrainAccuracy, after.TrainAccuracy, true),
                MetricRow("train loss", "final.train_loss", Metric.TrainLoss, before.TrainLoss, after.TrainLoss, false),
            ],
            leftAligned: 2));

        if (images is not null)
        {
            Directory.CreateDirectory(images);
            string stem = $"{after.Experiment}-{after.Profile}";
            string curves = System.IO.Path.Combine(images, stem + "-curves.png");
            string confusion = System.IO.Path.Combine(images, stem + "-confusion.png");
            AtomicFile.WriteAllBytes(curves, Plots.BeforeAfterCurves(before, after));
            AtomicFile.WriteAllBytes(confusion, Plots.ConfusionChange(before.TestConfusion, after.TestConfusion, $"{after.Experiment}: test confusion, {second} minus {first}"));
            body.Append(CultureInfo.InvariantCulture, $"![learning curves, {first} and {second}]({Link(linkFrom, curves)}) ![test confusion change]({Link(linkFrom, confusion)})\n\n");
        }

        var history = new List<string[]> { new[] { "epoch", $"loss {first}", $"loss {second}", $"accuracy {first}", $"accuracy {second}" } };
        for (int e = 0; e < Math.Max(before.History.Count, after.History.Count); e++)
        {
            SnapshotEpoch? a = e < before.History.Count ? before.History[e] : null;
            SnapshotEpoch? b = e < after.History.Count ? after.History[e] : null;
            history.Add([Invariant(e + 1), a is null ? "-" : Loss(a.Loss), b is null ? "-" : Loss(b.Loss), a is null ? "-" : ExperimentReport.Percent(a.Accuracy), b is null ? "-" : ExperimentReport.Percent(b.Accuracy)]);
        }

        body.Append(MarkdownTable.Details($"History per epoch ({before.History.Count} {first}, {after.History.Count} {second})", MarkdownTable.Render(history)));
        foreach ((string set, ConfusionMatrix a, ConfusionMatrix b) in new[] { ("test", before.TestConfusion, after.TestConfusion), ("train", before.TrainConfusion, after.TrainConfusion) })
        {
            if (!a.ClassNames.SequenceEqual(b.ClassNames))
            {
                body.Append(CultureInfo.InvariantCulture, $"Confusion ({set}): the classes differ.\n\n");
                continue;
            }

            IReadOnlyList<MovedCell> cells = a.MovedCells(b);

            if (cells.Count == 0)
            {
                body.Append(CultureInfo.InvariantCulture, $"Confusion ({set}): no cell moved.\n\n");
                continue;
            }

            List<string[]> rows = cells.OrderByDescending(c => Math.Abs(c.Change)).ThenBy(c => c.True, StringComparer.Ordinal).ThenBy(c => c.Predicted, StringComparer.Ordinal).Take(30)
                .Select(c => new[] { c.True, c.Predicted, Invariant(c.Approved), Invariant(c.Received), c.Change.ToString("+0;-0", CultureInfo.InvariantCulture) })
                .ToList();
            body.Append(MarkdownTable.Details(
                Invariant($"Confusion cells that moved ({set}): {cells.Count}, {a.ShareMoved(b) * 100:0.##}% of examples changed cell{(cells.Count > 30 ? "; the 30 largest" : "")}"),
                MarkdownTable.Render([["true", "predicted", first, second, "change"], .. rows], leftAligned: 2)));
        }

        if (before.Summary is { } layersBefore && after.Summary is { } layersAfter && layersBefore != layersAfter)
        {
            body.Append(MarkdownTable.Details(
                $"Layer summary: {first} → {second}",
                "```diff\n" + SnapshotVerifier.UnifiedDiff(layersBefore, layersAfter, first, second) + "```"));
        }
        else
        {
            AppendSummary(body, after.Summary ?? summary(after.Experiment));
        }

        string headline = $"{ExperimentReport.Percent(before.TestAccuracy)} → {ExperimentReport.Percent(after.TestAccuracy)} {Arrow(after.TestAccuracy - before.TestAccuracy)}";
        return (any.Experiment, any.Profile, verdict, headline, body.ToString());
    }

    private static (string, string, ReviewVerdict, string, string) SeedSection(ReviewItem item, Func<string, IReadOnlyList<SeedCheck>> seedChecks)
    {
        SeedSnapshot? before = item.Approved is null ? null : SeedSnapshot.Parse(item.Approved, item.Path + " (approved)");
        SeedSnapshot? after = item.Received is null ? null : SeedSnapshot.Parse(item.Received, item.Path + " (received)");
        SeedSnapshot any = (after ?? before)!;
        string name = any.Experiment + $" ({any.Seeds.Count} seeds)";
        if (before is null || after is null)
        {
            Results.SeedSummary test = Results.SeedStatistics.Summarise(any.Values(Metric.TestAccuracy));
            return (name, any.Profile, before is null ? ReviewVerdict.New : ReviewVerdict.Removed, test.Describe(percent: true),
                (before is null ? "New: no approved multi-seed snapshot before." : "Removed: the approved multi-seed snapshot was deleted.") + "\n\n");
        }

        IReadOnlyList<SeedCheck> checks = seedChecks(after.Experiment);
        SnapshotComparison verdictComparison = SeedSnapshotComparison.Compare(before, after, checks);
        SnapshotComparison distribution = SeedSnapshotComparison.Compare(before, after, checks, ComparisonMode.Distribution);
        ReviewVerdict verdict = verdictComparison.Matches
            ? (verdictComparison.Mode == ComparisonMode.Exact ? ReviewVerdict.Exact : ReviewVerdict.WithinNoise)
            : verdictComparison.Mode == ComparisonMode.Exact ? ReviewVerdict.Changed : ReviewVerdict.BeyondNoise;
        var body = new StringBuilder();
        body.Append(verdictComparison.Mode == ComparisonMode.Exact
            ? "Same environment: every seed must repeat exactly; the distributions below show what moved.\n"
            : $"Compared as distributions: {verdictComparison.ModeReason}.\n");
        body.Append(MarkdownTable.Render(
            [
                ["metric", "better", "approved mean ± SD (n)", "received mean ± SD (n)", "difference [interval]", "verdict"],
                .. distribution.Checks.Select(c => new[]
                {
                    SeedSnapshotComparison.Key(c.Check.Metric).Replace('_', ' '), c.Check.HigherIsBetter ? "↑ higher" : "↓ lower",
                    c.Approved.Describe(percent: false), c.Received.Describe(percent: false),
                    Invariant($"{Arrow(c.Received.Mean - c.Approved.Mean)} {c.Received.Mean - c.Approved.Mean:+0.######;-0.######;0} [{c.Difference.Low:0.######}, {c.Difference.High:0.######}] at {c.Check.Level * 100:0.##}%"),
                    c.Verdict.Text(),
                }),
            ],
            leftAligned: 2));
        if (verdictComparison.Differences.Count > 0)
        {
            body.Append(MarkdownTable.Details("Differences", string.Concat(verdictComparison.Differences.Select(d => "- " + d.Message + "\n"))));
        }

        Results.SeedSummary a = Results.SeedStatistics.Summarise(before.Values(Metric.TestAccuracy));
        Results.SeedSummary b = Results.SeedStatistics.Summarise(after.Values(Metric.TestAccuracy));
        return (name, any.Profile, verdict, $"{ExperimentReport.Percent(a.Mean)} → {ExperimentReport.Percent(b.Mean)} (means) {Arrow(b.Mean - a.Mean)}", body.ToString());
    }

    private static void AppendSummary(StringBuilder body, string? summary)
    {
        if (summary is not null)
        {
            body.Append(MarkdownTable.Details("Layer summary", "```\n" + summary.TrimEnd('\n') + "\n```"));
        }
    }

    private static string Change(double delta, bool higherIsBetter, bool accuracy)
    {
        string amount = accuracy ? (delta * 100).ToString("+0.00;-0.00;0", CultureInfo.InvariantCulture) + " pts" : delta.ToString("+0.0000;-0.0000;0", CultureInfo.InvariantCulture);
        return delta == 0 ? "= 0" : $"{Arrow(delta)} {amount} ({((delta > 0) == higherIsBetter ? "better" : "worse")})";
    }

    private static string Arrow(double delta) => delta > 0 ? "↑" : delta < 0 ? "↓" : "=";

    private static string Loss(double value) => value.ToString("F4", CultureInfo.InvariantCulture);

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    /// <summary>GitHub's heading anchor: lower case, spaces to hyphens, punctuation other than - and _ dropped.</summary>
    private static string Anchor(string experiment, string profile) =>
        new string($"{experiment} ({profile})".ToLowerInvariant().Where(c => char.IsLetterOrDigit(c) || c is '-' or '_' or ' ').ToArray()).Replace(' ', '-');

    private static string Link(string from, string file) => System.IO.Path.GetRelativePath(from, file).Replace('\\', '/');

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static IEnumerable<string> VerifiedFiles(string root) => Directory.Exists(root)
        ? Directory.EnumerateFiles(root, "*" + SnapshotVerifier.VerifiedSuffix, SearchOption.AllDirectories)
            .Where(f => !f.Split(System.IO.Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or ".git"))
        : [];

    private static string Git(string folder, params string[] arguments)
    {
        (int exitCode, string stdout, string stderr) = ChildProcess.Capture(["git", .. arguments], folder);
        return exitCode == 0
            ? stdout
            : throw new ArgumentException($"git {string.Join(' ', arguments)} failed in {folder}: {stderr.Trim()} (review --base needs a git repository and a known ref, e.g. origin/main).");
    }
}
