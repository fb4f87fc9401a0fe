using System.Text;
using Experiments.Runtime.IO;
using Experiments.Runtime.Results;
using Experiments.Runtime.Training;
using YamlDotNet.RepresentationModel;

namespace Experiments.Runtime.Snapshots;

/// <summary>
/// An approved (or received) result as a reviewer reads it in a pull request: a YAML document with a provenance header,
/// the final metrics, the per-epoch history and the confusion matrices as aligned text tables with class names.
/// Numbers are written in round-trip form, so parsing the text gives back the exact doubles.
/// </summary>
public sealed partial record SnapshotDocument : IResultSnapshot<SnapshotDocument>
{
    /// <summary>Keys of <see cref="Run"/>: what was run, always compared exactly (<see cref="RunDefinition"/> defines them).</summary>
    public static IReadOnlyList<string> RunKeys => RunDefinition.Keys;

    /// <summary>Keys of <see cref="Run"/> written only when they apply (batch_norm: how BatchNormalization statistics were obtained when not Keras' running averages).</summary>
    public static IReadOnlyList<string> OptionalRunKeys => RunDefinition.OptionalKeys;

    /// <summary>Keys of <see cref="Environment"/> that decide a result's bits (<see cref="RunEnvironment"/> defines them).</summary>
    public static IReadOnlyList<string> BitKeys => RunEnvironment.BitKeys;

    /// <summary>Keys of <see cref="Environment"/> recorded for the reader; the optional ones are missing from older snapshots.</summary>
    public static IReadOnlyList<string> InformationKeys => RunEnvironment.InformationKeys;

    public static IReadOnlyList<string> OptionalInformationKeys => RunEnvironment.OptionalInformationKeys;

    /// <summary>The environment keys a snapshot writes and reads, in order: those that decide the bits, then the rest.</summary>
    public static IReadOnlyList<string> EnvironmentKeys(Func<string, bool> present) =>
        [.. BitKeys, .. InformationKeys, .. OptionalInformationKeys.Where(present)];

    public required string Experiment { get; init; }

    public required IReadOnlyDictionary<string, string> Run { get; init; }

    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    public required long Parameters { get; init; }

    /// <summary>"epoch E, batch B" when the run diverged and recorded it as its result; null otherwise (and then not written).</summary>
    public string? Diverged { get; init; }

    /// <summary>
    /// What early stopping decided ("stopped after epoch 7, weights of epoch 4 restored"); null when the run declares
    /// none (and then not written). Compared exactly: the epochs are decisions, not measurements.
    /// </summary>
    public string? EarlyStopping { get; init; }

    public required double TrainAccuracy { get; init; }

    public required double TrainLoss { get; init; }

    public required double TestAccuracy { get; init; }

    public required double TestLoss { get; init; }

    public required IReadOnlyList<SnapshotEpoch> History { get; init; }

    public required ConfusionMatrix TrainConfusion { get; init; }

    public required ConfusionMatrix TestConfusion { get; init; }

    /// <summary>
    /// The declaration's layer summary, for the reader and for `review`'s before/after diff; not compared (the
    /// fingerprint in <see cref="Run"/> stands for the declaration). Null in snapshots approved before it was written.
    /// </summary>
    public string? Summary { get; init; }

    /// <summary>The spread approval measured under other CPU kernel sets; null when it measured none (then not written).</summary>
    public KernelEnvelope? Kernels { get; init; }

    public string Profile => Run["profile"];

    public string Subject => $"'{Experiment}' ({Profile})";

    public SnapshotDocument WithKernels(KernelEnvelope? kernels) => this with { Kernels = kernels };

    public static SnapshotComparison CompareExactly(SnapshotDocument approved, SnapshotDocument received) =>
        SnapshotComparison.Compare(approved, received, Tolerances.Default, ComparisonMode.Exact);

    public static SnapshotDocument From(ExperimentResult result)
    {
        RunIdentity id = result.Identity;
        return new SnapshotDocument
        {
            Experiment = id.Experiment,
            Run = id.Run.Fields().ToDictionary(f => f.Key, f => f.Text!),
            Environment = id.Environment.Fields().ToDictionary(f => f.Key, f => f.Text!),
            Parameters = result.Parameters,
            Diverged = result.Diverged is { } d ? $"epoch {d.Epoch}, batch {d.Batch}" : null,
            EarlyStopping = result.EarlyStopping?.ToString(),
            TrainAccuracy = result.Train.Accuracy,
            TrainLoss = result.Train.Loss,
            TestAccuracy = result.Test.Accuracy,
            TestLoss = result.Test.Loss,
            History = result.History.Select(e => new SnapshotEpoch(e.Epoch, e.Loss, e.Accuracy, e.ValidationLoss, e.ValidationAccuracy) { LearningRate = e.LearningRate }).ToList(),
            TrainConfusion = result.TrainConfusion,
            TestConfusion = result.TestConfusion,
            Summary = id.Summary is { } summary ? summary.TrimEnd('\n') + "\n" : null,
        };
    }
}

/// <summary>One row of a snapshot's history table.</summary>
public sealed record SnapshotEpoch(int Epoch, double Loss, double Accuracy, double? ValidationLoss, double? ValidationAccuracy)
{
    /// <summary>The rate of the epoch's last step, where a schedule or plateau moves it (the table's learning_rate column).</summary>
    public double? LearningRate { get; init; }
}
