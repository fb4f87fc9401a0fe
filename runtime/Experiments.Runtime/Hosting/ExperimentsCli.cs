using Experiments.Runtime.Configuration;
using Experiments.Runtime.IO;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Experiments.Runtime.Data;
using Experiments.Runtime.Native;
using Experiments.Runtime.Reports;
using Experiments.Runtime.Results;
using Experiments.Runtime.Snapshots;
using Experiments.Runtime.Training;

namespace Experiments.Runtime.Hosting;

/// <summary>
/// The command line every experiments project gets with one line: <c>return ExperimentsCli.Run(args, registry);</c>.
/// Exit codes: 0 success, 1 a run failed (or diverged, or a change exceeds tolerance), 2 usage or configuration error,
/// 3 dataset error, 4 device or native-library error, 130 stopped by Ctrl-C or SIGTERM after saving a checkpoint.
/// </summary>
public static partial class ExperimentsCli
{
    public const int Success = 0;
    public const int RunFailed = 1;
    public const int UsageError = 2;
    public const int DataError = 3;
    public const int DeviceError = 4;
    public const int Interrupted = 130;

    public static int Run(string[] args, IReadOnlyList<IExperiment> registry)
    {
        var root = new RootCommand("Reproducible deep-learning experiments: list, summarise and run the registered experiments.");
        root.Subcommands.Add(ListCommand(registry));
        root.Subcommands.Add(SummaryCommand(registry));
        root.Subcommands.Add(RunCommand(registry));
        root.Subcommands.Add(ReportCommand(registry));
        root.Subcommands.Add(DiffCommand(registry));
        root.Subcommands.Add(AcceptCommand(registry));
        root.Subcommands.Add(ReviewCommand(registry));
        root.Subcommands.Add(DataCommand());
        root.Subcommands.Add(SlurmCommand(registry));
        root.Subcommands.Add(KubernetesCommand(registry));
        root.Subcommands.Add(CollectCommand(registry));
        root.Subcommands.Add(PublishCommand());
        return root.Parse(args).Invoke();
    }

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
                    name = e.Info.Name, dataset = DatasetSpec.For(e.Info.Dataset).Key, parameters = e.Info.Parameters, fingerprint = e.Info.Fingerprint, description = e.Info.Description,
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
                e.Info.Name, DatasetSpec.For(e.Info.Dataset).Key, e.Info.Parameters.ToString("N0", CultureInfo.InvariantCulture), e.Info.Fingerprint,
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

