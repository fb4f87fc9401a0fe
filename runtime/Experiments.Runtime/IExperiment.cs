using Experiments.Runtime.Training;
using static TorchSharp.torch;

namespace Experiments.Runtime;

/// <summary>
/// An experiment the runtime can train: the contract the source generator emits (and hand-written models meet).
/// </summary>
public interface IExperiment
{
    /// <summary>Name, dataset, summary and fingerprint: what identifies the declaration.</summary>
    ExperimentInfo Info { get; }

    /// <summary>Everything training needs besides the model.</summary>
    TrainingSettings Settings { get; }

    /// <summary>
    /// A fresh model with its initial weights drawn from torch's global generator (the runtime seeds it first).
    /// It maps a batch shaped [N, ..Settings.InputShape] to class logits [N, classes]; the final softmax is part of
    /// the loss (<see cref="Loss"/>), where it is the same mathematics and numerically stabler.
    /// </summary>
    nn.Module<Tensor, Tensor> CreateModel();

    /// <summary>Why this model cannot be exported to PyTorch or ONNX, or null when it can.</summary>
    string? ExportProblem => $"{Info.Name} is not an [Experiment] declaration: only the generator knows a model's graph, so only generated models are exported";

    /// <summary>The model as a PyTorch module (class Model: the same modules, state-dict names and forward pass), from the generator's plan.</summary>
    string PyTorchSource => "";

    /// <summary>Adds the model's forward pass to <paramref name="graph"/> (from the generator's plan) and returns its output value.</summary>
    string BuildOnnx(Export.OnnxGraph graph) => throw new Export.ExportException(ExportProblem ?? $"{Info.Name} has no ONNX graph.");
}

/// <summary>What identifies an experiment's declaration.</summary>
/// <param name="Name">Stable, short, readable: it names result folders and snapshot files.</param>
/// <param name="Fingerprint">A hash of the declaration: any change to model or settings changes it.</param>
/// <param name="Summary">The Keras-style summary table.</param>
/// <param name="Parameters">Keras' total parameter count (trainable and not), as the summary prints it.</param>
public sealed record ExperimentInfo(string Name, Dataset Dataset, string Fingerprint, string Summary, string Description = "", long Parameters = 0)
{
    /// <summary>The sweep this experiment is a point of (its declaration's name), or "" when it is none.</summary>
    public string Sweep { get; init; } = "";

    /// <summary>The swept parameters that make this point, in the order the [Sweep] attributes are written.</summary>
    public IReadOnlyList<SweepParameter> SweepParameters { get; init; } = [];

    /// <summary>How many seeds `run` uses by default ([Experiment(Seeds = N)]); 1 runs the declared seed once.</summary>
    public int Seeds { get; init; } = 1;

    /// <summary>
    /// The declaration's [Tolerance] attributes, as written (a sweep's points carry their declaration's). The generator
    /// reads them at compile time and emits them here, so the runtime never reflects over the user's classes.
    /// </summary>
    public IReadOnlyList<ToleranceAttribute> Tolerances { get; init; } = [];

    /// <summary>The declaration's [SeedTolerance] attributes, as written; none: the four final metrics at 99%.</summary>
    public IReadOnlyList<SeedToleranceAttribute> SeedTolerances { get; init; } = [];

    /// <summary>The declaration's [Reported] figure, or null when it declares none.</summary>
    public ReportedAttribute? Reported { get; init; }

    /// <summary>Dataset.ImageFolder's folder, declared size and class count; null for the built-in datasets.</summary>
    public Data.ImageFolderSource? Folder { get; init; }

    /// <summary>The share of each class held out as the test set of Dataset.Digits and Dataset.Iris (which have no test set of their own).</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>Dataset.Csv's file, feature count, label column and class count; null for other datasets.</summary>
    public Data.TableSource? Table { get; init; }
}

/// <summary>One swept parameter of a sweep point, as the point's name shows it: <c>learning_rate</c>, <c>0.05</c>.</summary>
public sealed record SweepParameter(string Name, string Value);
