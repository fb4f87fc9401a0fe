namespace Experiments;

/// <summary>How pixels are shaped for the model (after scaling by 1/255).</summary>
public enum Input
{
    /// <summary>784 values per image (Keras reshape(-1, 784)).</summary>
    Flat,

    /// <summary>A 28x28x1 image (Keras reshape(-1, 28, 28, 1)); stored channels-first for TorchSharp.</summary>
    Image,

    /// <summary>28 time steps of 28 values, one image row per step (the seeds' LSTM preprocessing).</summary>
    Sequence,
}

public enum Dataset
{
    Mnist,
    FashionMnist,
}

public enum Optimizer
{
    /// <summary>Keras SGD: learning rate 0.01 unless given.</summary>
    Sgd,

    /// <summary>Keras Adam: learning rate 0.001 unless given.</summary>
    Adam,

    /// <summary>Keras RMSprop (Keras' default): learning rate 0.001 unless given.</summary>
    RmsProp,
}

public enum Loss
{
    CategoricalCrossEntropy,
    MeanSquaredError,
}

public enum Validation
{
    /// <summary>No validation data.</summary>
    None,

    /// <summary>validation_data=(x_test, y_test).</summary>
    TestSet,

    /// <summary>Keras validation_split: the last <see cref="ExperimentAttribute.ValidationFraction"/> of the training data.</summary>
    KerasTail,

    /// <summary>A seeded, stratified random <see cref="ExperimentAttribute.ValidationFraction"/>.</summary>
    Seeded,
}

/// <summary>
/// Declares an experiment. Put it on a <c>sealed partial class</c> that has a <c>static readonly Layer[] Layers</c>
/// member; the source generator turns the declaration into a TorchSharp model, a Keras-style summary and a
/// registration. Every argument must be a compile-time constant.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ExperimentAttribute(string name, Dataset dataset, Input input) : Attribute
{
    /// <summary>Stable, short, lower-case kebab name: it names result folders and snapshot files.</summary>
    public string Name { get; } = name;

    public Dataset Dataset { get; } = dataset;

    public Input Input { get; } = input;

    public Optimizer Optimizer { get; set; } = Optimizer.RmsProp;

    /// <summary>0 uses the optimizer's Keras default.</summary>
    public double LearningRate { get; set; }

    /// <summary>SGD momentum (Keras default 0).</summary>
    public double Momentum { get; set; }

    public Loss Loss { get; set; } = Loss.CategoricalCrossEntropy;

    /// <summary>Keras' default batch size is 32.</summary>
    public int BatchSize { get; set; } = 32;

    public int Epochs { get; set; } = 1;

    public Validation Validation { get; set; } = Validation.None;

    public double ValidationFraction { get; set; }

    public long Seed { get; set; }

    /// <summary>
    /// Allow TF32 matrix products and convolutions on CUDA (Ampere and newer): faster, but the bits then depend on the
    /// GPU generation. Off by default; recorded in the result's identity.
    /// </summary>
    public bool Tf32 { get; set; }

    /// <summary>One line on where the experiment comes from (shown by `list`).</summary>
    public string Description { get; set; } = "";
}
