namespace Experiments.Runtime.Training;

/// <summary>Metrics after one epoch, as Keras' History holds them (training figures are running means over the epoch).</summary>
public sealed record EpochMetrics(int Epoch, double Loss, double Accuracy, double? ValidationLoss, double? ValidationAccuracy, double Seconds)
{
    /// <summary>Seconds of the training pass alone (the rest of <see cref="Seconds"/> is validation).</summary>
    public double TrainSeconds { get; init; }

    /// <summary>The learning rate of the epoch's last step; recorded (and shown as learning_rate) only when a schedule or plateau moves it.</summary>
    public double? LearningRate { get; init; }
}

/// <summary>Loss and accuracy of the final model on one set (training mode off: no dropout, moving BatchNorm statistics).</summary>
public sealed record Evaluation(double Loss, double Accuracy, int Count);

/// <summary>A test example the final model gets wrong: its index in the test set (after any subset), its label and the prediction.</summary>
public sealed record Misclassified(int Index, int Actual, int Predicted);

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
    string WeightsSha256 = "")
{
    /// <summary>Where early stopping ended the run and whose weights were kept; null when the run declares none.</summary>
    public EarlyStoppingOutcome? EarlyStopping { get; init; }

    /// <summary>The final weights as safetensors bytes (<see cref="TrainedWeights"/>), written to the result folder; null where none were kept.</summary>
    public byte[]? ModelWeights { get; init; }
}

/// <summary>A result and the test examples its metrics refer to (after any subset): the images stay out of the result, which is data about them.</summary>
public sealed record TrainedRun(ExperimentResult Result, Data.ImageSet TestImages);
