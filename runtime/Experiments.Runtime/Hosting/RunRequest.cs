using System.CommandLine;
using System.CommandLine.Parsing;
using Experiments.Runtime.Native;

namespace Experiments.Runtime.Hosting;

/// <summary>
/// What `run` was asked to do, bound once from its command line (<see cref="RunCommandOptions.Bind"/>): the values
/// as given, typed, and checked while parsing where a value alone decides (ranges, kernel-set names, shard syntax).
/// What depends on the configuration or on other options is resolved by the command.
/// </summary>
internal sealed record RunRequest
{
    public IReadOnlyList<string> Names { get; init; } = [];

    public string? Profile { get; init; }

    public string? Device { get; init; }

    public int? Threads { get; init; }

    public string? Seed { get; init; }

    public int? Seeds { get; init; }

    public int? Parallel { get; init; }

    /// <summary>This process is a worker of another's --parallel: it writes seed-K folders and no aggregate.</summary>
    public bool SeedWorker { get; init; }

    public string? Output { get; init; }

    public string? Config { get; init; }

    public IReadOnlyList<string> Sets { get; init; } = [];

    public string? From { get; init; }

    public string? Data { get; init; }

    public int? Epochs { get; init; }

    public string? Snapshot { get; init; }

    public bool Resume { get; init; }

    public bool RecordDivergence { get; init; }

    /// <summary>The kernel sets to repeat each run under (--kernels); empty without.</summary>
    public IReadOnlyList<KernelSet> Kernels { get; init; } = [];

    public KernelSet? PinKernels { get; init; }

    public Shard? Shard { get; init; }

    public int? ShardCount { get; init; }

    public string? Units { get; init; }

    public int? UnitIndex { get; init; }

    public int? UnitsPerTask { get; init; }
}

/// <summary>The options of `run`, each declared once with its help text and its check; <see cref="Bind"/> reads them into a <see cref="RunRequest"/>.</summary>
internal sealed class RunCommandOptions
{
    private readonly Argument<string[]> _names = new("names") { Description = "Experiment names or globs (mnist-*); optional with --from.", Arity = ArgumentArity.ZeroOrMore };
    private readonly Option<string?> _profile = new("--profile") { Description = "full (the notebook's settings), smoke (seeded subset, fewer epochs) or a profile from the configuration. Default: full." };
    private readonly Option<string?> _device = new("--device") { Description = "cpu, cuda, cuda:N or auto (CUDA when this process has it, else the CPU). Default: the profile's, else cpu." };
    private readonly Option<int?> _threads = new Option<int?>("--threads") { Description = "Intra-op CPU threads (part of the result's identity). Default: the profile's, else all cores." }.AtLeast(1);
    private readonly Option<string?> _seed = new("--seed")
    {
        Description = "Replace the declared seed (splits, initial weights, shuffles, dropout). A list (1,2,3) runs each as one seed of a multi-seed result.",
    };
    private readonly Option<int?> _seeds = new Option<int?>("--seeds") { Description = "Run seeds 1..N as one multi-seed result: OUT/NAME/seed-K per seed, aggregate.json, report.md and plots." }.AtLeast(1);
    private readonly Option<int?> _parallel = new Option<int?>("--parallel") { Description = "Run the seeds in N worker processes (default: one after another in this process); the results are the same bits." }.AtLeast(1);
    private readonly Option<bool> _seedWorker = new("--seed-worker") { Description = "Internal: write seed-K folders and no aggregate (a worker of --parallel).", Hidden = true };
    private readonly Option<string?> _output = new("--out") { Description = "Results folder; one subfolder per experiment. Default: the configuration's output, else results." };
    private readonly Option<string?> _config = new("--config") { Description = $"A configuration file. Default: {Configuration.ExperimentsConfig.FileName} in the current folder or beside the experiments project." };
    private readonly Option<string[]> _sets = new("--set") { Description = "Override one configuration key, e.g. --set profiles.smoke.max_epochs=2 (repeatable).", Arity = ArgumentArity.ZeroOrMore };
    private readonly Option<string?> _from = new("--from") { Description = "Replay a result's config.yaml exactly (experiments, profile, device, threads, overrides)." };
    private readonly Option<string?> _data = new("--data") { Description = "A folder with the dataset's IDX files (overrides EXPERIMENTS_DATA)." };
    private readonly Option<int?> _epochs = new Option<int?>("--epochs") { Description = "Cap the number of epochs." }.AtLeast(1);
    private readonly Option<string?> _snapshot = new("--snapshot")
    {
        Description = "Also write the run's snapshot (the text of approved *.verified.txt files; with several seeds, the multi-seed snapshot) to this file; with several experiments, to this folder.",
    };
    private readonly Option<bool> _resume = new("--resume") { Description = "Continue each experiment from its last checkpoint (OUT/.checkpoints/NAME.ckpt) if there is one." };
    private readonly Option<bool> _recordDivergence = new("--record-divergence") { Description = "Record a NaN or infinite loss as the result instead of failing." };
    private readonly Option<IReadOnlyList<KernelSet>> _kernels = new("--kernels")
    {
        Description = "After each run, repeat it under these CPU kernel sets, one process each (all, or names: "
            + string.Join(", ", KernelSet.All.Select(k => k.Name)) + "), print the spread and write it to OUT/NAME/kernels.txt.",
        CustomParser = result => Parsed(result, KernelSet.Parse) ?? [],
    };
    private readonly Option<KernelSet?> _pinKernels = new("--pin-kernels")
    {
        Description = "Run under one CPU kernel set in this process (e.g. avx2, portable); recorded in the result's identity.",
        CustomParser = result => Parsed(result, KernelSet.Find),
    };
    private readonly Option<Shard?> _shard = new("--shard")
    {
        Description = "Run shard i of N (i/N) of the selected work units (one per experiment, or per seed with several seeds). Default under a "
            + "Slurm array: SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT; in a Kubernetes Indexed Job: JOB_COMPLETION_INDEX of --shard-count.",
        CustomParser = result => Parsed(result, text => Shard.Parse(text, "--shard")),
    };
    private readonly Option<int?> _shardCount = new Option<int?>("--shard-count") { Description = "The number of shards when the index comes from JOB_COMPLETION_INDEX (the Job's completions)." }.AtLeast(1);
    private readonly Option<string?> _units = new("--units") { Description = "A unit list written by `experiments slurm`/`k8s`: run the units of one task (--unit-index, else SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)." };
    private readonly Option<int?> _unitIndex = new Option<int?>("--unit-index") { Description = "The task of --units to run (0-based)." }.AtLeast(0);
    private readonly Option<int?> _unitsPerTask = new Option<int?>("--units-per-task") { Description = "Units per task of --units (default 1)." }.AtLeast(1);

