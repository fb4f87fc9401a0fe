using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Runtime.Training;

/// <summary>ReduceLROnPlateau's state after an epoch: what a checkpoint holds so that a resumed run reduces at the same epoch.</summary>
public sealed record PlateauState(double Best, int Wait, int CooldownCounter, double LearningRate);

/// <summary>EarlyStopping's state after an epoch (1-based epochs; 0: none yet).</summary>
/// <param name="StoppedAfterEpoch">The epoch after which it stopped the run; 0 while it runs.</param>
public sealed record EarlyStoppingState(double Best, int Wait, int BestEpoch, int StoppedAfterEpoch);

/// <summary>What the controls decided over a run: where early stopping stopped it and whose weights the model ends with.</summary>
/// <param name="StoppedAfterEpoch">The last epoch trained when early stopping ended the run; null when it ran all its epochs.</param>
/// <param name="RestoredEpoch">The epoch whose weights the final model has, when best weights were restored.</param>
public sealed record EarlyStoppingOutcome(int? StoppedAfterEpoch, int? RestoredEpoch, double Best)
{
    public override string ToString() =>
        (StoppedAfterEpoch is { } stopped ? $"stopped after epoch {stopped}" : "ran every epoch") +
        (RestoredEpoch is { } restored ? $", weights of epoch {restored} restored" : "");
}

/// <summary>The controls' state in a checkpoint (best weights travel as tensors beside it).</summary>
public sealed record ControlsState(PlateauState? Plateau, EarlyStoppingState? EarlyStopping, bool HasBestWeights);

/// <summary>
/// A run's learning-rate schedule, plateau reduction and early stopping, applied with Keras' semantics. The schedule is
/// a pure function of (epoch, step); the rest is the state after each epoch, which checkpoints hold (best weights
/// included), so a run resumed from any point decides exactly what the uninterrupted one decided.
/// </summary>
public sealed class TrainingControls : IDisposable
{
    private readonly TrainingSettings _settings;
    private readonly int _stepsPerEpoch;
    private List<(string Name, Tensor Value)>? _bestWeights;

    public TrainingControls(TrainingSettings settings, int stepsPerEpoch)
    {
        _settings = settings;
        _stepsPerEpoch = stepsPerEpoch;
        Plateau = settings.Plateau is { } p ? new PlateauState(Worst(p.Monitor), 0, 0, settings.Optimizer.LearningRate) : null;
        EarlyStopping = settings.EarlyStopping is { } e ? new EarlyStoppingState(Worst(e.Monitor), 0, 0, 0) : null;
    }

    public PlateauState? Plateau { get; private set; }

    public EarlyStoppingState? EarlyStopping { get; private set; }

    /// <summary>Whether the learning rate can change during the run (the history then records it).</summary>
    public bool VariesRate => _settings.Schedule is not null || _settings.Plateau is not null;

    /// <summary>Whether early stopping has ended the run.</summary>
    public bool Stopped => EarlyStopping is { StoppedAfterEpoch: > 0 };

    /// <summary>What a checkpoint must hold of the controls; null when the run has no stateful control (a schedule needs none).</summary>
    public ControlsState? State => Plateau is null && EarlyStopping is null ? null : new(Plateau, EarlyStopping, _bestWeights is not null);

    /// <summary>The learning rate of optimizer step <paramref name="step"/> (0-based over the run) in 0-based <paramref name="epoch"/>.</summary>
    public double RateAt(int epoch, long step) =>
        _settings.Schedule is { } schedule ? schedule.Rate(_settings.Optimizer.LearningRate, epoch, step, _settings.Epochs, _stepsPerEpoch)
        : Plateau?.LearningRate ?? _settings.Optimizer.LearningRate;

    /// <summary>Keras' on_epoch_end of ReduceLROnPlateau, then of EarlyStopping, for 1-based <paramref name="epoch"/>.</summary>
    public void EpochEnd(EpochMetrics epoch, nn.Module model)
    {
        if (_settings.Plateau is { } plateau && Plateau is { } p)
        {
            Plateau = NextPlateau(plateau, p, Monitored(plateau.Monitor, epoch, "ReduceLearningRateOnPlateau"));
        }

        if (_settings.EarlyStopping is { } stopping && EarlyStopping is { } s && epoch.Epoch - 1 >= stopping.StartFromEpoch)
        {
            // Keras EarlyStopping.on_epoch_end: the first monitored epoch's weights are kept whatever its value (a NaN
            // never improves), the wait grows, an improvement resets it, and the patience stops the run after epoch 1.
            double current = Monitored(stopping.Monitor, epoch, "EarlyStopping");
            if (stopping.RestoreBestWeights && _bestWeights is null)
            {
                KeepBestWeights(model);
                s = s with { BestEpoch = epoch.Epoch };
            }

            int wait = s.Wait + 1;
            if (EpochMetric.Improves(stopping.Monitor, current, s.Best, stopping.MinDelta))
            {
                EarlyStopping = new EarlyStoppingState(current, 0, epoch.Epoch, 0);
                if (stopping.RestoreBestWeights)
                {
                    KeepBestWeights(model);
                }
            }
            else
            {
                bool stop = wait >= stopping.Patience && epoch.Epoch > 1;
                EarlyStopping = s with { Wait = wait, StoppedAfterEpoch = stop ? epoch.Epoch : 0 };
            }
        }
    }

