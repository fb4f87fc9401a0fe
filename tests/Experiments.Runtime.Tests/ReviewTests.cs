using System.Diagnostics;
using Experiments.Runtime.Reports;
using Experiments.Runtime.Snapshots;
using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Syntax;
using SkiaSharp;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>`review` and `diff --md` (one renderer, two pairs of sides) as a reviewer sees them: GitHub-flavoured Markdown parsed by Markdig, real PNGs, a real git history.</summary>
public sealed class ReviewTests(Xunit.Abstractions.ITestOutputHelper log)
{
    private static readonly MarkdownPipeline Gfm = new MarkdownPipelineBuilder().UsePipeTables().Build();

    /// <summary>
    /// A git repository with two approved snapshots, then a commit that changes one experiment (its learning rate, through
    /// the configuration the run reads) and approves the new result.
    /// </summary>
    private static readonly Lazy<(string Repo, string Snapshots, SnapshotDocument Before, SnapshotDocument After)> Repository = new(() =>
    {
        string repo = TestEnvironment.TempDirectory("review-repo");
        string snapshots = Directory.CreateDirectory(Path.Combine(repo, "Snapshots")).FullName;
        string config = Path.Combine(repo, "experiments.yaml");
        File.WriteAllText(config, "profiles:\n  tiny:\n    train_examples: 600\n    test_examples: 300\n    max_epochs: 3\n");
        void Approve(string experiment)
        {
            var run = ProcessDeterminismTests.CliIn(repo, "run", experiment, "--profile", "tiny", "--threads", "1", "--out", Path.Combine(repo, "results"),
                "--snapshot", Path.Combine(snapshots, experiment + SnapshotVerifier.VerifiedSuffix));
            Assert.True(run.ExitCode == 0, run.Output);
        }

        Git(repo, "init", "-q", "-b", "main");
        Git(repo, "config", "user.email", "review@example.com");
        Git(repo, "config", "user.name", "review");
        Approve("mnist-mlp-50-sgd");
        Approve("mnist-mlp-512-rmsprop");
        Git(repo, "add", "-A");
        Git(repo, "commit", "-q", "-m", "approved");
        string file = Path.Combine(snapshots, "mnist-mlp-50-sgd" + SnapshotVerifier.VerifiedSuffix);
        SnapshotDocument before = SnapshotDocument.Parse(File.ReadAllText(file), file);
        File.AppendAllText(config, "experiments:\n  mnist-mlp-50-sgd:\n    learning_rate: 0.1\n");
        Approve("mnist-mlp-50-sgd");
        Git(repo, "commit", "-q", "-a", "-m", "a larger learning rate");
        return (repo, snapshots, before, SnapshotDocument.Parse(File.ReadAllText(file), file));
    });

