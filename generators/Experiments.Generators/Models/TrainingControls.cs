namespace Experiments.Generators.Models;

/// <summary>A [LearningRateSchedule] with every property (the attribute's defaults for those not set).</summary>
public sealed record ScheduleSpec(
    Schedule Kind, double DecayRate, int DecaySteps, bool Staircase, int StepEpochs, double Gamma, int WarmupEpochs, double Alpha,
    EquatableArray<int> Boundaries, EquatableArray<double> Values);

/// <summary>A [ReduceLearningRateOnPlateau] with every property.</summary>
public sealed record PlateauSpec(Metric Monitor, double Factor, int Patience, double MinDelta, int Cooldown, double MinLearningRate);

/// <summary>An [EarlyStopping] with every property.</summary>
public sealed record EarlyStoppingSpec(Metric Monitor, int Patience, double MinDelta, bool RestoreBestWeights, int StartFromEpoch);

/// <summary>
/// The class's training controls, read once at compile time: they change what is trained, so they enter the
/// fingerprint (appended only when declared) and the emitted TrainingSettings.
/// </summary>
public sealed record TrainingControlsSpec(ScheduleSpec? Schedule, PlateauSpec? Plateau, EarlyStoppingSpec? EarlyStopping)
{
    public static TrainingControlsSpec None { get; } = new(null, null, null);

    public bool IsEmpty => Schedule is null && Plateau is null && EarlyStopping is null;
}
