using System.Globalization;

namespace Experiments.Runtime.Training;

/// <summary>
/// One field of a run's identity as every record of it writes it: its key (<c>device_name</c>), its value (a string, a
/// whole number or a flag), whether it decides the result's bits, and whether a file may lack it (a field added after
/// files were approved). Snapshots, metrics.json and checkpoint keys all write the identity from these tables, so a new
/// field is written and compared everywhere or nowhere.
/// </summary>
public sealed record IdentityField(string Key, object? Value, bool DecidesBits = true, bool Optional = false)
{
    /// <summary>The value as snapshot files write it: whole numbers in invariant form, flags as true/false.</summary>
    public string? Text => Value switch
    {
        null => null,
        bool b => b ? "true" : "false",
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        _ => Value.ToString(),
    };
}

/// <summary>What was run: the declaration, its settings after configuration, the data and the profile. Compared exactly, whatever the machine.</summary>
public sealed record RunDefinition
{
    public required string Fingerprint { get; init; }

    public required string Dataset { get; init; }

    public required long Seed { get; init; }

    public required string Profile { get; init; }

    /// <summary>The training settings as <see cref="TrainingSettings.ToString"/> shows them (after experiments.yaml's overrides).</summary>
    public required string Settings { get; init; }

    /// <summary>How many epochs this run trains (the declaration's, capped by the profile).</summary>
    public required int Epochs { get; init; }

    public required int TrainExamples { get; init; }

    public required int ValidationExamples { get; init; }

    public required int TestExamples { get; init; }

    public required string Initialisers { get; init; }

    /// <summary>The SHA-256 of a user dataset's decoded content (<see cref="Data.ImageDataset.ContentSha256"/>); null for the pinned built-in datasets.</summary>
    public string? DatasetSha256 { get; init; }

    /// <summary>How BatchNormalization statistics were obtained for evaluation when not Keras' running averages; null otherwise.</summary>
    public string? BatchNorm { get; init; }

    /// <summary>The fields in the order files write them; dataset_sha256 and batch_norm only where they apply.</summary>
    public IReadOnlyList<IdentityField> Fields() =>
    [
        new("fingerprint", Fingerprint),
        new("dataset", Dataset),
        .. DatasetSha256 is { } content ? [new IdentityField("dataset_sha256", content, Optional: true)] : Array.Empty<IdentityField>(),
        new("seed", Seed),
        new("profile", Profile),
        new("settings", Settings),
        new("epochs", Epochs),
        new("train_examples", TrainExamples),
        new("validation_examples", ValidationExamples),
        new("test_examples", TestExamples),
        new("initialisers", Initialisers),
        .. BatchNorm is { } batchNorm ? [new IdentityField("batch_norm", batchNorm, Optional: true)] : Array.Empty<IdentityField>(),
    ];

    /// <summary>The keys every run writes, in order (each decides the bits).</summary>
    public static IReadOnlyList<string> Keys { get; } = Sample.Fields().Where(f => !f.Optional).Select(f => f.Key).ToList();

    /// <summary>The keys written only where they apply.</summary>
    public static IReadOnlyList<string> OptionalKeys { get; } = (Sample with { BatchNorm = "", DatasetSha256 = "" }).Fields().Where(f => f.Optional).Select(f => f.Key).ToList();

    private static RunDefinition Sample => new()
    {
        Fingerprint = "", Dataset = "", Seed = 0, Profile = "", Settings = "", Epochs = 0, TrainExamples = 0, ValidationExamples = 0, TestExamples = 0, Initialisers = "",
    };
}

/// <summary>Where it ran: the machine, libraries and switches that decide the bits, and what is recorded for the reader only.</summary>
public sealed record RunEnvironment
{
    public required string Backend { get; init; }

    public required string Device { get; init; }

    public required string DeviceName { get; init; }

    public required int Threads { get; init; }

    public required string TorchSharp { get; init; }

    public required string LibTorch { get; init; }

    public required string Os { get; init; }

    public required bool Deterministic { get; init; }

    public required bool Tf32 { get; init; }

    /// <summary>Recorded for the reader; does not change any result (managed code does no floating-point training work).</summary>
    public required string DotNet { get; init; }

    /// <summary>
    /// What LibTorch's CPU allocator fills new blocks with (convolutions, zero, junk or none; see AllocatorFill), recorded for the reader
    /// when known, not compared. A sound run never reads memory it did not write, so the fill cannot change its bits; a
    /// kernel that does read such memory gives the zero-filled run's bits with any finite garbage and NaN otherwise, and a
    /// NaN run fails every comparison anyway. Snapshots approved before it was recorded lack it.
    /// </summary>
    public required string Allocator { get; init; }

    /// <summary>The fields in the order files write them: those that decide the bits, then the rest.</summary>
    public IReadOnlyList<IdentityField> Fields() =>
    [
        new("backend", Backend),
        new("device", Device),
        new("device_name", DeviceName),
        new("threads", Threads),
        new("torchsharp", TorchSharp),
        new("libtorch", LibTorch),
        new("os", Os),
        new("deterministic", Deterministic),
        new("tf32", Tf32),
        new("dotnet", DotNet, DecidesBits: false),
        new("allocator", Allocator, DecidesBits: false, Optional: true),
    ];

    /// <summary>
    /// The keys that decide a result's bits. When they all match the approved snapshot the comparison is exact;
    /// otherwise it is made under the experiment's tolerances.
    /// </summary>
    public static IReadOnlyList<string> BitKeys { get; } = Sample.Fields().Where(f => f.DecidesBits).Select(f => f.Key).ToList();

    /// <summary>Recorded for the reader, not compared; every file has them.</summary>
    public static IReadOnlyList<string> InformationKeys { get; } = Sample.Fields().Where(f => !f.DecidesBits && !f.Optional).Select(f => f.Key).ToList();

    /// <summary>Recorded for the reader, not compared; files written before they were recorded lack them.</summary>
    public static IReadOnlyList<string> OptionalInformationKeys { get; } = Sample.Fields().Where(f => !f.DecidesBits && f.Optional).Select(f => f.Key).ToList();

    private static RunEnvironment Sample => new()
    {
        Backend = "", Device = "", DeviceName = "", Threads = 0, TorchSharp = "", LibTorch = "", Os = "", Deterministic = false, Tf32 = false, DotNet = "", Allocator = "",
    };
}

/// <summary>
/// Everything that decides a result's bits, in two parts: what was run and where it ran. Two runs with equal
/// identities give identical metrics. Snapshots, metrics.json, reports and checkpoint keys are written from this one
/// definition.
/// </summary>
public sealed record RunIdentity(string Experiment, RunDefinition Run, RunEnvironment Environment)
{
    /// <summary>The declaration's Keras-style layer summary (for the reader and for reviews; the fingerprint stands for it in comparisons).</summary>
    public string? Summary { get; init; }

    /// <summary>
    /// What a checkpoint must match for a resume to continue the same run bit for bit: the experiment, every field of
    /// what was run and every field of where it ran that decides the bits.
    /// </summary>
    public string ResumeKey() => string.Join('\n',
        [$"experiment {Experiment}", .. Run.Fields().Concat(Environment.Fields()).Where(f => f.DecidesBits).Select(f => $"{f.Key} {f.Text}")]);
}
