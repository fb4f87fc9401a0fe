using System.Globalization;
using System.Text;
using Experiments.Runtime.IO;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Experiments.Runtime.Hosting;

/// <summary>
/// A scheduler job over work units, as `experiments slurm` and `experiments k8s` write it into its job folder:
/// job.yaml (these settings), units.txt (one unit per line; task i runs lines i·K+1 to (i+1)·K), the scheduler's
/// script or manifest, and logs/. `collect` and a resubmission read it back, so they need no arguments but the folder.
/// </summary>
public sealed record ClusterJob
{
    public const string FileName = "job.yaml";
    public const string UnitsFile = "units.txt";

    /// <summary>slurm or kubernetes.</summary>
    public required string Scheduler { get; init; }

    public required IReadOnlyList<string> Experiments { get; init; }

    /// <summary>Seeds 1..N per experiment; null: each experiment's own default (its declared seed, or the profile's or declaration's seeds).</summary>
    public int? Seeds { get; init; }

    public required string Profile { get; init; }

    public required int Threads { get; init; }

    public required string Device { get; init; }

    /// <summary>The shared results folder (absolute).</summary>
    public required string Output { get; init; }

    /// <summary>The configuration file the tasks read (absolute), if any.</summary>
    public string? Config { get; init; }

    /// <summary>The command that starts the experiments program on a node, as words (e.g. the published app's path).</summary>
    public required IReadOnlyList<string> App { get; init; }

    public int UnitsPerTask { get; init; } = 1;

    /// <summary>sbatch options (partition, time, cpus-per-task, gpus-per-task, mem) or Kubernetes settings, by name.</summary>
    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();

    public static string PathIn(string folder) => Path.Combine(folder, FileName);

    /// <summary>The `run` arguments every task uses (the unit list and task index aside).</summary>
    public IReadOnlyList<string> RunArguments(string unitsPath) =>
    [
        "run", "--units", unitsPath, "--units-per-task", UnitsPerTask.ToString(CultureInfo.InvariantCulture),
        "--profile", Profile, "--threads", Threads.ToString(CultureInfo.InvariantCulture), "--device", Device, "--out", Output, "--resume",
        .. Config is null ? Array.Empty<string>() : ["--config", Config],
    ];

    public static int Tasks(int units, int perTask) => (units + perTask - 1) / perTask;

    /// <summary>The 0-based tasks with at least one unit that <paramref name="isMissing"/> says has no complete result.</summary>
    public IReadOnlyList<int> IncompleteTasks(IReadOnlyList<WorkUnit> units, Func<WorkUnit, bool> isMissing) => Enumerable.Range(0, Tasks(units.Count, UnitsPerTask))
        .Where(t => units.Skip(t * UnitsPerTask).Take(UnitsPerTask).Any(isMissing))
        .ToList();

    public string Render() =>
        "# A scheduler job over work units, written by `experiments " + Scheduler + "`; `collect` and resubmissions read it.\n" + YamlText.Serialize(new JobFile(
            Scheduler,
            Experiments,
            Seeds?.ToString(CultureInfo.InvariantCulture) ?? "",
            Profile,
            Threads,
            Device,
            Output,
            Config ?? "",
            App.Select(a => new YamlText.DoubleQuoted(a)).ToList(),
            UnitsPerTask,
            new SortedDictionary<string, string>(Options.ToDictionary(), StringComparer.Ordinal)));

    /// <summary>job.yaml as written; <see cref="Load"/> reads it key by key, naming a missing or malformed field.</summary>
    private sealed record JobFile(
        string Scheduler, IReadOnlyList<string> Experiments, string Seeds, string Profile, int Threads, string Device, string Output, string Config,
        IReadOnlyList<YamlText.DoubleQuoted> App, int UnitsPerTask, IReadOnlyDictionary<string, string> Options);

    public static ClusterJob Load(string folder)
    {
        string path = PathIn(folder);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} does not exist: {folder} is not a job folder written by `experiments slurm` or `experiments k8s`.", path);
        }

        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(File.ReadAllText(path)));
            var root = (YamlMappingNode)stream.Documents[0].RootNode;
            string Text(string key) => root.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? node) && node is YamlScalarNode { Value: { } value }
                ? value
                : throw new UsageException($"{path}: missing field '{key}'; write the job again with `experiments slurm` or `experiments k8s`.");
            IReadOnlyList<string> List(string key) => root.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? node) && node is YamlSequenceNode sequence
                ? sequence.Children.Select(c => ((YamlScalarNode)c).Value ?? "").ToList()
                : throw new UsageException($"{path}: '{key}' must be a list.");
            return new ClusterJob
            {
                Scheduler = Text("scheduler"),
                Experiments = List("experiments"),
                Seeds = Text("seeds") is { Length: > 0 } seeds ? int.Parse(seeds, CultureInfo.InvariantCulture) : null,
                Profile = Text("profile"),
                Threads = int.Parse(Text("threads"), CultureInfo.InvariantCulture),
                Device = Text("device"),
                Output = Text("output"),
                Config = Text("config") is { Length: > 0 } config ? config : null,
                App = List("app"),
                UnitsPerTask = int.Parse(Text("units_per_task"), CultureInfo.InvariantCulture),
                Options = root.Children.TryGetValue(new YamlScalarNode("options"), out YamlNode? options) && options is YamlMappingNode map
                    ? map.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => ((YamlScalarNode)p.Value).Value ?? "")
                    : new Dictionary<string, string>(),
            };
        }
        catch (Exception e) when (e is YamlException or FormatException or InvalidCastException or ArgumentOutOfRangeException)
        {
            throw new UsageException($"{path}: {e.Message}; write the job again with `experiments slurm` or `experiments k8s`.");
        }
    }

    /// <summary>Words joined for a POSIX shell, each quoted when it needs to be.</summary>
    public static string Shell(IEnumerable<string> words) => string.Join(' ', words.Select(Quote));

    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "/._-=:,@%+".Contains(c)) ? word : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>Task indices as Slurm's --array wants them: 0-3,5,7-8.</summary>
    public static string ArraySpec(IReadOnlyList<int> tasks)
    {
        var text = new StringBuilder();
        for (int i = 0; i < tasks.Count;)
        {
            int j = i;
            while (j + 1 < tasks.Count && tasks[j + 1] == tasks[j] + 1)
            {
                j++;
            }

            text.Append(text.Length > 0 ? "," : "").Append(tasks[i].ToString(CultureInfo.InvariantCulture));
            if (j > i)
            {
                text.Append('-').Append(tasks[j].ToString(CultureInfo.InvariantCulture));
            }

            i = j + 1;
        }

        return text.ToString();
    }
}
