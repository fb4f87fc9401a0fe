using System.CommandLine;
using System.Globalization;
using System.Text;
using Experiments.Runtime.Configuration;
using Experiments.Runtime.IO;

namespace Experiments.Runtime.Hosting;

// `k8s`: a Kubernetes Indexed Job manifest for the selected work units.
public static partial class ExperimentsCli
{
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
            AtomicFile.WriteAllText(manifest, KubernetesManifest.Render(
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
}