    public RunCommandOptions(Command command)
    {
        command.Arguments.Add(_names);
        foreach (Option option in new Option[]
        {
            _profile, _device, _threads, _seed, _seeds, _parallel, _seedWorker, _output, _config, _sets, _from, _data, _epochs, _snapshot, _resume,
            _recordDivergence, _kernels, _pinKernels, _shard, _shardCount, _units, _unitIndex, _unitsPerTask,
        })
        {
            command.Options.Add(option);
        }
    }

    public RunRequest Bind(ParseResult parse) => new()
    {
        Names = parse.GetValue(_names) ?? [],
        Profile = parse.GetValue(_profile),
        Device = parse.GetValue(_device),
        Threads = parse.GetValue(_threads),
        Seed = parse.GetValue(_seed),
        Seeds = parse.GetValue(_seeds),
        Parallel = parse.GetValue(_parallel),
        SeedWorker = parse.GetValue(_seedWorker),
        Output = parse.GetValue(_output),
        Config = parse.GetValue(_config),
        Sets = parse.GetValue(_sets) ?? [],
        From = parse.GetValue(_from),
        Data = parse.GetValue(_data),
        Epochs = parse.GetValue(_epochs),
        Snapshot = parse.GetValue(_snapshot),
        Resume = parse.GetValue(_resume),
        RecordDivergence = parse.GetValue(_recordDivergence),
        Kernels = parse.GetValue(_kernels) ?? [],
        PinKernels = parse.GetValue(_pinKernels),
        Shard = parse.GetValue(_shard),
        ShardCount = parse.GetValue(_shardCount),
        Units = parse.GetValue(_units),
        UnitIndex = parse.GetValue(_unitIndex),
        UnitsPerTask = parse.GetValue(_unitsPerTask),
    };

    /// <summary>The option's single token through <paramref name="parse"/>; its exception's message becomes the parse error (a usage error naming the option).</summary>
    private static T? Parsed<T>(ArgumentResult result, Func<string, T> parse)
    {
        string text = result.Tokens.Single().Value;
        try
        {
            return parse(text);
        }
        catch (Exception e) when (e is ArgumentException or UsageException)
        {
            string option = result.Parent is OptionResult o ? o.Option.Name : "value";
            result.AddError(e is UsageException ? e.Message : $"{option} {text}: {e.Message}");
            return default;
        }
    }
}
