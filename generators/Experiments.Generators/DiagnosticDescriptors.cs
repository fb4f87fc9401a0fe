using Microsoft.CodeAnalysis;

namespace Experiments.Generators;

/// <summary>
/// Every diagnostic the generator reports. Help pages: docs/diagnostics/EXPnnnn.md, shipped in the package; the build
/// targets pass their folder as ExperimentsHelpLinkBase (a project may point it at its own documentation site).
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "Experiments";

    /// <summary>Used when the build sets no ExperimentsHelpLinkBase: the pages' path inside the package and this repository.</summary>
    public const string DefaultHelpLinkBase = "docs/diagnostics/";

    public static readonly DiagnosticDescriptor NotPartial = Create(
        "EXP0001", "Experiment class must be partial", "Experiment class '{0}' must be declared 'partial' so the generator can add the model to it; add the 'partial' modifier");

    public static readonly DiagnosticDescriptor NotConstant = Create(
        "EXP0002", "Argument is not a compile-time constant", "Experiment '{0}', layer {1} ({2}): argument '{3}' is not a compile-time constant; use a literal, a const or nameof(...)");

    public static readonly DiagnosticDescriptor UnknownDataset = Create(
        "EXP0003", "Unknown dataset", "Experiment '{0}': dataset value {1} is not a known dataset; use Dataset.Mnist, Dataset.FashionMnist, Dataset.Digits, Dataset.Iris, Dataset.ImageFolder or Dataset.Csv");

    public static readonly DiagnosticDescriptor DuplicateName = Create(
        "EXP0004", "Duplicate experiment name", "Experiment name '{0}' is used by both {1} and {2}; names identify results and snapshots, so give each experiment its own");

    public static readonly DiagnosticDescriptor WrongRank = Create(
        "EXP0005", "Layer gets an input of the wrong rank", "Experiment '{0}', layer {1} ({2}) needs {3} but gets {4}; {5}");

    public static readonly DiagnosticDescriptor WindowTooLarge = Create(
        "EXP0006", "Kernel or pool larger than its input", "Experiment '{0}', layer {1} ({2}): window {3} is larger than its input {4}; use a smaller window or padding Same");

    public static readonly DiagnosticDescriptor SpatialZero = Create(
        "EXP0007", "Spatial size reaches zero", "Experiment '{0}', layer {1} ({2}): output size {3} has a zero dimension; remove a pooling or strided layer, or use padding Same");

    public static readonly DiagnosticDescriptor ConcatMismatch = Create(
        "EXP0008", "Concatenated branches disagree in shape", "Experiment '{0}', layer {1} (Concatenate): branch {2} gives {3} but branch 1 gives {4}; all dimensions but the channels must match (use padding Same in every branch)");

    public static readonly DiagnosticDescriptor ClassCountMismatch = Create(
        "EXP0009", "Final units differ from the class count", "Experiment '{0}': the last layer gives {1} outputs but {2} has {3} classes; end with Dense({3}, Activation.Softmax)");

    public static readonly DiagnosticDescriptor BadFunction = Create(
        "EXP0010", "Custom layer method has the wrong signature", "Experiment '{0}', layer {1} (Function): {2}; declare 'static global::TorchSharp.torch.Tensor {3}(global::TorchSharp.torch.Tensor x)' in the class that declares the layers, or name its class: new Function(typeof(Owner), nameof(Owner.{3}))");

    public static readonly DiagnosticDescriptor NoLayers = Create(
        "EXP0011", "Experiment has no layers", "Experiment '{0}': {1}; declare 'static readonly Layer[] Layers = [ new Dense(10, Activation.Softmax) ];' with one 'new' layer or '..Block' spread (a static readonly Layer[] of this project) per element");

    public static readonly DiagnosticDescriptor FinalNotSoftmax = Create(
        "EXP0012", "Model does not end in softmax", "Experiment '{0}': the last layer ({1}) does not end in softmax, but {2} is computed on softmax probabilities as in Keras; add Activation.Softmax to the last layer");

    public static readonly DiagnosticDescriptor OutOfRange = Create(
        "EXP0013", "Value out of range", "Experiment '{0}', {1}: {2} is out of range; {3}");

    public static readonly DiagnosticDescriptor BadName = Create(
        "EXP0014", "Experiment name is not a stable file name", "Experiment name '{0}' must be lower-case letters, digits and single hyphens (e.g. 'mnist-cnn-16-36'); it names result folders and snapshot files");

    public static readonly DiagnosticDescriptor UnknownConfiguredExperiment = Create(
        "EXP0015", "Configuration overrides an experiment that does not exist", "experiments.yaml overrides '{0}', but no [Experiment] has that name; fix the name or remove the entry (declared: {1})");

    public static readonly DiagnosticDescriptor EnumOutOfRange = Create(
        "EXP0016", "Enum argument is not a defined value", "Experiment '{0}', {1}: {2} is not a defined {3} value; use one of {4}");

    public static readonly DiagnosticDescriptor NotATopLevelClass = Create(
        "EXP0017", "Experiment must be a top-level, non-generic class", "Experiment '{0}': {1}; declare it as a top-level, non-generic 'sealed partial class' in a namespace");

    public static readonly DiagnosticDescriptor InternalError = Create(
        "EXP0018", "The generator failed on this experiment", "Experiment '{0}' could not be generated: {1}; the other experiments are unaffected. Please report this with the declaration.");

    public static readonly DiagnosticDescriptor BadBase = Create(
        "EXP0019", "Experiment variant cannot be resolved", "Experiment '{0}': {1}; {2}");

    public static readonly DiagnosticDescriptor BadSweep = Create(
        "EXP0020", "Sweep cannot be expanded", "Experiment '{0}': {1}; {2}");

    public static readonly DiagnosticDescriptor DeclaredTwice = Create(
        "EXP0021", "Check declared twice for one metric", "Experiment '{0}': {1} is declared more than once; {2}");

    public static readonly DiagnosticDescriptor BadTrainingControl = Create(
        "EXP0022", "Training control cannot work with this declaration", "Experiment '{0}': {1}; {2}");

    public static readonly DiagnosticDescriptor AugmentationPlacement = Create(
        "EXP0023", "Augmentation layer is not at the start of the model", "Experiment '{0}', layer {1} ({2}): {3}; {4}");

    public static readonly DiagnosticDescriptor AddMismatch = Create(
        "EXP0024", "Added branches disagree in shape", "Experiment '{0}', layer {1} (Add): branch {2} gives {3} but branch 1 gives {4}; every branch of an Add must give the same shape (a residual branch keeps its filters and uses padding Same)");

    public static readonly DiagnosticDescriptor BadDataDeclaration = Create(
        "EXP0025", "Dataset settings are missing or do not apply", "Experiment '{0}': {1}; {2}");

    private static DiagnosticDescriptor Create(string id, string title, string message) => new(
        id,
        title,
        message,
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: DefaultHelpLinkBase + id + ".md");

    /// <summary>The descriptor with its help link under <paramref name="helpLinks"/> (a folder URL or path, ending in '/').</summary>
    public static DiagnosticDescriptor WithHelpLink(DiagnosticDescriptor descriptor, string helpLinks)
    {
        string link = helpLinks.EndsWith("/", System.StringComparison.Ordinal) || helpLinks.EndsWith("\\", System.StringComparison.Ordinal) ? helpLinks : helpLinks + "/";
        return helpLinks == DefaultHelpLinkBase
            ? descriptor
            : new DiagnosticDescriptor(descriptor.Id, descriptor.Title, descriptor.MessageFormat, descriptor.Category, descriptor.DefaultSeverity, descriptor.IsEnabledByDefault, descriptor.Description, link + descriptor.Id + ".md");
    }
}
