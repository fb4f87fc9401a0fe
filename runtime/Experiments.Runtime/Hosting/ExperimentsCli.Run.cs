using Experiments.Runtime.Configuration;
using Experiments.Runtime.IO;
using System.CommandLine;
using System.Globalization;
using Experiments.Runtime.Data;
using Experiments.Runtime.Native;
using Experiments.Runtime.Reports;
using Experiments.Runtime.Snapshots;
using Experiments.Runtime.Training;

namespace Experiments.Runtime.Hosting;

// `run`: options, selection of experiments, seeds and work units, training, snapshots and kernel spreads.
public static partial class ExperimentsCli
{
    private static Command RunCommand(IReadOnlyList<IExperiment> registry)
    {
        var names = new Argument<string[]>("names") { Description = "Experiment names or globs (mnist-*); optional with --from.", Arity = ArgumentArity.ZeroOrMore };
        var profile = new Option<string?>("--profile") { Description = "full (the notebook's settings), smoke (seeded subset, fewer epochs) or a profile from the configuration. Default: full." };
        var device = new Option<string?>("--device") { Description = "cpu, cuda, cuda:N or auto (CUDA when this process has it, else the CPU). Default: the profile's, else cpu." };
        var threads = new Option<int?>("--threads") { Description = "Intra-op CPU threads (part of the result's identity). Default: the profile's, else all cores." }.AtLeast(1);
        var seed = new Option<string?>("--seed")
        {
            Description = "Replace the declared seed (splits, initial weights, shuffles, dropout). A list (1,2,3) runs each as one seed of a multi-seed result.",
        };
        var seeds = new Option<int?>("--seeds") { Description = "Run seeds 1..N as one multi-seed result: OUT/NAME/seed-K per seed, aggregate.json, report.md and plots." }.AtLeast(1);
        var parallel = new Option<int?>("--parallel") { Description = "Run the seeds in N worker processes (default: one after another in this process); the results are the same bits." }.AtLeast(1);
        var seedWorker = new Option<bool>("--seed-worker") { Description = "Internal: write seed-K folders and no aggregate (a worker of --parallel).", Hidden = true };
        var output = new Option<string?>("--out") { Description = "Results folder; one subfolder per experiment. Default: the configuration's output, else results." };
        var config = new Option<string?>("--config") { Description = $"A configuration file. Default: {Configuration.ExperimentsConfig.FileName} in the current folder or beside the experiments project." };
        var sets = new Option<string[]>("--set") { Description = "Override one configuration key, e.g. --set profiles.smoke.max_epochs=2 (repeatable).", Arity = ArgumentArity.ZeroOrMore };
        var from = new Option<string?>("--from") { Description = "Replay a result's config.yaml exactly (experiments, profile, device, threads, overrides)." };
        var data = new Option<string?>("--data") { Description = "A folder with the dataset's IDX files (overrides EXPERIMENTS_DATA)." };
        var epochs = new Option<int?>("--epochs") { Description = "Cap the number of epochs." }.AtLeast(1);
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
        var shardCount = new Option<int?>("--shard-count") { Description = "The number of shards when the index comes from JOB_COMPLETION_INDEX (the Job's completions)." }.AtLeast(1);
        var unitsOption = new Option<string?>("--units") { Description = "A unit list written by `experiments slurm`/`k8s`: run the units of one task (--unit-index, else SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)." };
        var unitIndex = new Option<int?>("--unit-index") { Description = "The task of --units to run (0-based)." }.AtLeast(0);
        var unitsPerTask = new Option<int?>("--units-per-task") { Description = "Units per task of --units (default 1)." }.AtLeast(1);
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
                // A given --threads is checked while parsing; this is the configuration's value.
                throw new UsageException($"{configPath}: threads {threadCount}: use at least 1.");
            }

            int? maxEpochs = parse.GetValue(epochs);

            (IReadOnlyList<long>? seedList, long? seedOverride) = SeedChoice(parse.GetValue(seed), parse.GetValue(seeds), parse.GetValue(seedWorker));
            int workers = parse.GetValue(parallel) ?? 1;

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
}
