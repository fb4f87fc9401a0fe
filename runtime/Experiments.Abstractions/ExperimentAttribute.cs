namespace Experiments;

/// <summary>How pixels are shaped for the model (after scaling by 1/255).</summary>
public enum Input
{
    /// <summary>784 values per image (Keras reshape(-1, 784)); height x width x channels for declared sizes.</summary>
    Flat,

    /// <summary>A 28x28x1 image (Keras reshape(-1, 28, 28, 1)), or the declared height x width x channels; stored channels-first for TorchSharp.</summary>
    Image,

    /// <summary>28 time steps of 28 values, one image row per step (the seeds' LSTM preprocessing); for declared sizes, height steps of width x channels values.</summary>
    Sequence,
}

/// <summary>The datasets: the built-in ones, each pinned by the SHA-256 of its files, and the user's own.</summary>
public enum Dataset
{
    Mnist,
    FashionMnist,

    /// <summary>
    /// The user's images: <see cref="ExperimentAttribute.DataPath"/>/train/&lt;class&gt;/*.png|jpg|jpeg|bmp|gif|webp and
    /// optionally DataPath/test/&lt;class&gt;/... (else a stratified <see cref="ExperimentAttribute.TestFraction"/> of train).
    /// Classes are the folder names in ordinal order; needs <see cref="ExperimentAttribute.ImageHeight"/> and
    /// <see cref="ExperimentAttribute.ImageWidth"/>. Its identity is the SHA-256 of the decoded pixels, labels and class names.
    /// </summary>
    ImageFolder,

    /// <summary>
    /// The user's table: <see cref="ExperimentAttribute.DataPath"/> is a CSV file of numeric feature columns and one
    /// label column (<see cref="ExperimentAttribute.LabelColumn"/>); needs <see cref="ExperimentAttribute.Features"/> and
    /// Input.Flat. A stratified <see cref="ExperimentAttribute.TestFraction"/> is held out as the test set. Its identity
    /// is the SHA-256 of the parsed numbers, labels and class names.
    /// </summary>
    Csv,

    /// <summary>
    /// scikit-learn's 8x8 digits (1,797 images, pixel values 0 to 16, scaled by 1/16), from Debian's python3-sklearn and
    /// pinned by SHA-256; <see cref="ExperimentAttribute.TestFraction"/> (default 0.2) is held out as the test set.
    /// </summary>
    Digits,

    /// <summary>
    /// scikit-learn's iris (150 flowers, four measurements in cm, three species), from Debian's python3-sklearn and
    /// pinned by SHA-256; Input.Flat; <see cref="ExperimentAttribute.TestFraction"/> (default 0.2) is held out.
    /// </summary>
    Iris,
}

public enum Optimizer
{
    /// <summary>Keras SGD: learning rate 0.01 unless given.</summary>
    Sgd,

    /// <summary>Keras Adam: learning rate 0.001 unless given.</summary>
    Adam,

    /// <summary>Keras RMSprop (Keras' default): learning rate 0.001 unless given.</summary>
    RmsProp,

    /// <summary>Keras AdamW: Adam with decoupled weight decay (<see cref="ExperimentAttribute.WeightDecay"/>, Keras' default 0.004); learning rate 0.001 unless given.</summary>
    AdamW,

    /// <summary>Keras Adagrad: accumulators start at 0.1; learning rate 0.001 unless given.</summary>
    Adagrad,

    /// <summary>Keras Adamax (Adam with the infinity norm): learning rate 0.001 unless given.</summary>
    Adamax,

    /// <summary>Keras 2.2 Nadam (Adam with Nesterov momentum and its momentum schedule, decay 0.004): learning rate 0.002 unless given.</summary>
    Nadam,

    /// <summary>Keras 2.2 Adadelta (rho 0.95, updates scaled by their own running root mean square): learning rate 1.0 unless given.</summary>
    Adadelta,
}

public enum Loss
{
    /// <summary>Keras categorical_crossentropy on softmax outputs, computed from logits (log-softmax) for stability.</summary>
    CategoricalCrossEntropy,

