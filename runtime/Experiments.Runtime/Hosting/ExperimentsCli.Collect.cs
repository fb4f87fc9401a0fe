using System.CommandLine;
using System.Globalization;
using System.Reflection;
using Experiments.Runtime.Configuration;
using Experiments.Runtime.IO;

namespace Experiments.Runtime.Hosting;

// `collect` checks a cluster job's results and writes the multi-seed aggregates; `publish` builds the app for the cluster's nodes.
public static partial class ExperimentsCli
{
    private static Command CollectCommand(IReadOnlyList<IExperiment> registry)
    {
        var folder = new Argument<string>("folder") { Description = "A job folder, or a results folder holding .slurm/ or .k8s/ (default: results)." , DefaultValueFactory = _ => "results" };
        var output = new Option<string?>("--out") { Description = "Where the results are on this machine, when it differs from the job's (a Kubernetes claim mounted elsewhere)." };
        var command = new Command(
            "collect",
            "Check that every unit of a job has a complete result, list the missing ones with their logs and the commands that rerun them, "
            + "and write the multi-seed aggregates, so that report, diff and accept read the folder as if it had been run here.")
        {
            folder,
            output,
        };
        command.SetAction(parse => Guard(() =>
        {
            string given = parse.GetValue(folder)!;
            string jobFolder = new[] { given, Path.Combine(given, ".slurm"), Path.Combine(given, ".k8s") }.FirstOrDefault(f => File.Exists(ClusterJob.PathIn(f)))
                ?? throw new FileNotFoundException($"{given} is neither a job folder ({ClusterJob.FileName}) nor a results folder with .slurm/ or .k8s/ in it.", given);
            ClusterJob job = ClusterJob.Load(jobFolder);
            if (parse.GetValue(output) is { } local)
            {
                job = job with { Output = Path.GetFullPath(local) };
            }

            IReadOnlyList<WorkUnit> units = UnitList.Read(Path.Combine(jobFolder, ClusterJob.UnitsFile));
            var missing = units.Where(u => !u.IsComplete(job.Output)).ToHashSet();
            IReadOnlyList<int> incomplete = job.IncompleteTasks(units, missing.Contains);
            Console.WriteLine($"{units.Count - missing.Count} of {units.Count} units complete in {job.Output}");
            foreach (int task in incomplete)
            {
                IEnumerable<WorkUnit> taskUnits = units.Skip(task * job.UnitsPerTask).Take(job.UnitsPerTask).Where(missing.Contains);
                Console.WriteLine($"missing: task {task}: {string.Join(", ", taskUnits)}");
                FileInfo? log = new DirectoryInfo(Path.Combine(jobFolder, "logs")).Exists
                    ? new DirectoryInfo(Path.Combine(jobFolder, "logs")).EnumerateFiles($"{task}-*.out").OrderByDescending(f => f.LastWriteTimeUtc).FirstOrDefault()
                    : null;
                if (log is not null)
                {
                    Console.WriteLine($"   last log {log.FullName}:");
                    foreach (string line in File.ReadLines(log.FullName).TakeLast(8))
                    {
                        Console.WriteLine("   | " + line);
                    }
                }
                else
                {
                    Console.WriteLine(job.Scheduler == "slurm" ? "   no log: the task has not started" : $"   logs: kubectl logs job/{job.Options.GetValueOrDefault("name", "experiments")} (the pod of index {task})");
                }

                Console.WriteLine($"   rerun here: {ClusterJob.Shell([.. SelfCommand(), .. job.RunArguments(Path.Combine(jobFolder, ClusterJob.UnitsFile)), "--unit-index", task.ToString(CultureInfo.InvariantCulture)])}");
            }

            if (incomplete.Count > 0)
            {
                Console.WriteLine(job.Scheduler == "slurm"
                    ? $"Resubmit the missing tasks (complete units are skipped, interrupted ones resume): {ClusterJob.Shell([.. SelfCommand(), "slurm", "--job-dir", jobFolder, "--submit"])}"
                    : $"Apply the Job again (complete units are skipped): kubectl apply -f {Path.Combine(jobFolder, "job.k8s.yaml")}");
            }

            // Multi-seed experiments whose seeds are all here get their aggregate, as a local `run --seeds` writes it.
            foreach (IGrouping<string, WorkUnit> experiment in units.Where(u => u.Seed is not null).GroupBy(u => u.Experiment))
            {
                if (!experiment.Any(missing.Contains))
                {
                    SeedRunner.WriteAggregate(ExperimentSelector.Select(registry, [experiment.Key]).Single(), Path.Combine(job.Output, experiment.Key));
                }
            }

            if (incomplete.Count == 0 && Directory.Exists(Path.Combine(job.Output, ".locks")))
            {
                Directory.Delete(Path.Combine(job.Output, ".locks"), recursive: true);
            }

            return incomplete.Count == 0 ? Success : RunFailed;
        }));
        return command;
    }

    private static Command PublishCommand()
    {
        var output = new Option<string?>("--out") { Description = "The folder to publish to (default: publish/experiments); put it on the cluster's shared file system." };
        var runtime = new Option<string?>("--runtime") { Description = "The nodes' runtime identifier (default linux-x64)." };
        var backend = new Option<string?>("--backend")
        {
            Description = "cpu (default: LibTorch inside the app) or external (no LibTorch inside; the node's PyTorch provides it through LD_LIBRARY_PATH, e.g. for CUDA).",
        };
        backend.AcceptOnlyFromAmong("cpu", "external");
        var command = new Command("publish", "Publish this experiments project as a self-contained app that runs on nodes without the .NET SDK.") { output, runtime, backend };
        command.SetAction(parse => Guard(() =>
        {
            string project = ProjectDirectory() ?? throw new UsageException("This program does not know its project folder; run dotnet publish on your experiments project instead (see the README's cluster section).");
            string folder = Path.GetFullPath(parse.GetValue(output) ?? Path.Combine("publish", "experiments"));
            string chosenBackend = parse.GetValue(backend) ?? "cpu";

            string[] publish = ["dotnet", "publish", project, "-c", "Release", "-r", parse.GetValue(runtime) ?? "linux-x64", "--self-contained", $"-p:TorchBackend={chosenBackend}", "-o", folder, "-nologo"];
            Console.WriteLine(ClusterJob.Shell(publish));
            (int exitCode, string stdout, string stderr) = ChildProcess.Capture(publish);
            if (exitCode != 0)
            {
                throw new RunFailedException($"dotnet publish exited with code {exitCode}:\n{stdout}{stderr}");
            }

            string app = Path.Combine(folder, Path.GetFileNameWithoutExtension(Assembly.GetEntryAssembly()!.Location));
            Console.WriteLine($"Published to {folder}. On the cluster: {ClusterJob.Shell([app, "slurm", "NAMES", "--app", app, "--submit"])}"
                + (chosenBackend == "external" ? "; set LD_LIBRARY_PATH to the node's torch/lib" : ""));
            Console.WriteLine(folder);
            return Success;
        }));
        return command;
    }
}
