namespace Experiments.Runtime.Training;

/// <summary>Metrics after one epoch, as Keras' History holds them (training figures are running means over the epoch).</summary>
public sealed record EpochMetrics(int Epoch, double Loss, double Accuracy, double? ValidationLoss, double? ValidationAccuracy, double Seconds)
{
    /// <summary>Seconds of the training pass alone (the rest of <see cref="Seconds"/> is validation).</summary>
    public double TrainSeconds { get; init; }
}

/// <summary>Loss and accuracy of the final model on one set (training mode off: no dropout, moving BatchNorm statistics).</summary>
public sealed record Evaluation(double Loss, double Accuracy, int Count);

/// <summary>A test example the final model gets wrong: its index in the test set (after any subset), its label and the prediction.</summary>
public sealed record Misclassified(int Index, int Actual, int Predicted);

/// <summary>Everything that decides a result's bits. Two runs with equal identities give identical metrics.</summary>
public sealed record RunIdentity
{
    public required string Experiment { get; init; }

    public required string Fingerprint { get; init; }

    public required string Dataset { get; init; }

    public required long Seed { get; init; }

    public required string Profile { get; init; }

    public required string Settings { get; init; }

    public required int Epochs { get; init; }

    public required int TrainExamples { get; init; }

    public required int ValidationExamples { get; init; }

    public required int TestExamples { get; init; }

    public required string Device { get; init; }

    public required string DeviceName { get; init; }

    public required int Threads { get; init; }

    public required string Backend { get; init; }

    public required string TorchSharp { get; init; }

    public required string LibTorch { get; init; }

    public required string DotNet { get; init; }

    public required string Os { get; init; }

    public required bool Deterministic { get; init; }

    public required bool Tf32 { get; init; }

    /// <summary>What LibTorch's CPU allocator fills new blocks with (zero, junk or none; see AllocatorFill).</summary>
    public required string Allocator { get; init; }

    public required string Initialisers { get; init; }

    /// <summary>How BatchNormalization statistics were obtained for evaluation when not Keras' running averages; null otherwise.</summary>
    public string? BatchNorm { get; init; }

    /// <summary>The declaration's Keras-style layer summary (for the reader and for reviews; the fingerprint stands for it in comparisons).</summary>
    public string? Summary { get; init; }
}

/// <summary>The outcome of training and evaluating one experiment.</summary>
/// <param name="WeightsSha256">SHA-256 over every parameter and buffer of the final model, in state-dict order: equal hashes, equal weights.</param>
public sealed record ExperimentResult(
    RunIdentity Identity,
    long Parameters,
    Evaluation Train,
    Evaluation Test,
    IReadOnlyList<EpochMetrics> History,
    ConfusionMatrix TrainConfusion,
    ConfusionMatrix TestConfusion,
    IReadOnlyList<Misclassified> Misclassified,
    Training.Divergence? Diverged = null,
    string WeightsSha256 = "");

/// <summary>A result and the test examples its metrics refer to (after any subset): the images stay out of the result, which is data about them.</summary>
public sealed record TrainedRun(ExperimentResult Result, Data.ImageSet TestImages);
