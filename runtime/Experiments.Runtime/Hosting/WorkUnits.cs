using System.Globalization;
using System.Text;

namespace Experiments.Runtime.Hosting;

/// <summary>
/// One run of one experiment (a sweep point is an experiment) with one seed, under the job's profile, device and
/// threads. Its id is its result folder under the output folder: NAME for the declared seed, NAME/seed-K for seed K of
/// a multi-seed result.
/// </summary>
public sealed record WorkUnit(string Experiment, long? Seed)
{
    public string Id => Seed is { } seed ? $"{Experiment}/seed-{seed.ToString(CultureInfo.InvariantCulture)}" : Experiment;

    /// <summary>The result folder's snapshot.txt exists once the unit is complete (results are written to a temporary folder, then renamed).</summary>
    public bool IsComplete(string outputRoot) => File.Exists(Path.Combine(outputRoot, Id, "snapshot.txt"));

    public static WorkUnit Parse(string id, string source)
    {
        string[] parts = id.Split('/');
        if (parts.Length == 1 && parts[0].Length > 0)
        {
            return new WorkUnit(parts[0], null);
        }

        if (parts.Length == 2 && parts[0].Length > 0 && parts[1].StartsWith("seed-", StringComparison.Ordinal)
            && long.TryParse(parts[1]["seed-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out long seed))
        {
            return new WorkUnit(parts[0], seed);
        }

        throw new UsageException($"{source}: '{id}' is not a work unit; a line is NAME or NAME/seed-K.");
    }

    public override string ToString() => Id;
}

/// <summary>Shard i of N (1-based), and where it came from (the command line or a scheduler's variables).</summary>
public sealed record Shard(int Index, int Count, string Source)
{
    /// <summary>
    /// Whether <paramref name="unit"/> belongs to this shard: a 64-bit hash of its id (SHA-256), modulo the count. A unit's
    /// shard depends on its own id and the count only, so adding or removing other experiments never moves it (the
    /// price: with few units the shards can be uneven; a scheduler job uses a unit list instead, one task per unit).
    /// </summary>
    public bool Contains(WorkUnit unit) => (int)(Hash(unit.Id) % (ulong)Count) == Index - 1;

    public static Shard Parse(string text, string source)
    {
        string[] parts = text.Split('/');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count)
            && count >= 1 && index >= 1 && index <= count
                ? new Shard(index, count, source)
                : throw new UsageException($"{source} '{text}': a shard is i/N with 1 <= i <= N, e.g. --shard 2/4.");
    }

    /// <summary>
    /// The shard a scheduler gives this process when --shard is not used: Slurm's SLURM_ARRAY_TASK_ID (minus
    /// SLURM_ARRAY_TASK_MIN) of SLURM_ARRAY_TASK_COUNT, or a Kubernetes Indexed Job's JOB_COMPLETION_INDEX of
    /// <paramref name="count"/> (--shard-count). Null outside both.
    /// </summary>
    public static Shard? FromEnvironment(Func<string, string?> variable, int? count)
    {
        if (variable("SLURM_ARRAY_TASK_ID") is { Length: > 0 } task && variable("SLURM_ARRAY_TASK_COUNT") is { Length: > 0 } tasks)
        {
            int id = Number("SLURM_ARRAY_TASK_ID", task);
            int min = variable("SLURM_ARRAY_TASK_MIN") is { Length: > 0 } m ? Number("SLURM_ARRAY_TASK_MIN", m) : 0;
            int total = count ?? Number("SLURM_ARRAY_TASK_COUNT", tasks);
            return id - min < total
                ? new Shard(id - min + 1, total, $"SLURM_ARRAY_TASK_ID={task} of SLURM_ARRAY_TASK_COUNT={total}")
                : throw new UsageException($"SLURM_ARRAY_TASK_ID={task} (minimum {min}) is past the {total} shards: submit a contiguous array (--array=0-{total - 1}), or use a unit list (experiments slurm).");
        }

        if (variable("JOB_COMPLETION_INDEX") is { Length: > 0 } index)
        {
            int i = Number("JOB_COMPLETION_INDEX", index);
            return count is { } n
                ? (i < n ? new Shard(i + 1, n, $"JOB_COMPLETION_INDEX={index} of --shard-count {n}") : throw new UsageException($"JOB_COMPLETION_INDEX={index} is past --shard-count {n}; set the Job's completions to {n}."))
                : throw new UsageException("JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): give the Job's completions with --shard-count N, or a shard with --shard i/N.");
        }

        return null;
    }

    private static int Number(string name, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new UsageException($"{name} is '{text}', not a whole number.");

    // string.GetHashCode is randomised per process, and the assignment must be the same on every node; SHA-256's
    // first 8 bytes spread similar ids (exp-1, exp-2, ...) evenly, which FNV-1a's low bits do not.
    private static ulong Hash(string text) => BitConverter.ToUInt64(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0);
}

/// <summary>A scheduler job's unit list: one unit id per line; task i runs lines i·K+1 to (i+1)·K.</summary>
public static class UnitList
{
    public static IReadOnlyList<WorkUnit> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The unit list {path} does not exist; `experiments slurm` writes it.", path);
        }

        return File.ReadAllLines(path)
            .Select((line, i) => (line: line.Trim(), i))
            .Where(x => x.line.Length > 0 && !x.line.StartsWith('#'))
            .Select(x => WorkUnit.Parse(x.line, $"{path}({x.i + 1})"))
            .ToList();
    }

    public static string Render(IEnumerable<WorkUnit> units) => string.Concat(units.Select(u => u.Id + "\n"));

    /// <summary>The units of task <paramref name="index"/> (0-based) with <paramref name="perTask"/> units per task.</summary>
    public static IReadOnlyList<WorkUnit> Task(IReadOnlyList<WorkUnit> units, int index, int perTask, string path)
    {
        int tasks = (units.Count + perTask - 1) / perTask;
        return index >= 0 && index < tasks
            ? units.Skip(index * perTask).Take(perTask).ToList()
            : throw new UsageException($"Task index {index} is outside {path}'s {tasks} tasks (0 to {tasks - 1}).");
    }

    /// <summary>
    /// The task index for a unit list: --unit-index, else SLURM_ARRAY_TASK_ID (the array's indices are the list's
    /// tasks, so a resubmission of some indices runs exactly those), else JOB_COMPLETION_INDEX.
    /// </summary>
    public static int TaskIndex(int? given, Func<string, string?> variable)
    {
        if (given is { } i)
        {
            return i;
        }

        foreach (string name in new[] { "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX" })
        {
            if (variable(name) is { Length: > 0 } text)
            {
                return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int index)
                    ? index
                    : throw new UsageException($"{name} is '{text}', not a whole number.");
            }
        }

        throw new UsageException("--units needs a task index: --unit-index i, or SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX from the scheduler.");
    }
}
