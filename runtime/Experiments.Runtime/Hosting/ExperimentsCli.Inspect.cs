using Experiments.Runtime.Configuration;
using Experiments.Runtime.IO;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Experiments.Runtime.Data;
using Experiments.Runtime.Reports;
using Experiments.Runtime.Snapshots;
using Experiments.Runtime.Training;

namespace Experiments.Runtime.Hosting;

// The commands that read results and declarations: list, summary, report, diff, data.
public static partial class ExperimentsCli
{
    private static Command ListCommand(IReadOnlyList<IExperiment> registry)
    {
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var shardOption = new Option<string?>("--shard") { Description = "Only the experiments that `run --shard i/N` runs (with the declared seed)." };
        var command = new Command("list", "List the registered experiments: name, dataset, parameters, fingerprint.") { json, shardOption };
        command.SetAction(parse => Guard(() =>
        {
            IReadOnlyList<IExperiment> shown = registry;
            if (parse.GetValue(shardOption) is { } shardText)
            {
                Shard shard = Shard.Parse(shardText, "--shard");
                shown = registry.Where(e => shard.Contains(new WorkUnit(e.Info.Name, null))).ToList();
            }

            if (parse.GetValue(json))
            {
                var rows = shown.Select(e => new
                {
                    name = e.Info.Name, dataset = Data.Datasets.Label(e.Info), parameters = e.Info.Parameters, fingerprint = e.Info.Fingerprint, description = e.Info.Description,
                    sweep = e.Info.Sweep.Length > 0 ? e.Info.Sweep : null,
                    sweep_parameters = e.Info.Sweep.Length > 0 ? e.Info.SweepParameters.ToDictionary(p => p.Name, p => p.Value) : null,
                });
                Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
                return Success;
            }

            // Fingerprint last: its column is right-aligned, like the parameter count before it, and all are 16 wide.
            string[] header = ["name", "dataset", "parameters", "fingerprint"];
            IEnumerable<string[]> table = shown.Select(e => new[]
            {
                e.Info.Name, Data.Datasets.Label(e.Info), e.Info.Parameters.ToString("N0", CultureInfo.InvariantCulture), e.Info.Fingerprint,
            });
            Console.Write(TextTable.Render([header, .. table], leftAligned: 2));

            // A sweep's points are listed together (registry order); what they vary, and how to run them all.
            foreach (IGrouping<string, IExperiment> sweep in shown.Where(e => e.Info.Sweep.Length > 0).GroupBy(e => e.Info.Sweep))
            {
                IEnumerable<string> axes = sweep.First().Info.SweepParameters.Select((parameter, i) =>
                    $"{parameter.Name} ({string.Join(", ", sweep.Select(e => e.Info.SweepParameters[i].Value).Distinct())})");
                Console.WriteLine($"sweep {sweep.Key}: {sweep.Count()} points over {string.Join(" x ", axes)}; run them all with: run '{sweep.Key}@*'");
            }

            return Success;
        }));
        return command;
    }

    private static Command SummaryCommand(IReadOnlyList<IExperiment> registry)
    {
        var name = new Argument<string>("name") { Description = "The experiment's name." };
        var command = new Command("summary", "Print an experiment's Keras-style summary.") { name };
        command.SetAction(parse => Guard(() =>
        {
            IExperiment experiment = ExperimentSelector.Select(registry, [parse.GetValue(name)!]).Single();
            Console.WriteLine(experiment.Info.Summary);
            return Success;
        }));
        return command;
    }

    private static Command ReportCommand(IReadOnlyList<IExperiment> registry)
    {
        var folder = new Argument<string>("folder") { Description = "A results folder (one subfolder per experiment).", DefaultValueFactory = _ => "results" };
        var command = new Command("report", "Write report.md and report.html comparing every experiment of a results folder.") { folder };
        command.SetAction(parse => Guard(() =>
        {
            string path = parse.GetValue(folder)!;
            IReadOnlyList<ResultsReport.Row> rows = ResultsReport.Load(path, registry, Profile.Full.Name);
            (string markdown, string html, string text) = ResultsReport.Write(path, rows);
            Console.Write(text.Split("\n## ")[0]);
            Console.WriteLine($"Wrote {markdown} and {html}.");
            return Success;
        }));
        return command;
    }

