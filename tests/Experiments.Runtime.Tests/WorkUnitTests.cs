using System.Text.Json;
using Experiments.Runtime.Hosting;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace Experiments.Runtime.Tests;

/// <summary>Work units, shards, scheduler variables, unit lists and the job files `slurm` and `k8s` write.</summary>
public sealed class WorkUnitTests
{
    [Fact]
    public void Shards_partition_the_units_and_a_unit_keeps_its_shard_when_others_are_added()
    {
        List<WorkUnit> units = Enumerable.Range(1, 200).Select(i => new WorkUnit($"experiment-{i}", i % 3 == 0 ? i : null)).ToList();
        Shard[] shards = Enumerable.Range(1, 4).Select(i => new Shard(i, 4, "test")).ToArray();
        foreach (WorkUnit unit in units)
        {
            Assert.Equal(1, shards.Count(s => s.Contains(unit)));
        }

        Assert.All(shards, s => Assert.InRange(units.Count(s.Contains), 25, 75));
        var before = units.ToDictionary(u => u.Id, u => shards.Single(s => s.Contains(u)).Index);
        List<WorkUnit> more = [.. Enumerable.Range(1, 50).Select(i => new WorkUnit($"added-{i}", null)), .. units];
        Assert.All(more.Where(u => before.ContainsKey(u.Id)), u => Assert.Equal(before[u.Id], shards.Single(s => s.Contains(u)).Index));
    }

