using System.Globalization;
using Experiments.Runtime.Data;

namespace Experiments.Runtime.Training;

/// <summary>Training settings of an experiment, with Keras' meaning for every field.</summary>
public sealed record TrainingSettings
{
    public TrainingSettings(
        IReadOnlyList<int> inputShape,
        OptimizerSettings optimizer,
        Loss loss,
        int batchSize,
        int epochs,
        ValidationSpec validation,
        long seed,
        float inputScale = 1f / 255f,
        bool tf32 = false)
    {
        if (inputShape.Count == 0 || inputShape.Any(d => d <= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(inputShape), $"Input shape [{string.Join(", ", inputShape)}] must have positive dimensions, e.g. [784] or [1, 28, 28].");
        }

        InputShape = inputShape.ToArray();
        Optimizer = optimizer;
        Loss = loss;
        BatchSize = batchSize > 0 ? batchSize : throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "Batch size must be at least 1 (Keras' default is 32).");
        Epochs = epochs > 0 ? epochs : throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "Epochs must be at least 1.");
        Validation = validation;
        Seed = seed;
        Tf32 = tf32;
        InputScale = inputScale > 0 && float.IsFinite(inputScale) ? inputScale : throw new ArgumentOutOfRangeException(nameof(inputScale), inputScale, "Input scale must be a positive number, e.g. 1/255.");
    }

    /// <summary>The shape of one example after preprocessing: [784] for an MLP, [1, 28, 28] for a CNN, [28, 28] for an RNN.</summary>
    public IReadOnlyList<int> InputShape { get; }

    public OptimizerSettings Optimizer { get; }

    public Loss Loss { get; }

    public int BatchSize { get; }

    public int Epochs { get; }

    public ValidationSpec Validation { get; }

    public long Seed { get; }

    /// <summary>Pixel bytes are multiplied by this (the notebooks' x / 255).</summary>
    public float InputScale { get; }

    /// <summary>
    /// Lets CUDA matrix products and convolutions use TF32 (faster on Ampere and newer GPUs, 10-bit mantissa, bits
    /// that depend on the GPU generation). Off unless the experiment asks for it; no effect on the CPU.
    /// </summary>
    public bool Tf32 { get; }

    /// <summary>A learning-rate schedule; null keeps the optimizer's rate (or the plateau's). Not together with <see cref="Plateau"/>.</summary>
    public LearningRateSchedule? Schedule
    {
        get => _schedule;
        init => _schedule = OneRateControl(value, _plateau);
    }

    /// <summary>Keras ReduceLROnPlateau; null: none. Not together with <see cref="Schedule"/>.</summary>
    public PlateauSettings? Plateau
    {
        get => _plateau;
        init => _plateau = OneRateControl(value, _schedule);
    }

    /// <summary>Keras' label_smoothing of categorical cross-entropy, in [0, 1); 0: none.</summary>
    public double LabelSmoothing
    {
        get;
        init => field = value >= 0 && value < 1 && (value == 0 || Loss == Loss.CategoricalCrossEntropy) ? value
            : throw new ArgumentOutOfRangeException(nameof(LabelSmoothing), value, "Label smoothing lies in [0, 1) and applies to categorical cross-entropy only, e.g. 0.1.");
    }

    /// <summary>Keras EarlyStopping; null: every epoch is trained.</summary>
    public EarlyStoppingSettings? EarlyStopping { get; init; }

    /// <summary>Random augmentation of training images, in order (the declaration's first layers); empty: none.</summary>
    public IReadOnlyList<Augmentation> Augmentation
    {
        get;
        init => field = value.Count == 0 || InputShape.Count == 3 ? value.ToArray()
            : throw new ArgumentException($"Augmentation layers transform images, but the input shape is [{string.Join(", ", InputShape)}]; declare the experiment with Input.Image.", nameof(Augmentation));
    } = [];

    /// <summary>Kernel regularizers (Dense and Conv2D L1/L2), added to the training and evaluation losses; empty: none.</summary>
    public IReadOnlyList<KernelPenalty> Regularization { get; init => field = value.ToArray(); } = [];

    private readonly LearningRateSchedule? _schedule;
    private readonly PlateauSettings? _plateau;

    private static T? OneRateControl<T>(T? value, object? other)
        where T : class =>
        value is null || other is null ? value
        : throw new ArgumentException("A learning-rate schedule and ReduceLearningRateOnPlateau both set the learning rate; declare one of them.");

    /// <summary>These settings with configuration overrides applied (null keeps the declared value); validated like a declaration.</summary>
    public TrainingSettings With(int? epochs = null, int? batchSize = null, double? learningRate = null, long? seed = null) => new(
        InputShape,
        learningRate is { } lr ? Optimizer.WithLearningRate(lr) : Optimizer,
        Loss,
        batchSize ?? BatchSize,
        epochs ?? Epochs,
        Validation,
        seed ?? Seed,
        InputScale,
        Tf32)
    {
        LabelSmoothing = LabelSmoothing,
        Schedule = Schedule,
        Plateau = Plateau,
        EarlyStopping = EarlyStopping,
        Augmentation = Augmentation,
        Regularization = Regularization,
    };

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"input [{string.Join(", ", InputShape)}] {(InputScale == 1f / 255f ? "/255" : $"x{InputScale:R}")}, {Optimizer}, {Loss}, batch {BatchSize}, {Epochs} epochs, validation {Validation}, seed {Seed}{(Tf32 ? ", tf32" : "")}{Controls()}");

    // Appended only when declared, so that the settings of runs without them read as they always have.
    private string Controls() => string.Concat(
        LabelSmoothing > 0 ? string.Create(CultureInfo.InvariantCulture, $", label_smoothing {LabelSmoothing:R}") : "",
        Schedule is { } schedule ? $", schedule {schedule}" : "",
        Plateau is { } plateau ? $", {plateau}" : "",
        EarlyStopping is { } stopping ? $", {stopping}" : "",
        Augmentation.Count > 0 ? $", augmentation {string.Join(" ", Augmentation)}" : "",
        Regularization.Count > 0 ? $", regularization {string.Join(" ", Regularization)}" : "");
}