    private static Command DiffCommand(IReadOnlyList<IExperiment> registry)
    {
        var a = new Argument<string>("a") { Description = "A result folder, a folder of results, or a snapshot file (*.verified.txt)." };
        var b = new Argument<string>("b") { Description = "The same kinds as A." };
        var markdown = new Option<bool>("--md") { Description = "Print Markdown, ready to paste as a pull-request comment." };
        var config = new Option<string?>("--config") { Description = "A configuration file whose experiments.NAME.tolerances override the declared ones." };
        var command = new Command(
            "diff",
            "Metric deltas and confusion-matrix changes between two results; exit code 1 when a change exceeds the experiment's declared tolerances. "
            + "Two multi-seed folders (with aggregate.json) are compared as distributions: difference of means with its 95% interval, probability of improvement, and a verdict; exit code 1 when a metric is worse beyond noise.")
        {
            a, b, markdown, config,
        };
        command.SetAction(parse => Guard(() =>
        {
            string left = parse.GetValue(a)!;
            string right = parse.GetValue(b)!;
            if (SeedAggregate.IsAggregateFolder(left) && SeedAggregate.IsAggregateFolder(right))
            {
                // Two multi-seed results: distributions, not single draws. Exit code 1 when a metric got worse beyond noise.
                SeedAggregate before = SeedAggregate.Load(left);
                SeedAggregate after = SeedAggregate.Load(right);
                IReadOnlyList<SeedDiff.Row> rows = SeedDiff.Compare(before, after);
                Console.Write(SeedDiff.Render(rows, left, right, before.Experiment, after.Experiment, parse.GetValue(markdown)));
                return rows.Any(r => r.Comparison.Verdict == Results.SeedVerdict.Worse) ? RunFailed : Success;
            }

            Configuration.ExperimentsConfig configuration = Configuration.ExperimentsConfig.Load(
                parse.GetValue(config) ?? Configuration.ExperimentsConfig.Discover(ProjectDirectory()), []);
            Func<string, Tolerances> tolerances = DeclaredTolerances(registry, configuration);
            IReadOnlyList<DiffEntry> entries = ResultDiff.Compare(ResultDiff.Load(left), ResultDiff.Load(right), tolerances);
            if (parse.GetValue(markdown))
            {
                // The same renderer as `review`, with A and B for sides and the declared tolerances for every pair.
                Console.Write(ReviewMarkdown(registry, ResultDiff.AsReview(entries, left, right), tolerances, images: null, Directory.GetCurrentDirectory(), ReviewSides.Diff));
            }
            else
            {
                Console.Write(ResultDiff.Render(entries, left, right));
            }

            return entries.Any(e => e.Beyond.Count > 0) ? RunFailed : Success;
        }));
        return command;
    }

