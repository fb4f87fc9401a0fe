using Experiments.Runtime.Data;

namespace Experiments.Runtime.Training;

/// <summary>How to run an experiment: where, with how many threads, and on how much of the data.</summary>
public sealed record RunOptions
{
    /// <summary>cpu, cuda or cuda:N.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Intra-op threads. Part of a result's identity: a different count gives different bits.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>A name recorded with the result (full, smoke, ...).</summary>
    public string Profile { get; init; } = "full";

    /// <summary>A seeded, stratified subset of the training file; null uses all of it.</summary>
    public int? TrainLimit { get; init; }

    /// <summary>A seeded, stratified subset of the test file; null uses all of it.</summary>
    public int? TestLimit { get; init; }

    /// <summary>Caps the experiment's epochs; null runs them all.</summary>
    public int? MaxEpochs { get; init; }

    /// <summary>
    /// Re-estimate BatchNormalization statistics on the training examples before each evaluation (see
    /// <see cref="BatchNormStatistics"/>); the built-in smoke profile does, full does not (Keras' running averages).
    /// </summary>
    public bool SettleBatchNorm { get; init; }

    /// <summary>Batch size for evaluation; it changes only summation order, not which weights are evaluated.</summary>
    public int EvaluationBatchSize { get; init; } = 1000;

    public ProvisioningOptions? Data { get; init; }

    /// <summary>A checkpoint file written after every epoch (and on a requested stop); null writes none.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Continue from <see cref="CheckpointPath"/> when it exists (it must come from the same run).</summary>
    public bool Resume { get; init; }

    /// <summary>Stops at the next batch boundary, saving a checkpoint (Ctrl-C).</summary>
    public CancellationToken Stop { get; init; }

    /// <summary>Record a NaN or infinite loss as the run's result instead of failing (for experiments that show a setting fails).</summary>
    public bool RecordDivergence { get; init; }

    /// <summary>
    /// How the optimizer holds the parameters. Flat (the default) updates all of them in a few kernels per step;
    /// per-parameter is the reference it is checked against (same bits on the CPU, see the optimizer tests).
    /// </summary>
    public ParameterLayoutKind ParameterLayout { get; init; } = ParameterLayoutKind.Flat;

    /// <summary>Replaces declared settings (epochs, batch size, learning rate, seed) for this run; null keeps the declaration.</summary>
    public Func<TrainingSettings, TrainingSettings>? Overrides { get; init; }
}
