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
        var command = new Command("run", "Train and evaluate experiments; write metrics, history, confusion matrices, plots and report.md per experiment.");
        var options = new RunCommandOptions(command);
        command.SetAction(parse => Guard(() =>
        {
            RunRequest request = options.Bind(parse);
            // Before anything loads LibTorch: each library reads its kernel variable once, when it initialises.
            if (request.PinKernels is { } pinned)
            {
                pinned.Pin();
            }

            IReadOnlyList<KernelSet> spreadSets = request.Kernels;
            string? fromPath = request.From;
            string? configPath = fromPath ?? request.Config ?? Configuration.ExperimentsConfig.Discover(ProjectDirectory());
            Configuration.ExperimentsConfig configuration = Configuration.ExperimentsConfig.Load(configPath, request.Sets);
            string? unitsPath = request.Units;
            IReadOnlyList<WorkUnit>? listedUnits = null;
            if (unitsPath is not null)
            {
                int perTask = request.UnitsPerTask ?? 1;
                int taskIndex = UnitList.TaskIndex(request.UnitIndex, Environment.GetEnvironmentVariable);
                listedUnits = UnitList.Task(UnitList.Read(unitsPath), taskIndex, perTask, unitsPath);
                Console.WriteLine($"task {taskIndex} of {unitsPath}: {string.Join(", ", listedUnits)}");
            }

            string[] patterns = listedUnits is not null ? [.. listedUnits.Select(u => u.Experiment).Distinct()]
                : request.Names is { Count: > 0 } given ? [.. given]
                : configuration.Run?.Experiments is { Count: > 0 } stored ? [.. stored]
                : throw new UsageException("Name the experiments to run (names or globs such as mnist-*), or replay a result with --from results/NAME/config.yaml.");
            IReadOnlyList<IExperiment> chosen = ExperimentSelector.Select(registry, patterns);
            // A sweep's name configures all its points.
            string[] unknown = configuration.Experiments.Keys.Where(k => registry.All(e => e.Info.Name != k && e.Info.Sweep != k)).ToArray();
            if (unknown.Length > 0)
            {
                throw new UsageException($"{configPath}: 'experiments' names {string.Join(", ", unknown)}, which no [Experiment] declares. Known: {string.Join(", ", registry.Select(e => e.Info.Name))}.");
            }

            Configuration.ProfileConfig p = configuration.Profile(request.Profile ?? configuration.Run?.Profile ?? Profile.Full.Name);
            // Resolved once (auto becomes cpu or cuda:0) so that config.yaml records, and --from replays, the device used.
            string deviceName = TorchRuntime.Resolve(request.Device ?? configuration.Run?.Device ?? p.Device ?? "cpu").ToString();
            int threadCount = request.Threads ?? configuration.Run?.Threads ?? p.Threads ?? Environment.ProcessorCount;
            if (threadCount < 1)
            {
                // A given --threads is checked while parsing; this is the configuration's value.
                throw new UsageException($"{configPath}: threads {threadCount}: use at least 1.");
            }

            int? maxEpochs = request.Epochs;

            (IReadOnlyList<long>? seedList, long? seedOverride) = SeedChoice(request.Seed, request.Seeds, request.SeedWorker);
            int workers = request.Parallel ?? 1;

            if (seedList is not null && fromPath is not null)
            {
                throw new UsageException("Several seeds cannot be combined with --from; a result's config.yaml replays one seed.");
            }

            string outputRoot = request.Output ?? configuration.Output ?? "results";
            Shard? shard = listedUnits is not null ? null
                : request.Shard is { } givenShard ? givenShard
                : Shard.FromEnvironment(Environment.GetEnvironmentVariable, request.ShardCount);
            bool unitMode = listedUnits is not null || shard is not null;
            if (unitMode && (spreadSets.Count > 0 || request.Snapshot is not null || workers > 1 || fromPath is not null || request.SeedWorker))
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
                    Data = request.Data is { } dataFolder ? new ProvisioningOptions { ExplicitDirectory = dataFolder } : null,
                    CheckpointPath = Path.Combine(outputRoot, ".checkpoints", experiment.Info.Name + (folderName is null ? "" : "." + folderName) + ".ckpt"),
                    Resume = request.Resume,
                    Stop = stop.Token,
                    RecordDivergence = resolvedOptions.RecordDivergence || request.RecordDivergence,
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
                    if (request.Resume && unit.IsComplete(outputRoot))
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
                    if (spreadSets.Count > 0 || (request.Snapshot is not null && experimentSeeds.Count < 2 && !request.SeedWorker))
                    {
                        throw new UsageException(spreadSets.Count > 0
                            ? $"'{experiment.Info.Name}' runs {experimentSeeds.Count} seeds, which cannot be combined with --kernels; choose one with --seed."
                            : $"'{experiment.Info.Name}' runs one seed as a multi-seed result: a multi-seed --snapshot needs two or more seeds (--seeds N or --seed 1,2,3).");
                    }

                    var seedRun = new SeedRunner(experiment, experimentSeeds, outputRoot, request.Resume);
                    if (workers > 1 && experimentSeeds.Count > 1)
                    {
                        var passThrough = new List<string> { "--profile", p.Name, "--threads", threadCount.ToString(CultureInfo.InvariantCulture), "--device", deviceName };
                        passThrough.AddRange(configPath is null ? [] : ["--config", configPath]);
                        passThrough.AddRange(request.Sets.SelectMany(value => new[] { "--set", value }));
                        passThrough.AddRange(request.Data is { } dataFolder ? ["--data", dataFolder] : []);
                        passThrough.AddRange(maxEpochs is { } cap ? ["--epochs", cap.ToString(CultureInfo.InvariantCulture)] : []);
                        passThrough.AddRange(request.RecordDivergence ? ["--record-divergence"] : []);
                        seedRun.RunInWorkers(workers, passThrough);
                    }
                    else
                    {
                        seedRun.RunHere(seedValue => RunOne(experiment, seedValue, seedRun.Root, SeedRunner.FolderName(seedValue)));
                    }

                    if (!request.SeedWorker)
                    {
                        seedRun.Aggregate();
                        if (request.Snapshot is { } seedSnapshotPath)
                        {
                            string file = chosen.Count == 1 ? seedSnapshotPath : Path.Combine(seedSnapshotPath, SeedSnapshot.Stem(experiment.Info.Name) + ".txt");
                            AtomicFile.WriteAllText(file, seedRun.Snapshot().Render());
                        }
                    }

                    continue;
                }

                (ExperimentResult result, string folder) = RunOne(experiment, seedOverride, outputRoot, null);
                if (request.Snapshot is { } snapshotPath)
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