    [Fact]
    public void Review_of_a_changed_experiment_is_a_table_per_section_with_arrows_verdicts_and_pictures()
    {
        (string repo, string snapshots, SnapshotDocument before, SnapshotDocument after) = Repository.Value;
        Assert.NotEqual(before.TestAccuracy, after.TestAccuracy);
        string reviewFile = Path.Combine(repo, "review", "review.md");
        var review = ProcessDeterminismTests.CliIn(repo, "review", snapshots, "--base", "HEAD~1", "--md", reviewFile);
        Assert.True(review.ExitCode == 0, review.Output);
        string markdown = File.ReadAllText(reviewFile);
        Assert.StartsWith(Review.Marker + "\n", markdown, StringComparison.Ordinal);
        Assert.Contains("## Experiment results: 1 snapshot changed, 1 failing its comparison", markdown, StringComparison.Ordinal);
        Assert.Contains("1 other approved snapshot unchanged.", markdown, StringComparison.Ordinal);
        Assert.Contains("### mnist-mlp-50-sgd (tiny): changed", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("### mnist-mlp-512-rmsprop", markdown, StringComparison.Ordinal);

        // Real tables, not paragraphs of pipes: the summary, what was run, the metrics, and the collapsible ones.
        MarkdownDocument document = Markdown.Parse(markdown, Gfm);
        List<Table> tables = document.Descendants<Table>().ToList();
        Assert.DoesNotContain(document.Descendants<ParagraphBlock>(), p => markdown.Substring(p.Span.Start, p.Span.Length).TrimStart().StartsWith('|'));
        Table metrics = tables.Single(t => Cells(t)[0].SequenceEqual(["metric", "better", "approved", "received", "change", "tolerance", "verdict"]));
        Assert.Contains(tables, t => Cells(t)[0].SequenceEqual(["field", "approved", "received"]) && Cells(t).Any(r => r[0] == "run.settings"));
        Assert.Contains(tables, t => Cells(t)[0].SequenceEqual(["epoch", "loss approved", "loss received", "accuracy approved", "accuracy received"]) && Cells(t).Count == 4);

        // The arrows follow the numbers, and better/worse the metric's direction.
        string[] accuracy = Cells(metrics).Single(r => r[0] == "test accuracy");
        double delta = after.TestAccuracy - before.TestAccuracy;
        Assert.Equal("↑ higher", accuracy[1]);
        Assert.StartsWith(delta > 0 ? "↑ +" : "↓ -", accuracy[4], StringComparison.Ordinal);
        Assert.EndsWith(delta > 0 ? "(better)" : "(worse)", accuracy[4], StringComparison.Ordinal);
        string[] loss = Cells(metrics).Single(r => r[0] == "test loss");
        double lossDelta = after.TestLoss - before.TestLoss;
        Assert.Equal("↓ lower", loss[1]);
        Assert.EndsWith(lossDelta < 0 ? "(better)" : "(worse)", loss[4], StringComparison.Ordinal);
        Assert.All(Cells(metrics).Skip(1), r => Assert.Equal(("exact", "changed"), (r[5], r[6])));

        // The pictures, linked relatively from the Markdown, are PNGs; an HTML page shows the same.
        foreach (string picture in new[] { "mnist-mlp-50-sgd-tiny-curves.png", "mnist-mlp-50-sgd-tiny-confusion.png" })
        {
            Assert.Contains($"](review-images/{picture})", markdown, StringComparison.Ordinal);
            using SKBitmap bitmap = SKBitmap.Decode(Path.Combine(repo, "review", "review-images", picture));
            Assert.True(bitmap is not null, $"{picture} does not decode");
        }

        // GitHub's own renderer, where installed (CI installs it and sets EXPERIMENTS_REQUIRE_CMARK_GFM=1): one metric table per changed experiment.
        string? cmark = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "cmark-gfm")).FirstOrDefault(File.Exists);
        if (cmark is null)
        {
            Assert.True(Environment.GetEnvironmentVariable("EXPERIMENTS_REQUIRE_CMARK_GFM") is null, "cmark-gfm is required here but not on PATH (apt-get install cmark-gfm)");
            log.WriteLine("cmark-gfm is not installed: the Markdown was checked with Markdig's GitHub-flavoured tables only");
        }
        else
        {
            ProcessStartInfo start = TestEnvironment.ChildProcess(cmark);
            start.ArgumentList.Add("-e");
            start.ArgumentList.Add("table");
            start.ArgumentList.Add(reviewFile);
            using Process process = Process.Start(start)!;
            string html = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.Equal(0, process.ExitCode);
            Assert.Equal(tables.Count, html.Split("<table>").Length - 1);
            Assert.Equal(1, html.Split("<th>metric</th>\n<th>better</th>").Length - 1);
        }

