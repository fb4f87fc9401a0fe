namespace Experiments.Generators.Models;

/// <summary>A TorchSharp module the generated model holds, with what its constructor needs; the name is its field and checkpoint key.</summary>
public abstract record ModuleDecl(string Name);

/// <summary>nn.Linear from <paramref name="Inputs"/> features to <paramref name="Units"/>, with Keras' Dense initialisers.</summary>
public sealed record LinearDecl(string Name, int Inputs, int Units) : ModuleDecl(Name);

/// <summary>
/// nn.Conv2d with Keras' initialisers. The padding is the symmetric part only; the extra bottom/right row Keras pads
/// for an even kernel under 'same' is a separate Pad step before the call.
/// </summary>
public sealed record Conv2dDecl(string Name, int Channels, int Filters, int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth, int PadTop, int PadLeft) : ModuleDecl(Name);

/// <summary>nn.Conv1d over (channels, steps), padded <paramref name="Pad"/> at both ends (an asymmetric 'same' pads in the forward pass).</summary>
public sealed record Conv1dDecl(string Name, int Channels, int Filters, int Kernel, int Stride, int Pad) : ModuleDecl(Name);

public sealed record DropoutDecl(string Name, double Rate) : ModuleDecl(Name);

public enum NormKind
{
    BatchNorm1d,
    BatchNorm2d,
    LayerNorm,
}

/// <summary>A normalisation over <paramref name="Features"/> (the normalised dimension's size), with Keras' epsilon and momentum.</summary>
public sealed record NormDecl(string Name, NormKind Kind, int Features) : ModuleDecl(Name);

public enum RecurrentKind
{
    SimpleRnn,
    Lstm,
    Gru,
}

/// <summary>
/// A recurrent layer over <paramref name="Features"/> inputs per step; <paramref name="FreezeSecondBias"/> holds
/// PyTorch's bias_hh at zero where Keras has one bias vector; <paramref name="Relu"/> only for SimpleRNN (else tanh).
/// </summary>
public sealed record RecurrentDecl(string Name, RecurrentKind Kind, int Features, int Units, int Gates, bool FreezeSecondBias, bool Relu, bool Bidirectional) : ModuleDecl(Name);

/// <summary>One experiment ready to print: identity, settings, counts, summary, modules and forward pass.</summary>
public sealed record PlannedExperiment(
    string Name,
    string Fingerprint,
    string Summary,
    ExperimentSettings Settings,
    EquatableArray<SweepParameter> Parameters,
    long KerasTrainable,
    long KerasNonTrainable,
    long FrozenExtra,
    EquatableArray<ModuleDecl> Modules,
    EquatableArray<ForwardStep> Forward)
{
    /// <summary>The augmentation layers the runtime applies to training batches, in order.</summary>
    public EquatableArray<AugmentationDecl> Augmentations { get; init; }

    /// <summary>The model's outputs per example (its classes).</summary>
    public int Classes { get; init; }

    /// <summary>The regularized kernels, in layer order.</summary>
    public EquatableArray<PenaltyDecl> Penalties { get; init; }
}

/// <summary>A kernel regularizer: the module parameter it reads (<c>dense.weight</c>) and Keras' l1 and l2 factors.</summary>
public sealed record PenaltyDecl(string Parameter, double L1, double L2);

/// <summary>One augmentation layer: its kind (RandomFlip, RandomTranslation, RandomRotation, RandomZoom) and arguments.</summary>
public sealed record AugmentationDecl(LayerKind Kind, double Factor, double FactorWidth, FlipMode Flip);

/// <summary>
/// The cached stage's output for one [Experiment] class: its experiments (one, or a sweep's points) planned and
/// checked, or the diagnostics that stop it. The emitter and the registry read only this.
/// </summary>
public sealed record ExperimentModel(
    string Namespace,
    string ClassName,
    string Name,
    bool IsSweep,
    EquatableArray<PlannedExperiment> Experiments,
    EquatableArray<DiagnosticInfo> Diagnostics,
    LocationInfo? Location)
{
    public bool IsValid => Diagnostics.Count == 0 && Experiments.Count > 0;

    /// <summary>Its [Tolerance], [SeedTolerance] and [Reported] attributes, emitted into every experiment's ExperimentInfo.</summary>
    public DeclaredChecks Checks { get; init; } = DeclaredChecks.None;

    /// <summary>Its schedule, plateau and early stopping, emitted into every experiment's TrainingSettings.</summary>
    public TrainingControlsSpec Controls { get; init; } = TrainingControlsSpec.None;

    public string FullName => Namespace.Length > 0 ? $"global::{Namespace}.{ClassName}" : $"global::{ClassName}";

    public string HintName => Namespace.Length > 0 ? $"{Namespace}.{ClassName}" : ClassName;
}
