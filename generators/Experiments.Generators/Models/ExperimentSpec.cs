namespace Experiments.Generators.Models;

public enum LayerKind
{
    Dense,
    Activation,
    Dropout,
    Flatten,
    BatchNormalization,
    Conv2D,
    MaxPool2D,
    SimpleRnn,
    Lstm,
    Gru,
    Concatenate,
    Sequence,
    Function,
}

/// <summary>Where a diagnostic points: file and span, never a SyntaxTree (that would break caching).</summary>
public sealed record LocationInfo(string FilePath, int Start, int Length, int StartLine, int StartColumn, int EndLine, int EndColumn);

public sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Arguments);

/// <summary>One declared layer: its kind, its constant arguments (Keras defaults filled in), and any branches.</summary>
public sealed record LayerSpec(
    LayerKind Kind,
    int Units,
    int KernelHeight,
    int KernelWidth,
    int StrideHeight,
    int StrideWidth,
    int Padding,
    int Activation,
    double Rate,
    int Axis,
    string Method,
    EquatableArray<LayerSpec> Children,
    LocationInfo? Location);

/// <summary>Everything the emitter needs about one [Experiment] class, as values only.</summary>
public sealed record ExperimentSpec(
    string Namespace,
    string ClassName,
    string Name,
    int Dataset,
    int Input,
    int Optimizer,
    double LearningRate,
    double Momentum,
    int Loss,
    int BatchSize,
    int Epochs,
    int Validation,
    double ValidationFraction,
    long Seed,
    string Description,
    bool Tf32,
    EquatableArray<LayerSpec> Layers,
    EquatableArray<DiagnosticInfo> Diagnostics,
    LocationInfo? Location);
