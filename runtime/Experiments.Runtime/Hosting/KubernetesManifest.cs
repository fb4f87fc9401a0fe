using Experiments.Runtime.Configuration;
using Experiments.Runtime.IO;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Experiments.Runtime.Hosting;

/// <summary>
/// The Kubernetes objects `experiments k8s` writes, as records in the API's field order, serialised by YamlDotNet
/// (camelCase names, null fields left out): a ConfigMap with the unit list (and the configuration the tasks read) and an
/// Indexed Job whose pod i runs task i of that list (JOB_COMPLETION_INDEX).
/// </summary>
internal static class KubernetesManifest
{
    private const string UnitsMount = "/etc/experiments";

    public static string Render(ClusterJob job, IReadOnlyList<WorkUnit> units, int cpus, string? configText)
    {
        string name = job.Options["name"];
        var configMap = new ConfigMap("v1", "ConfigMap", new Metadata(name + "-units"), new UnitData(UnitList.Render(units), configText));
        var requests = new Requests(cpus);
        var container = new Container(
            "experiments",
            job.Options["image"],
            job.App.Concat(job.RunArguments(UnitsMount + "/" + ClusterJob.UnitsFile)).Select(a => new YamlText.DoubleQuoted(a)).ToList(),
            new Resources(requests, job.Options.TryGetValue("gpus", out string? gpus) ? new Dictionary<string, int> { ["nvidia.com/gpu"] = int.Parse(gpus, System.Globalization.CultureInfo.InvariantCulture) } : null),
            [new VolumeMount("results", job.Output, null), new VolumeMount("units", UnitsMount, true)]);
        var indexedJob = new Job(
            "batch/v1",
            "Job",
            new Metadata(name),
            new JobSpec(
                "Indexed",
                ClusterJob.Tasks(units.Count, job.UnitsPerTask),
                int.Parse(job.Options["parallelism"], System.Globalization.CultureInfo.InvariantCulture),
                2,
                new PodTemplate(new PodSpec(
                    "Never",
                    [container],
                    [new Volume("results", new ClaimSource(job.Options["claim"]), null), new Volume("units", null, new ConfigMapSource(name + "-units"))]))));
        return $"# Written by `experiments k8s`: {units.Count} work units; pod i runs task i of the unit list (JOB_COMPLETION_INDEX).\n"
            + YamlText.Serialize(configMap, CamelCaseNamingConvention.Instance) + "---\n" + YamlText.Serialize(indexedJob, CamelCaseNamingConvention.Instance);
    }

    private sealed record Metadata(string Name);

    private sealed record ConfigMap(string ApiVersion, string Kind, Metadata Metadata, UnitData Data);

    /// <summary>The files the pods mount: the unit list and, where there is one, the configuration, as literal blocks.</summary>
    private sealed record UnitData(
        [property: YamlMember(Alias = ClusterJob.UnitsFile, ScalarStyle = ScalarStyle.Literal)] string Units,
        [property: YamlMember(Alias = ExperimentsConfig.FileName, ScalarStyle = ScalarStyle.Literal)] string? Configuration);

    private sealed record Job(string ApiVersion, string Kind, Metadata Metadata, JobSpec Spec);

    private sealed record JobSpec(string CompletionMode, int Completions, int Parallelism, int BackoffLimitPerIndex, PodTemplate Template);

    private sealed record PodTemplate(PodSpec Spec);

    private sealed record PodSpec(string RestartPolicy, IReadOnlyList<Container> Containers, IReadOnlyList<Volume> Volumes);

    private sealed record Container(string Name, string Image, IReadOnlyList<YamlText.DoubleQuoted> Command, Resources Resources, IReadOnlyList<VolumeMount> VolumeMounts);

    private sealed record Resources(Requests Requests, IReadOnlyDictionary<string, int>? Limits);

    private sealed record Requests(int Cpu);

    private sealed record VolumeMount(string Name, string MountPath, bool? ReadOnly);

    private sealed record Volume(string Name, ClaimSource? PersistentVolumeClaim, ConfigMapSource? ConfigMap);

    private sealed record ClaimSource(string ClaimName);

    private sealed record ConfigMapSource(string Name);
}
