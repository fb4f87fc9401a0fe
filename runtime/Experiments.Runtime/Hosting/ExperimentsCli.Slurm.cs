using System.CommandLine;
using System.Globalization;
using System.Reflection;
using System.Text;
using Experiments.Runtime.Configuration;
using Experiments.Runtime.IO;

namespace Experiments.Runtime.Hosting;

/// <summary>
/// Work units on the engines users already have: Slurm job arrays and Kubernetes Indexed Jobs (no scheduler of our
/// own). Each task runs `run --units LIST` with its array index; results land in one shared folder, one result folder
/// per unit; `collect` checks the job and writes the multi-seed aggregates.
/// </summary>
public static partial class ExperimentsCli
{
    private sealed record JobOptions(
        Argument<string[]> Names, Option<int?> Seeds, Option<string?> Profile, Option<int?> Threads, Option<string?> Device,
        Option<string?> Output, Option<string?> JobDir, Option<string?> App, Option<int?> UnitsPerTask, Option<string?> Config);

    private static JobOptions AddJobOptions(Command command, string scheduler)
    {
        var options = new JobOptions(
            new Argument<string[]>("names") { Description = $"Experiment names or globs; none: the job folder's own job ({ClusterJob.FileName}) again.", Arity = ArgumentArity.ZeroOrMore },
            new Option<int?>("--seeds") { Description = "Seeds 1..N of each experiment, one unit per seed (default: each experiment's own default)." },
            new Option<string?>("--profile") { Description = "The profile every unit runs (default: full)." },
            new Option<int?>("--threads") { Description = "Intra-op threads per unit (part of a result's identity). Default: --cpus-per-task, else 1." },
            new Option<string?>("--device") { Description = "cpu (default), cuda or cuda:N." },
            new Option<string?>("--out") { Description = "The shared results folder the tasks write into (default: results)." },
            new Option<string?>("--job-dir") { Description = $"Where the job's files go: {ClusterJob.FileName}, {ClusterJob.UnitsFile}, the script or manifest, logs/ (default: OUT/.{scheduler})." },
            new Option<string?>("--app") { Description = "The command that starts this program on a node, e.g. /shared/experiments/experiments from `experiments publish` (default: this program as started now)." },
            new Option<int?>("--units-per-task") { Description = "Units per array task (default 1)." },
            new Option<string?>("--config") { Description = $"A configuration file for the tasks (default: {ExperimentsConfig.FileName} found as `run` finds it)." });
        command.Arguments.Add(options.Names);
        foreach (Option option in new Option[] { options.Seeds, options.Profile, options.Threads, options.Device, options.Output, options.JobDir, options.App, options.UnitsPerTask, options.Config })
        {
            command.Options.Add(option);
        }

        return options;
    }