        Assert.Contains("<table>", File.ReadAllText(Path.Combine(repo, "review", "review.html")), StringComparison.Ordinal);
        Assert.Contains("<img src=\"review-images/mnist-mlp-50-sgd-tiny-curves.png\"", File.ReadAllText(Path.Combine(repo, "review", "review.html")), StringComparison.Ordinal);
    }

    [Fact]
    public void Snapshots_hold_the_layer_summary_and_a_review_diffs_it_when_the_layers_changed()
    {
        (_, _, SnapshotDocument before, SnapshotDocument after) = Repository.Value;
        Assert.NotNull(before.Summary);
        Assert.Contains("Total params: 39,760", before.Summary, StringComparison.Ordinal);
        Assert.Equal(before.Render(), SnapshotDocument.Parse(before.Render(), "x").Render());

        // A wider hidden layer, as a declaration change would show it.
        string wider = before.Summary!.Replace("39,760", "79,510", StringComparison.Ordinal);
        var set = new ReviewSet([new ReviewItem("Snapshots/mnist-mlp-50-sgd.verified.txt", before.Render(), (after with { Summary = wider }).Render())], 0, "received snapshots");
        string markdown = Review.Markdown(set, _ => Tolerances.Default, _ => SeedCheck.Default, _ => null, null, ".");
        Assert.Contains("<details><summary>Layer summary: approved → received</summary>", markdown, StringComparison.Ordinal);
        Assert.Contains("```diff\n", markdown, StringComparison.Ordinal);
        Assert.Contains(markdown.Split('\n'), l => l.StartsWith('-') && l.Contains("39,760", StringComparison.Ordinal));
        Assert.Contains(markdown.Split('\n'), l => l.StartsWith('+') && l.Contains("79,510", StringComparison.Ordinal));

        // The same layers: the summary once, not a diff.
        string same = Review.Markdown(
            new ReviewSet([new ReviewItem("Snapshots/mnist-mlp-50-sgd.verified.txt", before.Render(), after.Render())], 0, "received snapshots"),
            _ => Tolerances.Default, _ => SeedCheck.Default, _ => null, null, ".");
        Assert.Contains("<details><summary>Layer summary</summary>", same, StringComparison.Ordinal);
        Assert.DoesNotContain("```diff", same, StringComparison.Ordinal);
    }

    [Fact]
    public void The_pictures_differ_exactly_when_the_runs_differ()
    {
        (_, _, SnapshotDocument before, SnapshotDocument after) = Repository.Value;
        using SKBitmap same = SKBitmap.Decode(Plots.BeforeAfterCurves(before, before));
        using SKBitmap changed = SKBitmap.Decode(Plots.BeforeAfterCurves(before, after));
        Assert.Equal((same.Width, same.Height), (changed.Width, changed.Height));
        int differing = Enumerable.Range(0, same.Width * same.Height).Count(i => same.GetPixel(i % same.Width, i / same.Width) != changed.GetPixel(i % same.Width, i / same.Width));
        Assert.True(differing > 100, $"only {differing} pixels differ between identical and changed curves");

        // The confusion change: nothing coloured when nothing moved (zero is white); red and blue cells when examples moved.
        static (int Red, int Blue) Colours(SKBitmap bitmap)
        {
            int red = 0, blue = 0;
            for (int y = 0; y < bitmap.Height; y++)
            {
                for (int x = 0; x < bitmap.Width; x++)
                {
                    SKColor c = bitmap.GetPixel(x, y);
                    red += c.Red - c.Blue > 80 ? 1 : 0;
                    blue += c.Blue - c.Red > 80 ? 1 : 0;
                }
            }

            return (red, blue);
        }

        using SKBitmap unchanged = SKBitmap.Decode(Plots.ConfusionChange(before.TestConfusion, before.TestConfusion, "unchanged"));
        using SKBitmap moved = SKBitmap.Decode(Plots.ConfusionChange(before.TestConfusion, after.TestConfusion, "moved"));
        Assert.Equal((0, 0), Colours(unchanged));
        (int red, int blue) = Colours(moved);
        Assert.True(red > 0 && blue > 0, $"a moved confusion matrix shows {red} red and {blue} blue pixels");
    }

    [Fact]
    public void Received_snapshots_are_reviewed_and_the_ci_script_writes_the_review_and_keeps_one_comment()
    {
        (string repo, string snapshots, SnapshotDocument before, _) = Repository.Value;
        string work = TestEnvironment.TempDirectory("review-received");
        string folder = Directory.CreateDirectory(Path.Combine(work, "Snapshots")).FullName;
        string verified = Path.Combine(snapshots, "mnist-mlp-50-sgd" + SnapshotVerifier.VerifiedSuffix);
        File.WriteAllText(Path.Combine(folder, "mnist-mlp-50-sgd" + SnapshotVerifier.VerifiedSuffix), before.Render());
        File.Copy(verified, Path.Combine(folder, "mnist-mlp-50-sgd" + SnapshotVerifier.ReceivedSuffix));

        // The script's test step: the tests failed, so it reviews the received snapshots and keeps them for the artifact.
        string outputs = Path.Combine(work, "github-output");
        string reviewDir = Path.Combine(work, "review");
        var test = Script(work, ["test"], new()
        {
            ["EXPERIMENTS_TEST_COMMAND"] = "exit 1",
            ["EXPERIMENTS_CLI"] = $"dotnet {TestEnvironment.Metadata("CatalogExecutable")}",
            ["EXPERIMENTS_SNAPSHOTS"] = folder,
            ["EXPERIMENTS_REVIEW_DIR"] = reviewDir,
            ["GITHUB_OUTPUT"] = outputs,
        });
        Assert.True(test.ExitCode == 1, test.Output);
        Assert.Equal("changed=true\n", File.ReadAllText(outputs));
        string markdown = File.ReadAllText(Path.Combine(reviewDir, "review.md"));
        Assert.Contains("### mnist-mlp-50-sgd (tiny): changed", markdown, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(reviewDir, "received", "mnist-mlp-50-sgd" + SnapshotVerifier.ReceivedSuffix)));

        // The comment step against a stand-in for the GitHub API (gh cannot reach GitHub here). It keeps the pull
        // request's comments as GitHub returns them, a JSON list with other people's and other bots' comments (one of
        // them mentions the tool without the marker), and applies the script's own --jq filter with jq, as gh does.
        string bin = Directory.CreateDirectory(Path.Combine(work, "bin")).FullName;
        string state = Path.Combine(work, "comments.json");
        string log = Path.Combine(work, "gh.log");
        File.WriteAllText(state, """
            [
              {"id": 11, "body": "Looks good; the experiments-review artifact is attached below.", "html_url": "https://github.example/pr/7#issuecomment-11"},
              {"id": 12, "body": "<!-- coverage-report -->\nCoverage 81%", "html_url": "https://github.example/pr/7#issuecomment-12"}
            ]
            """);
        File.WriteAllText(Path.Combine(bin, "gh"), $$"""
            #!/usr/bin/env bash
            set -euo pipefail
            echo "$*" >> '{{log}}'
            [ "$1" = api ] || { echo "stand-in gh: only 'gh api' is supported" >&2; exit 2; }
            shift
            method=GET url="" filter="." body=""
            while [ "$#" -gt 0 ]; do
              case "$1" in
                -X) method="$2"; shift 2 ;;
                --jq) filter="$2"; shift 2 ;;
                --paginate) shift ;;
                -f) case "$2" in body=*) body="${2#body=}" ;; esac; shift 2 ;;
                *) url="$1"; shift ;;
              esac
            done
            case "$method $url" in
              "GET repos/owner/name/issues/7/comments") jq -r "$filter" '{{state}}' ;;
              "POST repos/owner/name/issues/7/comments")
                id=$(( $(jq 'map(.id) | max' '{{state}}') + 31 ))
                jq --argjson id "$id" --arg body "$body" '. + [{id: $id, body: $body, html_url: "https://github.example/pr/7#issuecomment-\($id)"}]' '{{state}}' > '{{state}}.new'
                mv '{{state}}.new' '{{state}}'
                jq -r --argjson id "$id" ".[] | select(.id == \$id) | $filter" '{{state}}' ;;
              "PATCH repos/owner/name/issues/comments/"*)
                id="${url##*/}"
                jq -e --argjson id "$id" 'any(.[]; .id == $id)' '{{state}}' > /dev/null || { echo "gh: HTTP 404: Not Found ($url)" >&2; exit 1; }
                jq --argjson id "$id" --arg body "$body" 'map(if .id == $id then .body = $body else . end)' '{{state}}' > '{{state}}.new'
                mv '{{state}}.new' '{{state}}'
                jq -r --argjson id "$id" ".[] | select(.id == \$id) | $filter" '{{state}}' ;;
              *) echo "stand-in gh: unexpected call $method $url" >&2; exit 2 ;;
            esac
            """);
        Assert.False(OperatingSystem.IsWindows(), "the CI script is a bash script for Linux and macOS runners");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(bin, "gh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        Dictionary<string, string> github = new()
        {
            ["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH"),
            ["REPOSITORY"] = "owner/name",
            ["PULL_REQUEST"] = "7",
            ["ARTIFACT_URL"] = "https://github.example/runs/1",
        };
        var first = Script(work, ["comment", Path.Combine(reviewDir, "review.md")], github);
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Contains("created a comment", first.Output, StringComparison.Ordinal);
        var second = Script(work, ["comment", Path.Combine(reviewDir, "review.md")], github);
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Contains("updated comment 43", second.Output, StringComparison.Ordinal);
        string[] calls = File.ReadAllLines(log);
        Assert.Single(calls, c => c.StartsWith("api -X POST repos/owner/name/issues/7/comments", StringComparison.Ordinal));
        Assert.Single(calls, c => c.StartsWith("api -X PATCH repos/owner/name/issues/comments/43", StringComparison.Ordinal));

        // One review comment on the pull request, the others untouched.
        var comments = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(state))!.AsArray();
        Assert.Equal([11, 12, 43], comments.Select(c => (int)c!["id"]!));
        Assert.StartsWith("Looks good;", (string)comments[0]!["body"]!, StringComparison.Ordinal);
        Assert.StartsWith("<!-- coverage-report -->", (string)comments[1]!["body"]!, StringComparison.Ordinal);
        string comment = (string)comments[2]!["body"]!;
        Assert.StartsWith(Review.Marker, comment, StringComparison.Ordinal);
        Assert.Contains("[this run](https://github.example/runs/1)", comment, StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_markdown_puts_fields_metrics_and_confusion_in_blocks_of_their_own()
    {
        (string repo, _, SnapshotDocument before, SnapshotDocument after) = Repository.Value;
        string a = Path.Combine(TestEnvironment.TempDirectory("diff-md"), "a.verified.txt");
        File.WriteAllText(a, before.Render());
        var diff = ProcessDeterminismTests.CliIn(repo, "diff", a, Path.Combine(repo, "Snapshots", "mnist-mlp-50-sgd" + SnapshotVerifier.VerifiedSuffix), "--md");
        Assert.True(diff.ExitCode == 1, diff.Output);
        MarkdownDocument document = Markdown.Parse(diff.Output, Gfm);
        List<Table> tables = document.Descendants<Table>().ToList();
        Assert.Contains(tables, t => Cells(t)[0].SequenceEqual(["field", "A", "B"]) && Cells(t).Any(r => r[0] == "run.settings"));
        Assert.Contains(tables, t => Cells(t)[0].SequenceEqual(["metric", "better", "A", "B", "change", "tolerance", "verdict"]));
        Assert.Empty(document.Descendants<ListItemBlock>().SelectMany(i => i.Descendants<Table>()));
        Assert.DoesNotContain(document.Descendants<ListItemBlock>(), i => diff.Output.Substring(i.Span.Start, i.Span.Length).Contains("run.settings", StringComparison.Ordinal));
        Assert.Contains("Confusion cells that moved (test)", diff.Output, StringComparison.Ordinal);

        // The review's renderer, not its comment: no marker a CI script would take for its own review.
        Assert.DoesNotContain(Review.Marker, diff.Output, StringComparison.Ordinal);
        Assert.NotEqual(before.TestAccuracy, after.TestAccuracy);
    }

    private static List<string[]> Cells(Table table) => table.OfType<TableRow>()
        .Select(row => row.OfType<TableCell>().Select(cell => string.Concat(cell.Descendants<Markdig.Syntax.Inlines.LiteralInline>().Select(l => l.Content.ToString()))).ToArray())
        .ToList();

    private static (int ExitCode, string Output) Script(string folder, string[] arguments, Dictionary<string, string> environment)
    {
        ProcessStartInfo start = TestEnvironment.ChildProcess("bash");
        start.ArgumentList.Add(Path.Combine(TestEnvironment.RepositoryRoot, "scripts", "pr-review.sh"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.WorkingDirectory = folder;
        foreach ((string name, string value) in environment)
        {
            start.Environment[name] = value;
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }

    private static void Git(string folder, params string[] arguments)
    {
        (int exitCode, string stdout, string stderr) = IO.ChildProcess.Capture(["git", .. arguments], folder);
        Assert.True(exitCode == 0, $"git {string.Join(' ', arguments)}: {stdout}{stderr}");
    }
}