    private static Command RunCommand(IReadOnlyList<IExperiment> registry)
    {
        var names = new Argument<string[]>("names") { Description = "Experiment names or globs (mnist-*); optional with --from.", Arity = ArgumentArity.ZeroOrMore };
        var profile = new Option<string?>("--profile") { Description = "full (the notebook's settings), smoke (seeded subset, fewer epochs) or a profile from the configuration. Default: full." };
        var device = new Option<string?>("--device") { Description = "cpu, cuda, cuda:N or auto (CUDA when this process has it, else the CPU). Default: the profile's, else cpu." };
        var threads = new Option<int?>("--threads") { Description = "Intra-op CPU threads (part of the result's identity). Default: the profile's, else all cores." };
        var seed = new Option<string?>("--seed")
        {
            Description = "Replace the declared seed (splits, initial weights, shuffles, dropout). A list (1,2,3) runs each as one seed of a multi-seed result.",
        };
        var seeds = new Option<int?>("--seeds") { Description = "Run seeds 1..N as one multi-seed result: OUT/NAME/seed-K per seed, aggregate.json, report.md and plots." };
        var parallel = new Option<int?>("--parallel") { Description = "Run the seeds in N worker processes (default: one after another in this process); the results are the same bits." };
        var seedWorker = new Option<bool>("--seed-worker") { Description = "Internal: write seed-K folders and no aggregate (a worker of --parallel).", Hidden = true };
        var output = new Option<string?>("--out") { Description = "Results folder; one subfolder per experiment. Default: the configuration's output, else results." };
        var config = new Option<string?>("--config") { Description = $"A configuration file. Default: {Configuration.ExperimentsConfig.FileName} in the current folder or beside the experiments project." };
        var sets = new Option<string[]>("--set") { Description = "Override one configuration key, e.g. --set profiles.smoke.max_epochs=2 (repeatable).", Arity = ArgumentArity.ZeroOrMore };
        var from = new Option<string?>("--from") { Description = "Replay a result's config.yaml exactly (experiments, profile, device, threads, overrides)." };
        var data = new Option<string?>("--data") { Description = "A folder with the dataset's IDX files (overrides EXPERIMENTS_DATA)." };
        var epochs = new Option<int?>("--epochs") { Description = "Cap the number of epochs." };
        var snapshot = new Option<string?>("--snapshot")
        {
            Description = "Also write the run's snapshot (the text of approved *.verified.txt files; with several seeds, the multi-seed snapshot) to this file; with several experiments, to this folder.",
        };
        var resume = new Option<bool>("--resume") { Description = "Continue each experiment from its last checkpoint (OUT/.checkpoints/NAME.ckpt) if there is one." };
        var recordDivergence = new Option<bool>("--record-divergence") { Description = "Record a NaN or infinite loss as the result instead of failing." };
        var kernels = new Option<string?>("--kernels")
        {
            Description = "After each run, repeat it under these CPU kernel sets, one process each (all, or names: "
                + string.Join(", ", KernelSet.All.Select(k => k.Name)) + "), print the spread and write it to OUT/NAME/kernels.txt.",
        };
        var pinKernels = new Option<string?>("--pin-kernels")
        {
            Description = "Run under one CPU kernel set in this process (e.g. avx2, portable); recorded in the result's identity.",
        };
        var shardOption = new Option<string?>("--shard")
        {
            Description = "Run shard i of N (i/N) of the selected work units (one per experiment, or per seed with several seeds). Default under a "
                + "Slurm array: SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT; in a Kubernetes Indexed Job: JOB_COMPLETION_INDEX of --shard-count.",
        };
        var shardCount = new Option<int?>("--shard-count") { Description = "The number of shards when the index comes from JOB_COMPLETION_INDEX (the Job's completions)." };
        var unitsOption = new Option<string?>("--units") { Description = "A unit list written by `experiments slurm`/`k8s`: run the units of one task (--unit-index, else SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)." };
        var unitIndex = new Option<int?>("--unit-index") { Description = "The task of --units to run (0-based)." };
        var unitsPerTask = new Option<int?>("--units-per-task") { Description = "Units per task of --units (default 1)." };
        var command = new Command("run", "Train and evaluate experiments; write metrics, history, confusion matrices, plots and report.md per experiment.")
        {
            names, profile, device, threads, seed, seeds, parallel, seedWorker, output, config, sets, from, data, epochs, snapshot, resume, recordDivergence, kernels, pinKernels,
            shardOption, shardCount, unitsOption, unitIndex, unitsPerTask,
        };
        command.SetAction(parse => Guard(() =>
        {
            // Before anything loads LibTorch: each library reads its kernel variable once, when it initialises.
            if (parse.GetValue(pinKernels) is { } pinned)
            {
                KernelSet.Find(pinned).Pin();
            }

            IReadOnlyList<KernelSet> spreadSets = parse.GetValue(kernels) is { } kernelChoice ? KernelSet.Parse(kernelChoice) : [];
            string? fromPath = parse.GetValue(from);
            string? configPath = fromPath ?? parse.GetValue(config) ?? Configuration.ExperimentsConfig.Discover(ProjectDirectory());
            Configuration.ExperimentsConfig configuration = Configuration.ExperimentsConfig.Load(configPath, parse.GetValue(sets) ?? []);
            string? unitsPath = parse.GetValue(unitsOption);
            IReadOnlyList<WorkUnit>? listedUnits = null;
            if (unitsPath is not null)
            {
                int perTask = parse.GetValue(unitsPerTask) ?? 1;
                if (perTask < 1)
                {
                    throw new UsageException($"--units-per-task {perTask}: use at least 1.");
                }

                int taskIndex = UnitList.TaskIndex(parse.GetValue(unitIndex), Environment.GetEnvironmentVariable);
                listedUnits = UnitList.Task(UnitList.Read(unitsPath), taskIndex, perTask, unitsPath);
                Console.WriteLine($"task {taskIndex} of {unitsPath}: {string.Join(", ", listedUnits)}");
            }

            string[] patterns = listedUnits is not null ? [.. listedUnits.Select(u => u.Experiment).Distinct()]
                : parse.GetValue(names) is { Length: > 0 } given ? given
                : configuration.Run?.Experiments is { Count: > 0 } stored ? [.. stored]
                : throw new UsageException("Name the experiments to run (names or globs such as mnist-*), or replay a result with --from results/NAME/config.yaml.");
            IReadOnlyList<IExperiment> chosen = ExperimentSelector.Select(registry, patterns);
            // A sweep's name configures all its points.
            string[] unknown = configuration.Experiments.Keys.Where(k => registry.All(e => e.Info.Name != k && e.Info.Sweep != k)).ToArray();
            if (unknown.Length > 0)
            {
                throw new UsageException($"{configPath}: 'experiments' names {string.Join(", ", unknown)}, which no [Experiment] declares. Known: {string.Join(", ", registry.Select(e => e.Info.Name))}.");
            }

            Configuration.ProfileConfig p = configuration.Profile(parse.GetValue(profile) ?? configuration.Run?.Profile ?? Profile.Full.Name);
            // Resolved once (auto becomes cpu or cuda:0) so that config.yaml records, and --from replays, the device used.
            string deviceName = TorchRuntime.Resolve(parse.GetValue(device) ?? configuration.Run?.Device ?? p.Device ?? "cpu").ToString();
            int threadCount = parse.GetValue(threads) ?? configuration.Run?.Threads ?? p.Threads ?? Environment.ProcessorCount;
            if (threadCount < 1)
            {
                throw new UsageException($"--threads {threadCount}: use at least 1.");
            }

            int? maxEpochs = parse.GetValue(epochs);
            if (maxEpochs is < 1)
            {
                throw new UsageException($"--epochs {maxEpochs}: use at least 1.");
            }

            (IReadOnlyList<long>? seedList, long? seedOverride) = SeedChoice(parse.GetValue(seed), parse.GetValue(seeds), parse.GetValue(seedWorker));
            int workers = parse.GetValue(parallel) ?? 1;
            if (workers < 1)
            {
                throw new UsageException($"--parallel {workers}: use at least 1.");
            }

            if (seedList is not null && fromPath is not null)
            {
                throw new UsageException("Several seeds cannot be combined with --from; a result's config.yaml replays one seed.");
            }

            string outputRoot = parse.GetValue(output) ?? configuration.Output ?? "results";
            Shard? shard = listedUnits is not null ? null
                : parse.GetValue(shardOption) is { } shardText ? Shard.Parse(shardText, "--shard")
                : Shard.FromEnvironment(Environment.GetEnvironmentVariable, parse.GetValue(shardCount));
            bool unitMode = listedUnits is not null || shard is not null;
            if (unitMode && (spreadSets.Count > 0 || parse.GetValue(snapshot) is not null || workers > 1 || fromPath is not null || parse.GetValue(seedWorker)))
            {
                throw new UsageException("--shard, --units and a scheduler's task index run work units into a shared folder; they cannot be combined with --kernels, --snapshot, --parallel or --from.");
            }

            // A sharded run shares the output folder with other tasks: each unit takes its own lock instead of the folder's.
            using OutputLock? outputLock = unitMode ? null : OutputLock.Acquire(outputRoot);
            using var stop = new CancellationTokenSource();
            using StopSignals signals = StopSignals.Register(stop);

            // One run of one experiment with one seed, written to root/folder (default: OUT/NAME).
            (ExperimentResult Result, string Folder) RunOne(IExperiment experiment, long? seedValue, string root, string? folderName)
            {
                Configuration.ExperimentOverrides? overrides = configuration.For(experiment.Info.Name);
                Configuration.ProfileConfig profileUsed = configuration.ProfileFor(experiment.Info.Name, p, maxEpochs);
                RunOptions resolvedOptions = configuration.RunOptions(experiment.Info.Name, p, deviceName, threadCount, seedValue, maxEpochs);
                RunOptions options = resolvedOptions with
                {
                    Data = parse.GetValue(data) is { } dataFolder ? new ProvisioningOptions { ExplicitDirectory = dataFolder } : null,
                    CheckpointPath = Path.Combine(outputRoot, ".checkpoints", experiment.Info.Name + (folderName is null ? "" : "." + folderName) + ".ckpt"),
                    Resume = parse.GetValue(resume),
                    Stop = stop.Token,
                    RecordDivergence = resolvedOptions.RecordDivergence || parse.GetValue(recordDivergence),
                };
                Console.WriteLine($"== {experiment.Info.Name}{(folderName is null ? "" : $" {folderName}")} ({p.Name}, {options.Device}, {threadCount} threads)");
                (ExperimentResult result, ImageSet testImages) = RunDisplay.Run(experiment, options);
                string resolved = Configuration.ExperimentsConfig.Resolved(experiment.Info.Name, profileUsed, deviceName, threadCount, root, overrides, seedValue);
                string written = ResultWriter.Write(result, root, experiment, resolved, testImages, folderName);
                RemoveCheckpoint(options.CheckpointPath);
                return (result, written);
            }

            // The command line's seeds, else the profile's seeds: N, else the declaration's Seeds = N.
            IReadOnlyList<long>? SeedsOf(IExperiment experiment)
            {
                int defaultSeeds = seedList is null && seedOverride is null && fromPath is null ? p.Seeds ?? experiment.Info.Seeds : 1;
                return seedList ?? (defaultSeeds > 1 ? Enumerable.Range(1, defaultSeeds).Select(k => (long)k).ToList() : null);
            }

            if (unitMode)
            {
                IReadOnlyList<WorkUnit> units = listedUnits ?? chosen
                    .SelectMany(e => SeedsOf(e) is { } list ? list.Select(k => new WorkUnit(e.Info.Name, k)) : [new WorkUnit(e.Info.Name, null)])
                    .Where(shard!.Contains)
                    .ToList();
                if (shard is not null)
                {
                    Console.WriteLine($"shard {shard.Index}/{shard.Count} ({shard.Source}): {units.Count} units{(units.Count == 0 ? "" : ": " + string.Join(", ", units))}");
                }

                foreach (WorkUnit unit in units)
                {
                    using OutputLock unitLock = OutputLock.Acquire(Path.Combine(outputRoot, ".locks", unit.Id.Replace('/', '.')));
                    if (parse.GetValue(resume) && unit.IsComplete(outputRoot))
                    {
                        Console.WriteLine($"== {unit}: complete in {Path.Combine(outputRoot, unit.Id)}, skipped (--resume)");
                        continue;
                    }

                    IExperiment experiment = chosen.Single(e => e.Info.Name == unit.Experiment);
                    (ExperimentResult result, string folder) = unit.Seed is { } unitSeed
                        ? RunOne(experiment, unitSeed, Path.Combine(outputRoot, unit.Experiment), SeedRunner.FolderName(unitSeed))
                        : RunOne(experiment, seedOverride, outputRoot, null);
                    Console.WriteLine("   " + Headline(result, folder));
                }

                return Success;
            }

            foreach (IExperiment experiment in chosen)
            {
                IReadOnlyList<long>? experimentSeeds = SeedsOf(experiment);
                if (experimentSeeds is not null)
                {
                    if (spreadSets.Count > 0 || (parse.GetValue(snapshot) is not null && experimentSeeds.Count < 2 && !parse.GetValue(seedWorker)))
                    {
                        throw new UsageException(spreadSets.Count > 0
                            ? $"'{experiment.Info.Name}' runs {experimentSeeds.Count} seeds, which cannot be combined with --kernels; choose one with --seed."
                            : $"'{experiment.Info.Name}' runs one seed as a multi-seed result: a multi-seed --snapshot needs two or more seeds (--seeds N or --seed 1,2,3).");
                    }

                    var seedRun = new SeedRunner(experiment, experimentSeeds, outputRoot, parse.GetValue(resume));
                    if (workers > 1 && experimentSeeds.Count > 1)
                    {
                        var passThrough = new List<string> { "--profile", p.Name, "--threads", threadCount.ToString(CultureInfo.InvariantCulture), "--device", deviceName };
                        passThrough.AddRange(configPath is null ? [] : ["--config", configPath]);
                        passThrough.AddRange((parse.GetValue(sets) ?? []).SelectMany(value => new[] { "--set", value }));
                        passThrough.AddRange(parse.GetValue(data) is { } dataFolder ? ["--data", dataFolder] : []);
                        passThrough.AddRange(maxEpochs is { } cap ? ["--epochs", cap.ToString(CultureInfo.InvariantCulture)] : []);
                        passThrough.AddRange(parse.GetValue(recordDivergence) ? ["--record-divergence"] : []);
                        seedRun.RunInWorkers(workers, passThrough);
                    }
                    else
                    {
                        seedRun.RunHere(seedValue => RunOne(experiment, seedValue, seedRun.Root, SeedRunner.FolderName(seedValue)));
                    }

                    if (!parse.GetValue(seedWorker))
                    {
                        seedRun.Aggregate();
                        if (parse.GetValue(snapshot) is { } seedSnapshotPath)
                        {
                            string file = chosen.Count == 1 ? seedSnapshotPath : Path.Combine(seedSnapshotPath, SeedSnapshot.Stem(experiment.Info.Name) + ".txt");
                            AtomicFile.WriteAllText(file, seedRun.Snapshot().Render());
                        }
                    }

                    continue;
                }

                (ExperimentResult result, string folder) = RunOne(experiment, seedOverride, outputRoot, null);
                if (parse.GetValue(snapshot) is { } snapshotPath)
                {
                    string file = chosen.Count == 1 ? snapshotPath : Path.Combine(snapshotPath, experiment.Info.Name + ".txt");
                    AtomicFile.WriteAllText(file, SnapshotDocument.From(result).Render());
                }

                Console.WriteLine("   " + Headline(result, folder));
                if (spreadSets.Count > 0)
                {
                    // The children replay this result's config.yaml, so they run exactly what this process ran.
                    SnapshotDocument native = SnapshotDocument.From(result);
                    KernelEnvelope envelope = ChildRun.Envelope(native, spreadSets, Console.WriteLine, ["run", "--from", Path.Combine(folder, "config.yaml")]);
                    string spread = SnapshotApproval.Spread(envelope, native);
                    AtomicFile.WriteAllText(Path.Combine(folder, "kernels.txt"), $"# {experiment.Info.Name}: this run (native) and the same run under other CPU kernel sets\n{spread}\n\n{envelope.FinalTable()}\n{envelope.HistoryTable()}");
                    Console.WriteLine("   " + spread);
                    Console.Write(envelope.FinalTable());
                }
            }

            return Success;
        }));
        return command;
    }

