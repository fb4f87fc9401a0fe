using Experiments.Runtime.IO;
using System.CommandLine;
using System.Globalization;
using Experiments.Runtime.Data;
using Experiments.Runtime.Native;
using Experiments.Runtime.Results;
using Experiments.Runtime.Snapshots;

namespace Experiments.Runtime.Hosting;

// `accept`: approval of received snapshots after a bit-identical repeat in a separate process (or made elsewhere).
public static partial class ExperimentsCli
{
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
        var cpuModel = new Option<bool>("--cpu-model")
        {
            Description = $"Approve each CPU snapshot for the CPU model it ran on alone ({CpuModelSnapshots.FolderName}/VENDOR-FAMILY-MODEL beside the main snapshot), "
                + "where that model is known to give other bits than the one the main snapshot was approved on. On that model the run is then compared with it.",
        };
        var command = new Command(
            "accept",
            "Approve received snapshots: each experiment is run again in a separate process and approved only if the repeat is bit-for-bit identical.")
        {
            paths,
            kernels,
            elsewhere,
            cpuModel,
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

                    if (parse.GetValue(cpuModel))
                    {
                        throw new UsageException($"{path}: --cpu-model takes single-seed snapshots; a multi-seed snapshot is compared as distributions on other CPU models.");
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
                    document => sets.Count == 0 || repeatedElsewhere || document.Environment["device"] != "cpu" ? null : ChildRun.Envelope(document, sets, Console.WriteLine),
                    parse.GetValue(cpuModel));
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
}