    /// <summary>This program as started now, as words: the app itself, or `dotnet program.dll`.</summary>
    private static IReadOnlyList<string> SelfCommand()
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("The path of this process is unknown.");
        return Path.GetFileNameWithoutExtension(host) == "dotnet" ? [host, Assembly.GetEntryAssembly()!.Location] : [host];
    }

    /// <summary>The job the options describe, or the one already in the job folder (when no names are given); and its units.</summary>
    private static (ClusterJob Job, string Folder, IReadOnlyList<WorkUnit> Units) PrepareJob(
        IReadOnlyList<IExperiment> registry, ParseResult parse, JobOptions o, string scheduler, IReadOnlyDictionary<string, string> schedulerOptions, int? cpus)
    {
        string output = Path.GetFullPath(parse.GetValue(o.Output) ?? "results");
        string folder = Path.GetFullPath(parse.GetValue(o.JobDir) ?? Path.Combine(output, "." + scheduler));
        string[] names = parse.GetValue(o.Names) ?? [];
        if (names.Length == 0)
        {
            ClusterJob existing = ClusterJob.Load(folder);
            return (existing, folder, UnitList.Read(Path.Combine(folder, ClusterJob.UnitsFile)));
        }

        string? configPath = parse.GetValue(o.Config) ?? ExperimentsConfig.Discover(ProjectDirectory());
        ExperimentsConfig configuration = ExperimentsConfig.Load(configPath, []);
        ProfileConfig profile = configuration.Profile(parse.GetValue(o.Profile) ?? Configuration.Profile.Full.Name);
        int? seeds = parse.GetValue(o.Seeds);
        if (seeds is < 1)
        {
            throw new UsageException($"--seeds {seeds}: use at least 1.");
        }

        int threads = parse.GetValue(o.Threads) ?? cpus ?? 1;
        int perTask = parse.GetValue(o.UnitsPerTask) ?? 1;
        if (threads < 1 || perTask < 1)
        {
            throw new UsageException(threads < 1 ? $"--threads {threads}: use at least 1." : $"--units-per-task {perTask}: use at least 1.");
        }

        IReadOnlyList<IExperiment> chosen = ExperimentSelector.Select(registry, names);
        List<WorkUnit> units = chosen.SelectMany(e => (seeds ?? profile.Seeds ?? e.Info.Seeds) is > 1 and var n
            ? Enumerable.Range(1, n).Select(k => new WorkUnit(e.Info.Name, k))
            : [new WorkUnit(e.Info.Name, null)]).ToList();
        var job = new ClusterJob
        {
            Scheduler = scheduler,
            Experiments = names,
            Seeds = seeds,
            Profile = profile.Name,
            Threads = threads,
            Device = parse.GetValue(o.Device) ?? "cpu",
            Output = output,
            Config = configPath is null ? null : Path.GetFullPath(configPath),
            App = parse.GetValue(o.App) is { } app ? app.Split(' ', StringSplitOptions.RemoveEmptyEntries) : SelfCommand(),
            UnitsPerTask = perTask,
            Options = schedulerOptions,
        };

        string unitsPath = Path.Combine(folder, ClusterJob.UnitsFile);
        if (File.Exists(unitsPath) && File.ReadAllText(unitsPath) != UnitList.Render(units))
        {
            throw new UsageException($"{folder} holds another job (its {ClusterJob.UnitsFile} lists other units). Give this job its own --job-dir, or delete that folder.");
        }

        Directory.CreateDirectory(Path.Combine(folder, "logs"));
        AtomicFile.WriteAllText(unitsPath, UnitList.Render(units));
        AtomicFile.WriteAllText(ClusterJob.PathIn(folder), job.Render());
        return (job, folder, units);
    }

    private static Command SlurmCommand(IReadOnlyList<IExperiment> registry)
    {
        var command = new Command(
            "slurm",
            "Write (and with --submit, submit) a Slurm job array over work units: one array task per unit (or per --units-per-task units). "
            + "Submitting again submits only the tasks whose units have no complete result; interrupted units continue from their checkpoints.");
        JobOptions o = AddJobOptions(command, "slurm");
        var partition = new Option<string?>("--partition") { Description = "sbatch --partition." };
        var time = new Option<string?>("--time") { Description = "sbatch --time per task, e.g. 01:00:00." };
        var cpus = new Option<int?>("--cpus-per-task") { Description = "sbatch --cpus-per-task (default: --threads, else 1)." };
        var gpus = new Option<int?>("--gpus-per-task") { Description = "sbatch --gpus-per-task (use with --device cuda)." };
        var memory = new Option<string?>("--mem") { Description = "sbatch --mem per task, e.g. 8G." };
        var parallelism = new Option<int?>("--array-parallelism") { Description = "At most this many tasks at once (sbatch --array=...%N)." };
        var submit = new Option<bool>("--submit") { Description = "Submit with sbatch and print the job id." };
        foreach (Option option in new Option[] { partition, time, cpus, gpus, memory, parallelism, submit })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse => Guard(() =>
        {
            var sbatch = new Dictionary<string, string>();
            void Set(string key, object? value)
            {
                if (value is not null)
                {
                    sbatch[key] = Convert.ToString(value, CultureInfo.InvariantCulture)!;
                }
            }

            Set("partition", parse.GetValue(partition));
            Set("time", parse.GetValue(time));
            Set("cpus-per-task", parse.GetValue(cpus) ?? parse.GetValue(o.Threads));
            Set("gpus-per-task", parse.GetValue(gpus));
            Set("mem", parse.GetValue(memory));
            Set("array-parallelism", parse.GetValue(parallelism));
            (ClusterJob job, string folder, IReadOnlyList<WorkUnit> units) = PrepareJob(registry, parse, o, "slurm", sbatch, parse.GetValue(cpus));
            string script = Path.Combine(folder, "job.sbatch");
            AtomicFile.WriteAllText(script, SlurmScript(job, folder, units.Count));
            IReadOnlyList<int> pending = job.IncompleteTasks(units, u => !u.IsComplete(job.Output));
            int tasks = ClusterJob.Tasks(units.Count, job.UnitsPerTask);
            Console.WriteLine($"{units.Count} units in {tasks} array tasks ({job.Profile}, {job.Device}, {job.Threads} threads) -> {job.Output}");
            Console.WriteLine($"   job folder {folder}: {ClusterJob.FileName}, {ClusterJob.UnitsFile}, job.sbatch, logs/");
            if (pending.Count == 0)
            {
                Console.WriteLine($"Every unit has a complete result in {job.Output}; nothing to submit. Next: {ClusterJob.Shell([.. SelfCommand(), "collect", folder])}");
                return Success;
            }

            string array = ClusterJob.ArraySpec(pending) + (job.Options.TryGetValue("array-parallelism", out string? most) ? "%" + most : "");
            string[] submitCommand = ["sbatch", "--parsable", $"--array={array}", script];
            Console.WriteLine($"{pending.Count} of {tasks} tasks to run: {ClusterJob.Shell(submitCommand)}");
            if (!parse.GetValue(submit))
            {
                return Success;
            }

            (int exitCode, string stdout, string stderr) = ChildProcess.Capture(submitCommand);
            if (exitCode != 0)
            {
                throw new RunFailedException($"sbatch exited with code {exitCode}: {stderr.Trim()}{stdout.Trim()}");
            }

            string jobId = stdout.Trim().Split(';')[0];
            File.AppendAllText(Path.Combine(folder, "submissions.txt"), $"{jobId} --array={array} {DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ}\n");
            Console.WriteLine($"Submitted job {jobId} ({pending.Count} task{(pending.Count == 1 ? "" : "s")}). Logs: {Path.Combine(folder, "logs")}/INDEX-{jobId}.out; when it is done: {ClusterJob.Shell([.. SelfCommand(), "collect", folder])}");
            Console.WriteLine(jobId);
            return Success;
        }));
        return command;
    }

    private static string SlurmScript(ClusterJob job, string folder, int units)
    {
        int tasks = ClusterJob.Tasks(units, job.UnitsPerTask);
        var text = new StringBuilder();
        text.Append("#!/bin/bash\n");
        text.Append($"# Written by `experiments slurm`: {units} work units, one array task per {(job.UnitsPerTask == 1 ? "unit" : $"{job.UnitsPerTask} units")} of {ClusterJob.UnitsFile}.\n");
        text.Append("# Each task runs its units into the shared results folder (a result folder per unit, a lock per unit) and skips\n");
        text.Append("# units that are complete; an interrupted unit continues from its checkpoint when the task runs again.\n");
        text.Append("#SBATCH --job-name=experiments\n");
        text.Append($"#SBATCH --array=0-{tasks - 1}{(job.Options.TryGetValue("array-parallelism", out string? most) ? "%" + most : "")}\n");
        text.Append($"#SBATCH --output={Path.Combine(folder, "logs")}/%a-%A.out\n");
        foreach (string key in new[] { "partition", "time", "cpus-per-task", "gpus-per-task", "mem" })
        {
            if (job.Options.TryGetValue(key, out string? value))
            {
                text.Append($"#SBATCH --{key}={value}\n");
            }
        }

        text.Append("set -euo pipefail\n");
        text.Append("exec ").Append(ClusterJob.Shell([.. job.App, .. job.RunArguments(Path.Combine(folder, ClusterJob.UnitsFile))])).Append('\n');
        return text.ToString();
    }
}