    private static Command DataCommand(IReadOnlyList<IExperiment> registry)
    {
        var dataset = new Argument<string[]>("datasets") { Description = "mnist, fashion-mnist, digits, iris (default: mnist and fashion-mnist).", Arity = ArgumentArity.ZeroOrMore };
        var verifyArguments = new Argument<string[]>("datasets")
        {
            Description = "mnist, fashion-mnist, digits, iris, or experiments (names or globs) on image folders or CSV files, whose content SHA-256 is printed (default: mnist and fashion-mnist).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var fetch = new Command("fetch", "Provision datasets into the user cache, verifying SHA-256.") { dataset };
        fetch.SetAction(parse => Guard(() =>
        {
            foreach (DatasetSpec spec in Datasets(parse.GetValue(dataset)!))
            {
                IReadOnlyList<string> paths = new DatasetProvisioner().Provide(spec, Console.WriteLine);
                Console.WriteLine($"{spec.DisplayName}: verified {string.Join(", ", paths)}");
            }

            return Success;
        }));
        var verify = new Command(
            "verify",
            "Check the provisioned files' SHA-256 without fetching anything, or read an experiment's image folder and print its content SHA-256 (what its results' identity records); exit code 3 if one is missing or wrong.")
        {
            verifyArguments,
        };
        verify.SetAction(parse => Guard(() =>
        {
            bool allGood = true;
            string[] keys = parse.GetValue(verifyArguments)!;
            string[] builtIn = keys.Where(k => k is "mnist" or "fashion-mnist" or "digits" or "iris").ToArray();
            string[] experiments = keys.Except(builtIn).ToArray();
            foreach (IExperiment experiment in experiments.Length == 0 ? [] : ExperimentSelector.Select(registry, experiments))
            {
                if (experiment.Info is { Folder: null, Table: null })
                {
                    throw new UsageException($"{experiment.Info.Name} trains on {DatasetSpec.For(experiment.Info.Dataset).Key}, whose files `data verify {DatasetSpec.For(experiment.Info.Dataset).Key}` checks.");
                }

                ImageDataset data = Data.Datasets.Load(experiment.Info);
                Console.WriteLine($"{experiment.Info.Name}: {data.Key}: sha256 {data.ContentSha256} ({data.Train.Count} train and {data.Test.Count} test {(data.Train.IsTable ? "rows" : "images")}, {data.ClassCount} classes: {string.Join(", ", data.ClassNames)})");
            }

            foreach (DatasetSpec spec in builtIn.Length == 0 && experiments.Length > 0 ? [] : Datasets(builtIn))
            {
                foreach ((string path, string status) in new DatasetProvisioner().Check(spec))
                {
                    Console.WriteLine($"{spec.DisplayName}: {path}: {status}");
                    allGood &= status == "ok";
                }
            }

            if (!allGood)
            {
                Console.Error.WriteLine("error: some dataset files are missing or wrong; `data fetch` provisions them again.");
            }

            return allGood ? Success : DataError;
        }));
        var command = new Command("data", "Provision and verify datasets, or write a built-in one as an image folder.") { fetch, verify, ImagesCommand() };
        return command;
    }

    private static Command ImagesCommand()
    {
        var dataset = new Argument<string>("dataset") { Description = "mnist or fashion-mnist." };
        var output = new Argument<string>("folder") { Description = "The image folder to create (it must not exist yet)." };
        var train = new Option<int>("--train") { Description = "Training images per class (the first of each class in file order).", DefaultValueFactory = _ => 50 };
        var test = new Option<int>("--test") { Description = "Test images per class (0: no test folder, so a declaration holds out TestFraction).", DefaultValueFactory = _ => 10 };
        var command = new Command("images", "Write the first images of each class of a built-in dataset as PNG files: FOLDER/train/<class>/NNNNN.png and FOLDER/test/<class>/...") { dataset, output, train, test };
        command.SetAction(parse => Guard(() =>
        {
            DatasetSpec spec = Datasets([parse.GetValue(dataset)!]).Single();
            if (spec.Files.Count != 4)
            {
                throw new UsageException($"data images writes MNIST or Fashion-MNIST (image files with a test set of their own), not {spec.Key}.");
            }

            int perClassTrain = parse.GetValue(train), perClassTest = parse.GetValue(test);
            if (perClassTrain < 1 || perClassTest < 0)
            {
                throw new UsageException($"--train must be at least 1 and --test at least 0 (got {perClassTrain} and {perClassTest}).");
            }

            ImageDataset data = ImageDataset.Load(spec, new DatasetProvisioner(), Console.WriteLine);
            (int trainCount, int testCount) = ImageFolderWriter.Write(data, parse.GetValue(output)!, perClassTrain, perClassTest);
            Console.WriteLine($"{spec.DisplayName}: wrote {trainCount} training and {testCount} test images to {Path.GetFullPath(parse.GetValue(output)!)}");
            return Success;
        }));
        return command;
    }

    private static IEnumerable<DatasetSpec> Datasets(string[] keys)
    {
        DatasetSpec[] all = [DatasetSpec.Mnist, DatasetSpec.FashionMnist, DatasetSpec.Digits, DatasetSpec.Iris];
        return keys.Length == 0 ? all[..2] : keys.Select(k => all.FirstOrDefault(s => s.Key == k)
            ?? throw new UsageException($"Unknown dataset '{k}'. Known: {string.Join(", ", all.Select(s => s.Key))}."));
    }
}
