namespace Experiments.Generators.Models;

/// <summary>Where a diagnostic points: file and span, never a SyntaxTree (that would break caching).</summary>
public sealed record LocationInfo(string FilePath, int Start, int Length, int StartLine, int StartColumn, int EndLine, int EndColumn);

/// <summary>
/// A diagnostic as the cached stages hold it: its descriptor (equatable, as CommunityToolkit's DiagnosticInfo holds
/// one), where it points, and the message's arguments; made into a Roslyn Diagnostic only when reported.
/// </summary>
public sealed record DiagnosticInfo(Microsoft.CodeAnalysis.DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public string Id => Descriptor.Id;
}

/// <summary>
/// One declared layer: its kind and its constant arguments by name (Keras defaults filled in), and any branches. A
/// Function layer names its method and the fully qualified type that declares it. Each kind sets the properties its
/// Experiments.Layers record has; the others keep their defaults.
/// </summary>
public sealed record LayerSpec(LayerKind Kind, LocationInfo? Location)
{
    /// <summary>Dense and recurrent units, Conv2D filters.</summary>
    public int Units { get; init; }

    /// <summary>Convolution kernel or pooling window.</summary>
    public int KernelHeight { get; init; }

    public int KernelWidth { get; init; }

    public int StrideHeight { get; init; }

    public int StrideWidth { get; init; }

    public Padding Padding { get; init; }

    public Activation Activation { get; init; }

    /// <summary>Dropout's rate.</summary>
    public double Rate { get; init; }

    /// <summary>BatchNormalization's and LayerNormalization's axis (Keras numbering, -1 the last).</summary>
    public int Axis { get; init; }

    public string Method { get; init; } = "";

    public string MethodOwner { get; init; } = "";

    /// <summary>Branches of Concatenate and Add, layers of a Sequence.</summary>
    public EquatableArray<LayerSpec> Children { get; init; }

    /// <summary>An augmentation's factor: RandomRotation's, RandomTranslation's and RandomZoom's height factor.</summary>
    public double Factor { get; init; }

    /// <summary>RandomTranslation's and RandomZoom's width factor (NaN for RandomZoom: the height's, keeping the aspect ratio).</summary>
    public double FactorWidth { get; init; }

    /// <summary>RandomFlip's mode.</summary>
    public FlipMode Flip { get; init; }

    /// <summary>Reshape's target shape (Keras order, without the batch; one -1 at most).</summary>
    public EquatableArray<int> Shape { get; init; }

    /// <summary>A recurrent layer's return_sequences: every step's output instead of the last.</summary>
    public bool ReturnSequences { get; init; }

    /// <summary>Dense's and Conv2D's kernel regularizer, Keras' L1L2(l1, l2).</summary>
    public double L1 { get; init; }

    public double L2 { get; init; }
}

/// <summary>What the [Experiment] arguments (and those of its bases) set.</summary>
public sealed record ExperimentSettings(
    Dataset Dataset,
    Input Input,
    Optimizer Optimizer,
    double LearningRate,
    double Momentum,
    Loss Loss,
    int BatchSize,
    int Epochs,
    Validation Validation,
    double ValidationFraction,
    long Seed,
    bool Tf32,
    string Description,
    int Seeds = 1,
    bool Nesterov = false,
    double WeightDecay = 0,
    double LabelSmoothing = 0)
{
    /// <summary>The image folder's path, as declared (Dataset.ImageFolder only).</summary>
    public string DataPath { get; init; } = "";

    public int ImageHeight { get; init; }

    public int ImageWidth { get; init; }

    /// <summary>1 or 3; 0 as declared means 1.</summary>
    public int Channels { get; init; }

    public double TestFraction { get; init; }

    public bool Resize { get; init; }

    /// <summary>A CSV file's feature columns (Dataset.Csv only).</summary>
    public int Features { get; init; }

    /// <summary>A CSV file's label column: its header name or 0-based index; "" is the last column.</summary>
    public string LabelColumn { get; init; } = "";

    public bool CsvHeader { get; init; } = true;

    /// <summary>Whether the images' size is declared (a folder dataset) rather than the built-in datasets' 28 x 28 x 1.</summary>
    public bool DeclaredSize => Dataset == Dataset.ImageFolder;

    /// <summary>A table of numbers (Dataset.Csv, Dataset.Iris): Features values per example, used as they are (no pixel scaling).</summary>
    public bool IsTable => Dataset is Dataset.Csv or Dataset.Iris;

    /// <summary>A row's numbers: the declared Features, or Iris' four measurements.</summary>
    public int TableWidth => Dataset == Dataset.Iris ? 4 : Features;

    /// <summary>The classes known at compile time: 10 for the digits and clothes, 3 for iris; null where the data decides.</summary>
    public int? KnownClasses => Dataset switch
    {
        Dataset.Iris => 3,
        Dataset.ImageFolder or Dataset.Csv => null,
        _ => 10,
    };
}

/// <summary>One swept parameter of a sweep point, as its name shows it: <c>learning_rate</c>, <c>0.05</c>.</summary>
public sealed record SweepParameter(string Name, string Value);

/// <summary>One point of a sweep: its full name, the parameters that make it, and its settings.</summary>
public sealed record SweepPoint(string Name, EquatableArray<SweepParameter> Parameters, ExperimentSettings Settings);

/// <summary>
/// Everything the planner needs about one [Experiment] class, as values only: its settings and layers with bases,
/// spread blocks and sweeps resolved, and the problems found while reading it.
/// </summary>
public sealed record ExperimentSpec(
    string Namespace,
    string ClassName,
    string Name,
    ExperimentSettings Settings,
    EquatableArray<LayerSpec> Layers,
    EquatableArray<SweepPoint> Points,
    EquatableArray<DiagnosticInfo> Diagnostics,
    LocationInfo? Location)
{
    /// <summary>A sweep declares its points; the declaration itself is not an experiment.</summary>
    public bool IsSweep => Points.Count > 0;

    /// <summary>Its [Tolerance], [SeedTolerance] and [Reported] attributes, for every experiment it declares.</summary>
    public DeclaredChecks Checks { get; init; } = DeclaredChecks.None;

    /// <summary>Its schedule, plateau and early stopping, for every experiment it declares.</summary>
    public TrainingControlsSpec Controls { get; init; } = TrainingControlsSpec.None;
}