    /// <summary>Gives the model its best epoch's weights (when declared and an epoch was monitored) and says what happened.</summary>
    public EarlyStoppingOutcome? Finish(nn.Module model)
    {
        if (_settings.EarlyStopping is not { } stopping || EarlyStopping is not { } s)
        {
            return null;
        }

        int? restored = null;
        if (stopping.RestoreBestWeights && _bestWeights is not null)
        {
            using var noGrad = torch.no_grad();
            Dictionary<string, Tensor> current = model.state_dict();
            foreach ((string name, Tensor value) in _bestWeights)
            {
                current[name].copy_(value);
            }

            restored = s.BestEpoch;
        }

        return new EarlyStoppingOutcome(s.StoppedAfterEpoch > 0 ? s.StoppedAfterEpoch : null, restored, s.Best);
    }

    /// <summary>Writes the best weights after the checkpoint's other contents (nothing when there are none).</summary>
    public void Save(BinaryWriter writer)
    {
        if (_bestWeights is null)
        {
            return;
        }

        writer.Write(_bestWeights.Count);
        foreach ((string name, Tensor value) in _bestWeights)
        {
            writer.Write(name);
            value.Save(writer);
        }
    }

    /// <summary>Restores a checkpoint's state and, where it has them, its best weights (shaped like the model's).</summary>
    public void Load(ControlsState state, BinaryReader reader, nn.Module model)
    {
        Plateau = state.Plateau;
        EarlyStopping = state.EarlyStopping;
        if (!state.HasBestWeights)
        {
            return;
        }

        Dictionary<string, Tensor> shapes = model.state_dict();
        int count = reader.ReadInt32();
        var best = new List<(string, Tensor)>(count);
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            Tensor value = torch.empty_like(shapes[name]).DetachFromDisposeScope();
            value.Load(reader);
            best.Add((name, value));
        }

        ReplaceBestWeights(best);
    }

    public void Dispose() => ReplaceBestWeights(null);

    private PlateauState NextPlateau(PlateauSettings plateau, PlateauState p, double current)
    {
        // Keras ReduceLROnPlateau.on_epoch_end, in its order: a cooldown counts down first (and clears the wait); an
        // improvement resets the wait; otherwise, once out of cooldown (checked after the count-down, as Keras does),
        // the wait grows and at the patience the rate is reduced, unless it is at the floor already.
        int cooldown = p.CooldownCounter;
        int wait = p.Wait;
        if (cooldown > 0)
        {
            cooldown--;
            wait = 0;
        }

        if (EpochMetric.Improves(plateau.Monitor, current, p.Best, plateau.MinDelta))
        {
            return new PlateauState(current, 0, cooldown, p.LearningRate);
        }

        if (cooldown > 0)
        {
            return p with { Wait = wait, CooldownCounter = cooldown };
        }

        wait++;
        if (wait >= plateau.Patience && p.LearningRate > plateau.MinLearningRate)
        {
            return new PlateauState(p.Best, 0, plateau.Cooldown, Math.Max(p.LearningRate * plateau.Factor, plateau.MinLearningRate));
        }

        return p with { Wait = wait, CooldownCounter = cooldown };
    }

    private static double Monitored(Metric metric, EpochMetrics epoch, string control) =>
        EpochMetric.Value(metric, epoch) ?? throw new InvalidOperationException(
            $"{control} monitors {EpochMetric.Key(metric)}, but epoch {epoch.Epoch} has none: the experiment has no validation data. Declare Validation = Validation.Seeded (or TestSet), or monitor Metric.EpochLoss.");

    private static double Worst(Metric metric) => EpochMetric.HigherIsBetter(metric) ? double.NegativeInfinity : double.PositiveInfinity;

    private void KeepBestWeights(nn.Module model)
    {
        using var noGrad = torch.no_grad();
        ReplaceBestWeights(model.state_dict().Select(p => (p.Key, p.Value.detach().clone().DetachFromDisposeScope())).ToList());
    }

    private void ReplaceBestWeights(List<(string Name, Tensor Value)>? best)
    {
        _bestWeights?.ForEach(p => p.Value.Dispose());
        _bestWeights = best;
    }
}
