using System.CommandLine;
using Experiments.Runtime.Configuration;
using Experiments.Runtime.IO;
using Experiments.Runtime.Reports;
using Experiments.Runtime.Snapshots;

namespace Experiments.Runtime.Hosting;

public static partial class ExperimentsCli
{
    private static Command ReviewCommand(IReadOnlyList<IExperiment> registry)
    {
        var root = new Argument<string>("snapshots") { Description = "The approved snapshots' folder (default: the current folder).", DefaultValueFactory = _ => "." };
        var baseRef = new Option<string?>("--base") { Description = "Review the verified snapshots that changed since this git ref (e.g. origin/main) instead of the received ones." };
        var markdown = new Option<string?>("--md") { Description = "Write the Markdown to this file (and an HTML page beside it) instead of printing it." };
        var images = new Option<string?>("--images") { Description = "Write the pictures here (default with --md: review-images beside the Markdown); the Markdown links them relatively." };
        var config = new Option<string?>("--config") { Description = "A configuration file whose experiments.NAME.tolerances override the declared ones." };
        var command = new Command(
            "review",
            "A pull-request comment for the result snapshots that changed: per experiment what changed in what was run, the metrics with direction, "
            + "tolerance and verdict, before/after curves and the confusion change as pictures, the history and the moved confusion cells.")
        {
            root, baseRef, markdown, images, config,
        };
        command.SetAction(parse => Guard(() =>
        {
            string folder = parse.GetValue(root)!;
            if (!Directory.Exists(folder))
            {
                throw new UsageException($"{folder} is not a folder; give the approved snapshots' folder.");
            }

            ExperimentsConfig configuration = ExperimentsConfig.Load(parse.GetValue(config) ?? ExperimentsConfig.Discover(ProjectDirectory()), []);
            ReviewSet set = parse.GetValue(baseRef) is { } reference ? Review.FromGit(folder, reference) : Review.FromReceived(folder);
            string? output = parse.GetValue(markdown) is { } path ? Path.GetFullPath(path) : null;
            string linkFrom = output is null ? Directory.GetCurrentDirectory() : Path.GetDirectoryName(output)!;
            string? pictures = parse.GetValue(images) is { } given ? Path.GetFullPath(given) : output is null ? null : Path.Combine(linkFrom, "review-images");
            string text = ReviewMarkdown(registry, set, DeclaredTolerances(registry, configuration), pictures, linkFrom, ReviewSides.ApprovedReceived);
            if (output is null)
            {
                Console.Write(text);
                return Success;
            }

            Directory.CreateDirectory(linkFrom);
            AtomicFile.WriteAllText(output, text);
            string html = Path.ChangeExtension(output, ".html");
            AtomicFile.WriteAllText(html, ResultsReport.Html(text, "Experiment results review"));
            Console.WriteLine($"{set.Changed.Count} changed snapshots reviewed -> {output} and {html}" + (pictures is null || set.Changed.Count == 0 ? "" : $", pictures in {pictures}"));
            return Success;
        }));
        return command;
    }

    /// <summary>The review's Markdown with what the registry declares: tolerances, multi-seed checks and layer summaries (`review`, `diff --md`).</summary>
    private static string ReviewMarkdown(
        IReadOnlyList<IExperiment> registry, ReviewSet set, Func<string, Tolerances> tolerances, string? images, string linkFrom, ReviewSides sides)
    {
        IExperiment? Known(string name) => registry.FirstOrDefault(e => e.Info.Name == name);
        return Review.Markdown(
            set,
            tolerances,
            name => Known(name) is { } known ? SeedCheck.For(known) : SeedCheck.Default,
            name => Known(name)?.Info.Summary,
            images,
            linkFrom,
            sides);
    }
}