    /// <summary>Keras mean_squared_error between softmax probabilities and one-hot labels (seed 002, model 4).</summary>
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
/// <remarks>
/// A variant of another experiment names it with <see cref="BasedOn"/> and uses the one-argument constructor: it takes
/// the base's dataset, input, layers and settings, and overrides only the arguments it sets (and its layers, if it
/// declares <c>Layers</c>). Bases may themselves be variants; a cycle is a compile error.
/// </remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ExperimentAttribute : Attribute
{
    public ExperimentAttribute(string name, Dataset dataset, Input input)
    {
        Name = name;
        Dataset = dataset;
        Input = input;
    }

    /// <summary>A variant: dataset and input come from <see cref="BasedOn"/>.</summary>
    public ExperimentAttribute(string name)
    {
        Name = name;
    }

    /// <summary>Stable, short, lower-case kebab name: it names result folders and snapshot files.</summary>
    public string Name { get; }

    public Dataset Dataset { get; }

    public Input Input { get; }

    /// <summary>The [Experiment] class this one varies: its layers and settings, overridden by the arguments set here.</summary>
    public Type? BasedOn { get; set; }

    public Optimizer Optimizer { get; set; } = Optimizer.RmsProp;

    /// <summary>0 uses the optimizer's Keras default.</summary>
    public double LearningRate { get; set; }

    /// <summary>SGD momentum (Keras default 0).</summary>
    public double Momentum { get; set; }

    /// <summary>SGD with Nesterov momentum (needs <see cref="Momentum"/> above 0).</summary>
    public bool Nesterov { get; set; }

    /// <summary>AdamW's decoupled weight decay; 0 uses Keras' default 0.004.</summary>
    public double WeightDecay { get; set; }

    public Loss Loss { get; set; } = Loss.CategoricalCrossEntropy;

    /// <summary>Keras' label_smoothing of categorical cross-entropy (targets y * (1 - s) + s / classes); 0: none.</summary>
    public double LabelSmoothing { get; set; }

    /// <summary>Keras' default batch size is 32.</summary>
    public int BatchSize { get; set; } = 32;

    public int Epochs { get; set; } = 1;

    public Validation Validation { get; set; } = Validation.None;

    public double ValidationFraction { get; set; }

    public long Seed { get; set; }

    /// <summary>
    /// How many seeds `run` uses by default (1, 2, ..., N; each a full result, with their aggregate). 1 runs the declared
    /// <see cref="Seed"/> once. `run --seeds`/`--seed` and a profile's `seeds:` take precedence.
    /// </summary>
    public int Seeds { get; set; } = 1;

    /// <summary>
    /// Allow TF32 matrix products and convolutions on CUDA (Ampere and newer): faster, but the bits then depend on the
    /// GPU generation. Off by default; recorded in the result's identity.
    /// </summary>
    public bool Tf32 { get; set; }

    /// <summary>One line on where the experiment comes from (shown by `list`).</summary>
    public string Description { get; set; } = "";

    /// <summary>
    /// <see cref="Dataset.ImageFolder"/>'s folder. A relative path is looked up from the current directory and then from
    /// each directory above it (so `dotnet test` in a test project's output folder finds the repository's data/).
    /// </summary>
    public string DataPath { get; set; } = "";

    /// <summary>The images' height in pixels (needed by <see cref="Dataset.ImageFolder"/>; every image must have it unless <see cref="Resize"/>).</summary>
    public int ImageHeight { get; set; }

    /// <summary>The images' width in pixels.</summary>
    public int ImageWidth { get; set; }

    /// <summary>1 (grayscale, ITU-R BT.601 luma) or 3 (RGB); 0 means 1.</summary>
    public int Channels { get; set; }

    /// <summary>Without a test set of its own (an image folder without test/, a CSV file, Digits, Iris): the stratified share of each class held out as the test set (0 means 0.2).</summary>
    public double TestFraction { get; set; }

    /// <summary>Resize images of another size to the declared one (bilinear, no mipmaps; recorded in the identity) instead of failing.</summary>
    public bool Resize { get; set; }

    /// <summary><see cref="Dataset.Csv"/>: how many feature columns the file has (every column but the label's).</summary>
    public int Features { get; set; }

    /// <summary>
    /// <see cref="Dataset.Csv"/>: the label column, by its header name or by its 0-based index ("4"); "" means the last
    /// column. Labels that are all whole numbers 0, 1, ... are the classes as given; any other labels are class names,
    /// in ordinal order.
    /// </summary>
    public string LabelColumn { get; set; } = "";

    /// <summary><see cref="Dataset.Csv"/>: whether the first line names the columns (default true).</summary>
    public bool CsvHeader { get; set; } = true;
}

/// <summary>
/// Sweeps one argument of the <see cref="ExperimentAttribute"/> over the given values. Repeat it to sweep several: the
/// points are the Cartesian product, the first sweep varying slowest. Each point is an experiment of its own, named
/// from its parameters (<c>mnist-mlp@learning_rate=0.05,optimizer=adam</c>), with its own result folder, snapshot
/// and test case; the declaration itself is then the sweep, not an experiment. Name the argument with
/// <c>nameof(ExperimentAttribute.LearningRate)</c>; values must have the argument's type (an integer is taken for a
/// number).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SweepAttribute(string parameter, params object[] values) : Attribute
{
    /// <summary>The <see cref="ExperimentAttribute"/> property swept, e.g. "LearningRate".</summary>
    public string Parameter { get; } = parameter;

    public IReadOnlyList<object> Values { get; } = values;
}
