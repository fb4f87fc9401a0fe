using System.Globalization;
using Experiments.Runtime.Configuration;
using Experiments.Runtime.Reports;
using Experiments.Runtime.Results;
using Experiments.Runtime.Training;

namespace Experiments.Runtime.Hosting;

/// <summary>
/// `run NAME --seeds N`: one result folder per seed (OUT/NAME/seed-K, each exactly what `run NAME --seed K` writes
/// into OUT/NAME) and the aggregate beside them. Seeds run one after another in this process (the dataset is read
/// once), or in worker processes that each take every Nth seed; either way each seed's bits are its own.
/// </summary>
internal sealed class SeedRunner(IExperiment experiment, IReadOnlyList<long> seeds, string outputRoot, bool resume)
{
    private bool _prepared;

    public string Root => Path.Combine(outputRoot, experiment.Info.Name);

    public static string FolderName(long seed) => "seed-" + seed.ToString(CultureInfo.InvariantCulture);

    /// <summary>The seeds still to run. A new run replaces the folder; with --resume, complete seed folders stay and are skipped.</summary>
    private List<long> Pending()
    {
        if (!_prepared)
        {
            _prepared = true;
            if (Directory.Exists(Root) && (!resume || File.Exists(Path.Combine(Root, "snapshot.txt"))))
            {
                // A new multi-seed result (or one replacing a single-seed folder of the same name).
                Directory.Delete(Root, recursive: true);
            }

            Directory.CreateDirectory(Root);
            foreach (string stale in Directory.EnumerateDirectories(Root, "seed-*").Where(d => !seeds.Select(FolderName).Contains(Path.GetFileName(d))))
            {
                Directory.Delete(stale, recursive: true);
            }
        }

        List<long> pending = seeds.Where(s => !File.Exists(Path.Combine(Root, FolderName(s), "snapshot.txt"))).ToList();
        if (pending.Count < seeds.Count)
        {
            Console.WriteLine($"   resuming: {seeds.Count - pending.Count} of {seeds.Count} seeds already have results in {Root}");
        }

        return pending;
    }

    public void RunHere(Func<long, (ExperimentResult Result, string Folder)> run)
    {
        foreach (long seed in Pending())
        {
            (ExperimentResult result, string folder) = run(seed);
            Console.WriteLine($"   seed {seed.ToString(CultureInfo.InvariantCulture)}: {ExperimentsCli.Headline(result, folder)}");
        }
    }

    /// <summary>
    /// Starts <paramref name="workers"/> processes of this program, each running every Nth pending seed with
    /// <c>--seed-worker</c> into a scratch folder, then moves their seed folders into place.
    /// </summary>
    public void RunInWorkers(int workers, IReadOnlyList<string> passThrough)
    {
        List<long> pending = Pending();
        if (pending.Count == 0)
        {
            return;
        }

        string scratch = Path.Combine(Root, $".workers-{Environment.ProcessId}");
        try
        {
            List<List<long>> groups = pending.Select((seed, index) => (seed, index)).GroupBy(x => x.index % workers).Select(g => g.Select(x => x.seed).ToList()).ToList();
            Console.WriteLine($"   {pending.Count} seeds in {groups.Count} worker processes: {string.Join("; ", groups.Select((g, i) => $"worker {i + 1}: {string.Join(", ", g)}"))}");
            int[] exitCodes = groups.Select((group, index) => Task.Run(() => SelfProcess.Run(
                    ["run", experiment.Info.Name, "--seed", string.Join(",", group), "--seed-worker", "--out", Path.Combine(scratch, $"w{index + 1}"), .. passThrough],
                    line => Console.WriteLine($"   [worker {index + 1}] {line}"))))
                .ToArray()
                .Select(task => task.GetAwaiter().GetResult())
                .ToArray();
            if (exitCodes.Any(code => code != ExperimentsCli.Success))
            {
                throw new RunFailedException($"A seed worker of '{experiment.Info.Name}' failed (exit codes {string.Join(", ", exitCodes)}); the seeds that finished are kept, rerun with --resume.");
            }
        }
        finally
        {
            // Whatever finished is kept (so --resume can skip it); the scratch folder goes.
            if (Directory.Exists(scratch))
            {
                foreach (string seedFolder in Directory.EnumerateDirectories(scratch, "seed-*", SearchOption.AllDirectories).Where(d => File.Exists(Path.Combine(d, "snapshot.txt"))))
                {
                    string target = Path.Combine(Root, Path.GetFileName(seedFolder));
                    if (Directory.Exists(target))
                    {
                        Directory.Delete(target, recursive: true);
                    }

                    Directory.Move(seedFolder, target);
                }

                Directory.Delete(scratch, recursive: true);
            }
        }
    }

    /// <summary>The multi-seed snapshot of this run's seeds (their seed folders' snapshot.txt).</summary>
    public Snapshots.SeedSnapshot Snapshot() => Snapshots.SeedSnapshot.From(seeds
        .Select(seed => Path.Combine(Root, FolderName(seed), "snapshot.txt"))
        .Select(file => Snapshots.SnapshotDocument.Parse(File.ReadAllText(file), file))
        .ToList());

    /// <summary>Writes the aggregate of the seed folders and prints its headline.</summary>
    public SeedAggregate Aggregate() => WriteAggregate(experiment, Root);

    /// <summary>The aggregate of the seed folders under <paramref name="root"/> (OUT/NAME), written beside them; its headline printed.</summary>
    public static SeedAggregate WriteAggregate(IExperiment experiment, string root)
    {
        // The source's figure is a full-settings result: only a full-profile distribution is compared with it.
        SeedAggregate aggregate = SeedAggregate.Load(root);
        if (experiment.Info.Reported is { } reported && aggregate.Runs[0].Snapshot.Profile == Profile.Full.Name)
        {
            aggregate = aggregate.WithReported(reported.TestAccuracy);
        }

        aggregate.Write(root);
        Results.SeedSummary test = aggregate.Final["test_accuracy"];
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"   {experiment.Info.Name} over {test.Count} seeds: test accuracy {test.Describe(percent: true)}, 95% interval of the mean {ExperimentReport.Percent(test.StudentT.Low)} to {ExperimentReport.Percent(test.StudentT.High)} -> {Path.Combine(root, SeedAggregate.FileName)}"));
        if (aggregate.Reported is { } verdict)
        {
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"   the source reported {ExperimentReport.Percent(verdict.Reported)}: {verdict.Verdict.Text()} (percentile {verdict.Percentile:F0}, z = {verdict.ZScore:F2})"));
        }

        return aggregate;
    }
}