    /// <summary>
    /// The seeds to run: a list (several seeds, or one with --seed-worker) for a multi-seed result, else the one
    /// --seed override (or none: the declared seed).
    /// </summary>
    internal static (IReadOnlyList<long>? List, long? Single) SeedChoice(string? seed, int? count, bool worker)
    {
        if (seed is not null && count is not null)
        {
            throw new UsageException("Use --seed 1,2,3 or --seeds N, not both.");
        }

        if (count is { } n)
        {
            return n < 1 ? throw new UsageException($"--seeds {n}: use at least 1.") : (Enumerable.Range(1, n).Select(k => (long)k).ToList(), null);
        }

        if (seed is null)
        {
            return worker ? throw new UsageException("--seed-worker needs --seed.") : (null, null);
        }

        var list = new List<long>();
        foreach (string part in seed.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) || value < 0)
            {
                throw new UsageException($"--seed '{seed}': '{part}' is not a seed; use whole numbers of at least 0, e.g. --seed 2 or --seed 1,2,3.");
            }

            if (list.Contains(value))
            {
                throw new UsageException($"--seed '{seed}': seed {value} is listed twice.");
            }

            list.Add(value);
        }

        return list.Count > 1 || worker ? (list, null) : (null, list[0]);
    }

    /// <summary>A finished run needs no checkpoint; the folder goes too once it holds none.</summary>
    private static void RemoveCheckpoint(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }

        string folder = Path.GetDirectoryName(path)!;
        if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
        {
            Directory.Delete(folder);
        }
    }

    /// <summary>The experiments project's folder, recorded by the build (Experiments.props), for finding experiments.yaml.</summary>
    private static string? ProjectDirectory() => System.Reflection.Assembly.GetEntryAssembly()?
        .GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .OfType<System.Reflection.AssemblyMetadataAttribute>()
        .FirstOrDefault(a => a.Key == "ExperimentsProjectDirectory")?.Value;

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
                return rows.Any(r => r.Comparison.Verdict == "worse") ? RunFailed : Success;
            }

            Configuration.ExperimentsConfig configuration = Configuration.ExperimentsConfig.Load(
                parse.GetValue(config) ?? Configuration.ExperimentsConfig.Discover(ProjectDirectory()), []);
            IReadOnlyList<DiffEntry> entries = ResultDiff.Compare(
                ResultDiff.Load(left),
                ResultDiff.Load(right),
                DeclaredTolerances(registry, configuration));
            Console.Write(ResultDiff.Render(entries, left, right, parse.GetValue(markdown)));
            return entries.Any(e => e.Beyond.Count > 0) ? RunFailed : Success;
        }));
        return command;
    }

    /// <summary>One run's result in a line: test accuracy and loss, train accuracy, and where it was written.</summary>
    internal static string Headline(ExperimentResult result, string folder) => string.Create(
        CultureInfo.InvariantCulture,
        $"test accuracy {result.Test.Accuracy:P2}, loss {result.Test.Loss:F4}; train accuracy {result.Train.Accuracy:P2} -> {folder}");

    /// <summary>An experiment's tolerances by name: its declaration's (the defaults for an unknown name) with experiments.yaml's on top.</summary>
    private static Func<string, Tolerances> DeclaredTolerances(IReadOnlyList<IExperiment> registry, Configuration.ExperimentsConfig configuration) =>
        name => (registry.FirstOrDefault(e => e.Info.Name == name) is { } known ? Tolerances.For(known) : Tolerances.Default)
            .With(configuration.For(name)?.Tolerances ?? new Dictionary<Metric, double>());

    private static Command AcceptCommand(IReadOnlyList<IExperiment> registry)
    {
        var paths = new Argument<string[]>("paths")
        {
            Description = "Received snapshots (*.received.txt) or folders to search (default: the current folder).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var kernels = new Option<string>("--kernels")
        {
            Description = "After the repeat, run each experiment under these CPU kernel sets (all, none, or names: "
                + string.Join(", ", KernelSet.All.Select(k => k.Name)) + ") and store the spread in the snapshot (CPU runs only). Default: none.",
            DefaultValueFactory = _ => "none",
        };
        var elsewhere = new Option<bool>("--repeated-elsewhere")
        {
            Description = $"Take the repeat from NAME{RepeatSuffix} beside each received snapshot, written by a second, separate run on the machine "
                + "that made the first (for CUDA snapshots, which this machine cannot re-run), instead of running it here.",
        };
        var command = new Command(
            "accept",
            "Approve received snapshots: each experiment is run again in a separate process and approved only if the repeat is bit-for-bit identical.")
        {
            paths,
            kernels,
            elsewhere,
        };
        command.SetAction(parse => Guard(() =>
        {
            string[] roots = parse.GetValue(paths) is { Length: > 0 } given ? given : ["."];
            IReadOnlyList<string> received = SnapshotApproval.FindReceived(roots);
            if (received.Count == 0)
            {
                Console.WriteLine($"Nothing to approve: no *{SnapshotVerifier.ReceivedSuffix} under {string.Join(", ", roots)}.");
                return Success;
            }

            int refused = 0;
            string kernelChoice = parse.GetValue(kernels)!;
            IReadOnlyList<KernelSet> sets = kernelChoice == "none" ? [] : KernelSet.Parse(kernelChoice);
            bool repeatedElsewhere = parse.GetValue(elsewhere);
            foreach (string path in received)
            {
                Console.WriteLine($"== {path}");
                if (SeedSnapshot.IsSeedSnapshotPath(path))
                {
                    if (repeatedElsewhere)
                    {
                        throw new UsageException($"{path}: --repeated-elsewhere takes single-seed snapshots; approve a multi-seed snapshot on a machine that can run it.");
                    }

                    Approval seeds = SnapshotApproval.ApproveSeeds(
                        path,
                        document => RepeatSeedsInChildProcess(registry, document),
                        document => sets.Count == 0 || document.Environment["device"] != "cpu" ? null : SeedEnvelope(document, sets));
                    Console.WriteLine(seeds.Message);
                    refused += seeds.Approved ? 0 : 1;
                    continue;
                }

                Approval approval = SnapshotApproval.Approve(
                    path,
                    document => repeatedElsewhere ? RepeatMadeElsewhere(path) : RepeatInChildProcess(registry, document),
                    document => sets.Count == 0 || repeatedElsewhere || document.Environment["device"] != "cpu" ? null : ChildRun.Envelope(document, sets, Console.WriteLine));
                Console.WriteLine(approval.Message);
                refused += approval.Approved ? 0 : 1;
                if (approval.Approved && repeatedElsewhere)
                {
                    File.Delete(path[..^SnapshotVerifier.ReceivedSuffix.Length] + RepeatSuffix);
                }
            }

            Console.WriteLine($"{received.Count - refused} approved, {refused} refused.");
            return refused == 0 ? Success : RunFailed;
        }));
        return command;
    }

    /// <summary>Where `accept --repeated-elsewhere` finds the second run of NAME.received.txt.</summary>
    public const string RepeatSuffix = ".repeat.txt";

    /// <summary>The second run made on another machine (the GPU machine), beside the received snapshot.</summary>
    private static string RepeatMadeElsewhere(string receivedPath)
    {
        string repeat = receivedPath[..^SnapshotVerifier.ReceivedSuffix.Length] + RepeatSuffix;
        Console.WriteLine($"   the repeat made elsewhere: {repeat}");
        return File.Exists(repeat)
            ? File.ReadAllText(repeat)
            : throw new UsageException($"{repeat} does not exist: --repeated-elsewhere needs the second run's snapshot beside each received one.");
    }

    /// <summary>Runs a snapshot's experiment with the snapshot's profile, threads and device in a fresh process of this program.</summary>
    private static string RepeatInChildProcess(IReadOnlyList<IExperiment> registry, SnapshotDocument document)
    {
        _ = ExperimentSelector.Select(registry, [document.Experiment]);
        return ChildRun.Snapshot(document, RecordedKernels(document.Environment), Console.WriteLine);
    }

    /// <summary>The `run` arguments of a multi-seed snapshot's experiment with its profile, threads and device, for the given seeds.</summary>
    private static string[] SeedRunArguments(SeedSnapshot document, IEnumerable<long> seeds) =>
        ["run", document.Experiment, "--seed", string.Join(",", seeds.Select(s => s.ToString(CultureInfo.InvariantCulture))),
            "--profile", document.Profile, "--threads", document.Environment["threads"], "--device", document.Environment["device"]];

    /// <summary>All seeds of a multi-seed snapshot again in a fresh process of this program.</summary>
    private static string RepeatSeedsInChildProcess(IReadOnlyList<IExperiment> registry, SeedSnapshot document)
    {
        _ = ExperimentSelector.Select(registry, [document.Experiment]);
        return ChildRun.Snapshot(document.Experiment, SeedRunArguments(document, document.Seeds.Select(s => s.Seed)), RecordedKernels(document.Environment), Console.WriteLine);
    }

    /// <summary>
    /// The kernel set a received CPU snapshot was made under (the portable set, for `dotnet test`'s smoke runs), so the
    /// repeat runs the same kernels; null (this process's environment) for a CUDA run or a combination that is no set.
    /// </summary>
    private static KernelSet? RecordedKernels(IReadOnlyDictionary<string, string> environment) =>
        environment["device"] == "cpu" ? KernelSet.PinnedIn(environment["device_name"]) : null;

    /// <summary>
    /// The first seed under other CPU kernel sets. Its native run is made once more for the envelope's reference (the
    /// multi-seed file keeps only a digest of it), and that run must have the recorded digest.
    /// </summary>
    private static KernelEnvelope SeedEnvelope(SeedSnapshot document, IReadOnlyList<KernelSet> sets)
    {
        string[] run = SeedRunArguments(document, [document.Seeds[0].Seed]);
        SnapshotDocument native = SnapshotDocument.Parse(ChildRun.Snapshot(document.Experiment, run, RecordedKernels(document.Environment), Console.WriteLine), $"{document.Experiment} seed {document.Seeds[0].Seed}");
        if (SeedSnapshot.Digest(native) != document.Seeds[0].Digest)
        {
            throw new RunFailedException($"Seed {document.Seeds[0].Seed} of '{document.Experiment}' run alone gave digest {SeedSnapshot.Digest(native)}, not the multi-seed run's {document.Seeds[0].Digest}: the run is not deterministic.");
        }

        return ChildRun.Envelope(native, sets, Console.WriteLine, run);
    }

    private static Command DataCommand()
    {
        var dataset = new Argument<string[]>("datasets") { Description = "mnist, fashion-mnist (default: both).", Arity = ArgumentArity.ZeroOrMore };
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
        var verify = new Command("verify", "Check the provisioned files' SHA-256 without fetching anything; exit code 3 if one is missing or wrong.") { dataset };
        verify.SetAction(parse => Guard(() =>
        {
            bool allGood = true;
            foreach (DatasetSpec spec in Datasets(parse.GetValue(dataset)!))
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
        var command = new Command("data", "Provision and verify datasets.") { fetch, verify };
        return command;
    }

    private static IEnumerable<DatasetSpec> Datasets(string[] keys)
    {
        DatasetSpec[] all = [DatasetSpec.Mnist, DatasetSpec.FashionMnist];
        return keys.Length == 0 ? all : keys.Select(k => all.FirstOrDefault(s => s.Key == k)
            ?? throw new UsageException($"Unknown dataset '{k}'. Known: {string.Join(", ", all.Select(s => s.Key))}."));
    }

    private static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (ExitCodeFor(e) is { } exitCode)
        {
            string prefix = e switch
            {
                RunInterruptedException => "interrupted",
                IOException and not FileNotFoundException => "error: could not write",
                _ => "error",
            };
            Console.Error.WriteLine($"{prefix}: {e.Message}");
            return exitCode;
        }
    }

    /// <summary>
    /// The exit code of an expected failure, whose message already says what to do; null lets anything else surface
    /// with its stack trace. A full disk or a vanished folder is an IOException: the writers use temporary names, so
    /// nothing half-written is left.
    /// </summary>
    private static int? ExitCodeFor(Exception e) => e switch
    {
        RunInterruptedException => Interrupted,
        DatasetException => DataError,
        DeviceUnavailableException or NativeLoadException => DeviceError,
        UsageException or Configuration.ConfigException or CheckpointMismatchException or OutputLockedException
            or FileNotFoundException or ArgumentException => UsageError,
        TrainingDivergedException or RunFailedException or SnapshotFormatException or IOException => RunFailed,
        _ => null,
    };
}