    [Fact]
    public void The_shard_comes_from_the_command_line_or_the_schedulers_variables()
    {
        Assert.Equal((2, 4), (Shard.Parse("2/4", "--shard").Index, Shard.Parse("2/4", "--shard").Count));
        foreach (string bad in new[] { "0/4", "5/4", "2", "a/b", "1/0" })
        {
            Assert.Contains("a shard is i/N", Assert.Throws<UsageException>(() => Shard.Parse(bad, "--shard")).Message, StringComparison.Ordinal);
        }

        Dictionary<string, string> slurm = new() { ["SLURM_ARRAY_TASK_ID"] = "5", ["SLURM_ARRAY_TASK_MIN"] = "3", ["SLURM_ARRAY_TASK_COUNT"] = "4" };
        Shard fromSlurm = Shard.FromEnvironment(slurm.GetValueOrDefault, null)!;
        Assert.Equal((3, 4), (fromSlurm.Index, fromSlurm.Count));
        Assert.Contains("SLURM_ARRAY_TASK_ID=5", fromSlurm.Source, StringComparison.Ordinal);
        slurm["SLURM_ARRAY_TASK_ID"] = "9";
        Assert.Contains("contiguous array", Assert.Throws<UsageException>(() => Shard.FromEnvironment(slurm.GetValueOrDefault, null)).Message, StringComparison.Ordinal);

        Dictionary<string, string> kubernetes = new() { ["JOB_COMPLETION_INDEX"] = "0" };
        Assert.Equal((1, 3), (Shard.FromEnvironment(kubernetes.GetValueOrDefault, 3)!.Index, 3));
        Assert.Contains("--shard-count", Assert.Throws<UsageException>(() => Shard.FromEnvironment(kubernetes.GetValueOrDefault, null)).Message, StringComparison.Ordinal);
        Assert.Null(Shard.FromEnvironment(_ => null, null));

        Assert.Equal(2, UnitList.TaskIndex(null, new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "2" }.GetValueOrDefault));
        Assert.Equal(7, UnitList.TaskIndex(7, new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "2" }.GetValueOrDefault));
        Assert.Throws<UsageException>(() => UnitList.TaskIndex(null, _ => null));
    }

    [Fact]
    public void Unit_lists_round_trip_and_tasks_take_consecutive_units()
    {
        WorkUnit[] units = [new("a", null), new("b", 1), new("b", 2), new("sweep@lr=0.1", 3), new("c", null)];
        string path = Path.Combine(TestEnvironment.TempDirectory("units"), "units.txt");
        File.WriteAllText(path, "# a comment\n" + UnitList.Render(units));
        IReadOnlyList<WorkUnit> read = UnitList.Read(path);
        Assert.Equal(units, read);
        Assert.Equal("sweep@lr=0.1/seed-3", read[3].Id);
        Assert.Equal([units[2], units[3]], UnitList.Task(read, 1, 2, path));
        Assert.Equal([units[4]], UnitList.Task(read, 2, 2, path));
        Assert.Contains("outside", Assert.Throws<UsageException>(() => UnitList.Task(read, 3, 2, path)).Message, StringComparison.Ordinal);

        File.WriteAllText(path, "a\nb/seed-x\n");
        Assert.Contains("units.txt(2): 'b/seed-x' is not a work unit", Assert.Throws<UsageException>(() => UnitList.Read(path)).Message, StringComparison.Ordinal);
        Assert.Equal("0-3,5,7-8", ClusterJob.ArraySpec([0, 1, 2, 3, 5, 7, 8]));
        Assert.Equal("'a b' plain 'it'\\''s'", ClusterJob.Shell(["a b", "plain", "it's"]));
    }

    [Fact]
    public void The_catalog_split_into_two_shards_is_disjoint_and_whole()
    {
        string[] Names(params string[] arguments)
        {
            var list = ProcessDeterminismTests.Cli(["list", "--json", .. arguments]);
            Assert.True(list.ExitCode == 0, list.Output);
            using JsonDocument json = JsonDocument.Parse(list.Output);
            return json.RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()!).ToArray();
        }

        string[] all = Names();
        string[] first = Names("--shard", "1/2");
        string[] second = Names("--shard", "2/2");
        Assert.NotEmpty(first);
        Assert.NotEmpty(second);
        Assert.Empty(first.Intersect(second));
        Assert.Equal(all.Order(), first.Concat(second).Order());
    }

    [Fact]
    public void A_job_runs_task_by_task_into_one_folder_and_collect_gives_the_local_multi_seed_result()
    {
        string folder = TestEnvironment.TempDirectory("units-job");
        string config = Path.Combine(folder, "experiments.yaml");
        File.WriteAllText(config, "profiles:\n  tiny:\n    train_examples: 300\n    test_examples: 120\n    max_epochs: 2\n");
        string shared = Path.Combine(folder, "shared");
        var write = ProcessDeterminismTests.Cli("slurm", "mnist-mlp-50-sgd", "--seeds", "3", "--profile", "tiny", "--threads", "1", "--out", shared, "--config", config, "--units-per-task", "2");
        Assert.True(write.ExitCode == 0, write.Output);
        Assert.Contains("3 units in 2 array tasks", write.Output, StringComparison.Ordinal);
        Assert.Contains("sbatch --parsable --array=0-1 ", write.Output, StringComparison.Ordinal);
        string jobFolder = Path.Combine(shared, ".slurm");
        string script = File.ReadAllText(Path.Combine(jobFolder, "job.sbatch"));
        Assert.Contains("#SBATCH --array=0-1\n", script, StringComparison.Ordinal);
        Assert.Contains($"#SBATCH --output={jobFolder}/logs/%a-%A.out\n", script, StringComparison.Ordinal);
        Assert.Contains("run --units " + Path.Combine(jobFolder, "units.txt") + " --units-per-task 2 --profile tiny --threads 1 --device cpu --out " + shared + " --resume", script, StringComparison.Ordinal);
        Assert.Equal("mnist-mlp-50-sgd/seed-1\nmnist-mlp-50-sgd/seed-2\nmnist-mlp-50-sgd/seed-3\n", File.ReadAllText(Path.Combine(jobFolder, "units.txt")));

        // Nothing ran yet: collect lists both tasks with the command that runs each, and fails.
        var early = ProcessDeterminismTests.Cli("collect", shared);
        Assert.True(early.ExitCode == 1, early.Output);
        Assert.Contains("0 of 3 units complete", early.Output, StringComparison.Ordinal);
        Assert.Contains("missing: task 1: mnist-mlp-50-sgd/seed-3", early.Output, StringComparison.Ordinal);
        Assert.Contains("--unit-index 1", early.Output, StringComparison.Ordinal);

        // The two tasks as the array would run them (task 1 through the scheduler's variable), then collect.
        string[] task = ["run", "--units", Path.Combine(jobFolder, "units.txt"), "--units-per-task", "2", "--profile", "tiny", "--threads", "1", "--out", shared, "--config", config, "--resume"];
        var first = ProcessDeterminismTests.Cli([.. task, "--unit-index", "0"]);
        Assert.True(first.ExitCode == 0, first.Output);
        var second = ProcessDeterminismTests.CliIn(null, new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "1" }, task);
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Contains("task 1 of", second.Output, StringComparison.Ordinal);
        var again = ProcessDeterminismTests.Cli([.. task, "--unit-index", "0"]);
        Assert.Contains("complete in", again.Output, StringComparison.Ordinal);
        var collect = ProcessDeterminismTests.Cli("collect", jobFolder);
        Assert.True(collect.ExitCode == 0, collect.Output);
        Assert.False(Directory.Exists(Path.Combine(shared, ".locks")));

        string local = TestEnvironment.TempDirectory("units-local");
        var run = ProcessDeterminismTests.Cli("run", "mnist-mlp-50-sgd", "--seeds", "3", "--profile", "tiny", "--threads", "1", "--out", local, "--config", config);
        Assert.True(run.ExitCode == 0, run.Output);
        foreach (string file in new[] { "aggregate.json", "seed-1/snapshot.txt", "seed-2/metrics.json", "seed-3/snapshot.txt" })
        {
            Assert.Equal(File.ReadAllText(Path.Combine(local, "mnist-mlp-50-sgd", file)), File.ReadAllText(Path.Combine(shared, "mnist-mlp-50-sgd", file)));
        }

        // Submitting again finds nothing to do.
        var resubmit = ProcessDeterminismTests.Cli("slurm", "--job-dir", jobFolder, "--submit");
        Assert.True(resubmit.ExitCode == 0, resubmit.Output);
        Assert.Contains("nothing to submit", resubmit.Output, StringComparison.Ordinal);

        // A different job in the same folder is refused.
        var other = ProcessDeterminismTests.Cli("slurm", "mnist-mlp-50-sgd", "--seeds", "2", "--profile", "tiny", "--out", shared, "--config", config);
        Assert.Equal(2, other.ExitCode);
        Assert.Contains("holds another job", other.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_kubernetes_manifest_is_a_config_map_and_an_indexed_job_over_the_units()
    {
        string folder = TestEnvironment.TempDirectory("k8s");
        var write = ProcessDeterminismTests.Cli("k8s", "mnist-mlp-50-sgd", "--seeds", "3", "--profile", "smoke", "--threads", "2", "--image", "registry.example/experiments:1", "--claim", "results-pvc", "--gpus", "1", "--out", folder, "--app", "/app/experiments");
        Assert.True(write.ExitCode == 0, write.Output);
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(folder, ".k8s", "job.k8s.yaml"))));
        Assert.Equal(2, stream.Documents.Count);
        var configMap = (YamlMappingNode)stream.Documents[0].RootNode;
        Assert.Equal("ConfigMap", Scalar(configMap, "kind"));
        Assert.Equal("mnist-mlp-50-sgd/seed-1\nmnist-mlp-50-sgd/seed-2\nmnist-mlp-50-sgd/seed-3\n", Scalar(Map(configMap, "data"), "units.txt"));

        var job = (YamlMappingNode)stream.Documents[1].RootNode;
        Assert.Equal(("batch/v1", "Job"), (Scalar(job, "apiVersion"), Scalar(job, "kind")));
        YamlMappingNode spec = Map(job, "spec");
        Assert.Equal(("Indexed", "3"), (Scalar(spec, "completionMode"), Scalar(spec, "completions")));
        YamlMappingNode pod = Map(Map(spec, "template"), "spec");
        Assert.Equal("Never", Scalar(pod, "restartPolicy"));
        var container = (YamlMappingNode)((YamlSequenceNode)pod.Children["containers"]).Children.Single();
        Assert.Equal("registry.example/experiments:1", Scalar(container, "image"));
        string[] command = ((YamlSequenceNode)container.Children["command"]).Children.Select(c => ((YamlScalarNode)c).Value!).ToArray();
        Assert.Equal(["/app/experiments", "run", "--units", "/etc/experiments/units.txt", "--units-per-task", "1", "--profile", "smoke", "--threads", "2", "--device", "cpu", "--out", "/results", "--resume", "--config", "/etc/experiments/experiments.yaml"], command);

        // The catalog's experiments.yaml travels in the ConfigMap: the pod has no project folder to find it in.
        string catalogConfig = File.ReadAllText(Path.Combine(Path.GetDirectoryName(TestEnvironment.Metadata("CatalogExecutable"))!, "..", "..", "..", "experiments.yaml"));
        Assert.Equal(catalogConfig, Scalar(Map(configMap, "data"), "experiments.yaml"));
        Assert.Equal("1", Scalar(Map(Map(container, "resources"), "limits"), "nvidia.com/gpu"));
        string[] mounts = ((YamlSequenceNode)container.Children["volumeMounts"]).Children.Select(m => Scalar((YamlMappingNode)m, "mountPath")).ToArray();
        Assert.Equal(["/results", "/etc/experiments"], mounts);
        var volumes = ((YamlSequenceNode)pod.Children["volumes"]).Children.Cast<YamlMappingNode>().ToArray();
        Assert.Equal("results-pvc", Scalar(Map(volumes[0], "persistentVolumeClaim"), "claimName"));
        Assert.Equal(Scalar(Map(configMap, "metadata"), "name"), Scalar(Map(volumes[1], "configMap"), "name"));
    }

    private static YamlMappingNode Map(YamlMappingNode node, string key) => (YamlMappingNode)node.Children[new YamlScalarNode(key)];

    private static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node.Children[new YamlScalarNode(key)]).Value!;
}
