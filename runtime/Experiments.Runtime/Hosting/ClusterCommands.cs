using System.CommandLine;
using System.Globalization;
using System.Reflection;
using System.Text;
using Experiments.Runtime.Configuration;
using Experiments.Runtime.IO;
using YamlDotNet.RepresentationModel;

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

    private static Command KubernetesCommand(IReadOnlyList<IExperiment> registry)
    {
        var command = new Command(
            "k8s",
            "Write a Kubernetes Indexed Job (and a ConfigMap with the unit list) over work units: one completion index per unit (or per --units-per-task units).");
        JobOptions o = AddJobOptions(command, "k8s");
        var image = new Option<string>("--image") { Description = "The container image holding the published app.", Required = true };
        var claim = new Option<string>("--claim") { Description = "The PersistentVolumeClaim of the shared results folder.", Required = true };
        var mount = new Option<string?>("--mount") { Description = "Where the claim is mounted in the container (default /results); the tasks write there." };
        var parallelism = new Option<int?>("--parallelism") { Description = "At most this many pods at once (default 4)." };
        var cpus = new Option<int?>("--cpus") { Description = "CPU request per pod (default: --threads)." };
        var gpus = new Option<int?>("--gpus") { Description = "nvidia.com/gpu limit per pod." };
        var name = new Option<string?>("--name") { Description = "The Job's name (default experiments)." };
        foreach (Option option in new Option[] { image, claim, mount, parallelism, cpus, gpus, name })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse => Guard(() =>
        {
            string mountPath = parse.GetValue(mount) ?? "/results";
            var settings = new Dictionary<string, string>
            {
                ["image"] = parse.GetValue(image)!,
                ["claim"] = parse.GetValue(claim)!,
                ["mount"] = mountPath,
                ["parallelism"] = (parse.GetValue(parallelism) ?? 4).ToString(CultureInfo.InvariantCulture),
                ["name"] = parse.GetValue(name) ?? "experiments",
            };
            if (parse.GetValue(gpus) is { } gpuCount)
            {
                settings["gpus"] = gpuCount.ToString(CultureInfo.InvariantCulture);
            }

            (ClusterJob prepared, string folder, IReadOnlyList<WorkUnit> units) = PrepareJob(registry, parse, o, "k8s", settings, parse.GetValue(cpus));
            // In the pod the shared folder is the claim's mount; the job file keeps the local folder for `collect`.
            string manifest = Path.Combine(folder, "job.k8s.yaml");
            // The pod reads the configuration from the ConfigMap, beside the unit list.
            string? configText = prepared.Config is { } configFile ? File.ReadAllText(configFile) : null;
            AtomicFile.WriteAllText(manifest, KubernetesManifest(
                prepared with { Output = mountPath, Config = configText is null ? null : "/etc/experiments/" + ExperimentsConfig.FileName },
                units,
                parse.GetValue(cpus) ?? prepared.Threads,
                configText));
            Console.WriteLine($"{units.Count} units in {ClusterJob.Tasks(units.Count, prepared.UnitsPerTask)} completion indices -> {manifest}");
            Console.WriteLine($"Apply it with: kubectl apply -f {manifest}; when it is done: {ClusterJob.Shell([.. SelfCommand(), "collect", folder])}");
            return Success;
        }));
        return command;
    }

    /// <summary>A ConfigMap with the unit list and an Indexed Job whose pod i runs task i (JOB_COMPLETION_INDEX).</summary>
    internal static string KubernetesManifest(ClusterJob job, IReadOnlyList<WorkUnit> units, int cpus, string? configText)
    {
        string name = job.Options["name"];
        int completions = ClusterJob.Tasks(units.Count, job.UnitsPerTask);
        var resources = new YamlMappingNode { { "cpu", cpus.ToString(CultureInfo.InvariantCulture) } };
        var limits = new YamlMappingNode();
        if (job.Options.TryGetValue("gpus", out string? gpus))
        {
            limits.Add("nvidia.com/gpu", gpus);
        }

        var configMap = new YamlMappingNode
        {
            { "apiVersion", "v1" },
            { "kind", "ConfigMap" },
            { "metadata", new YamlMappingNode { { "name", name + "-units" } } },
            { "data", new YamlMappingNode { { ClusterJob.UnitsFile, new YamlScalarNode(UnitList.Render(units)) { Style = YamlDotNet.Core.ScalarStyle.Literal } } } },
        };
        if (configText is not null)
        {
            ((YamlMappingNode)configMap.Children["data"]).Add(ExperimentsConfig.FileName, new YamlScalarNode(configText) { Style = YamlDotNet.Core.ScalarStyle.Literal });
        }

        var container = new YamlMappingNode
        {
            { "name", "experiments" },
            { "image", job.Options["image"] },
            { "command", new YamlSequenceNode(job.App.Concat(job.RunArguments("/etc/experiments/" + ClusterJob.UnitsFile)).Select(a => new YamlScalarNode(a) { Style = YamlDotNet.Core.ScalarStyle.DoubleQuoted })) },
            { "resources", limits.Children.Count > 0 ? new YamlMappingNode { { "requests", resources }, { "limits", limits } } : new YamlMappingNode { { "requests", resources } } },
            {
                "volumeMounts", new YamlSequenceNode(
                    new YamlMappingNode { { "name", "results" }, { "mountPath", job.Output } },
                    new YamlMappingNode { { "name", "units" }, { "mountPath", "/etc/experiments" }, { "readOnly", "true" } })
            },
        };
        var jobNode = new YamlMappingNode
        {
            { "apiVersion", "batch/v1" },
            { "kind", "Job" },
            { "metadata", new YamlMappingNode { { "name", name } } },
            {
                "spec", new YamlMappingNode
                {
                    { "completionMode", "Indexed" },
                    { "completions", completions.ToString(CultureInfo.InvariantCulture) },
                    { "parallelism", job.Options["parallelism"] },
                    { "backoffLimitPerIndex", "2" },
                    {
                        "template", new YamlMappingNode
                        {
                            {
                                "spec", new YamlMappingNode
                                {
                                    { "restartPolicy", "Never" },
                                    { "containers", new YamlSequenceNode(container) },
                                    {
                                        "volumes", new YamlSequenceNode(
                                            new YamlMappingNode { { "name", "results" }, { "persistentVolumeClaim", new YamlMappingNode { { "claimName", job.Options["claim"] } } } },
                                            new YamlMappingNode { { "name", "units" }, { "configMap", new YamlMappingNode { { "name", name + "-units" } } } })
                                    },
                                }
                            },
                        }
                    },
                }
            },
        };
        return $"# Written by `experiments k8s`: {units.Count} work units; pod i runs task i of the unit list (JOB_COMPLETION_INDEX).\n"
            + YamlText.Emit(configMap) + "---\n" + YamlText.Emit(jobNode);
    }

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
        var command = new Command("publish", "Publish this experiments project as a self-contained app that runs on nodes without the .NET SDK.") { output, runtime, backend };
        command.SetAction(parse => Guard(() =>
        {
            string project = ProjectDirectory() ?? throw new UsageException("This program does not know its project folder; run dotnet publish on your experiments project instead (see the README's cluster section).");
            string folder = Path.GetFullPath(parse.GetValue(output) ?? Path.Combine("publish", "experiments"));
            string chosenBackend = parse.GetValue(backend) ?? "cpu";
            if (chosenBackend is not ("cpu" or "external"))
            {
                throw new UsageException($"--backend {chosenBackend}: use cpu or external.");
            }

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
