namespace Experiments.Runtime.Training;

/// <summary>The first batch whose training loss was NaN or infinite (1-based epoch and batch).</summary>
public sealed record Divergence(int Epoch, int Batch, float Loss);

/// <summary>Training produced a NaN or infinite loss; the message names the epoch, the batch and the likely causes.</summary>
public sealed class TrainingDivergedException(string experiment, Divergence divergence, TrainingSettings settings, string? checkpoint)
    : Exception(
        FormattableString.Invariant($"{experiment} diverged: the training loss of epoch {divergence.Epoch}, batch {divergence.Batch} is {divergence.Loss}. ") +
        FormattableString.Invariant($"Likely causes: a learning rate too large for {settings.Optimizer} (lower it in experiments.yaml: experiments.{experiment}.learning_rate), ") +
        FormattableString.Invariant($"or a loss that does not suit the model ({settings.Loss}). ") +
        (checkpoint is null ? "" : $"The last good checkpoint ({checkpoint}) is kept. ") +
        "To record the divergence as the experiment's result instead, run with --record-divergence.")
{
    public Divergence Divergence { get; } = divergence;
}
