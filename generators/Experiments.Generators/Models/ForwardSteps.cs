namespace Experiments.Generators.Models;

/// <summary>One statement of the generated forward pass, on the tensor variable <see cref="Variable"/>.</summary>
public abstract record ForwardStep(string Variable);

/// <summary>
/// Variable = Module(Variable). With a <paramref name="Dimension"/>, the module is applied with that dimension moved
/// to 1 and back (BatchNormalization on another axis) or, <paramref name="ToLast"/>, swapped with the last and back
/// (LayerNormalization on another axis).
/// </summary>
public sealed record CallStep(string Variable, string Module, int? Dimension = null, bool ToLast = false) : ForwardStep(Variable);

/// <summary>Variable = Method(Variable), a user's static method (fully qualified).</summary>
public sealed record FunctionStep(string Variable, string Method) : ForwardStep(Variable);

public enum RecurrentOutput
{
    /// <summary>The last step's output.</summary>
    LastStep,

    /// <summary>Every step's output (return_sequences).</summary>
    EveryStep,

    /// <summary>The forward direction's last step and the backward direction's (at time 0), concatenated.</summary>
    Bidirectional,
}

/// <summary>A recurrent module, on ATen's kernels; <paramref name="Units"/> per direction.</summary>
public sealed record RecurrentStep(string Variable, string Module, RecurrentOutput Output, int Units) : ForwardStep(Variable);

/// <summary>A Conv1d module on a (batch, steps, features) value, channels moved first and back, padded first where 'same' is asymmetric.</summary>
public sealed record Conv1dStep(string Variable, string Module, int PadStart, int PadEnd) : ForwardStep(Variable);

/// <summary>Max pooling over steps, padded with minus infinity where 'same' needs it.</summary>
public sealed record MaxPool1dStep(string Variable, int Pool, int Stride, int PadStart, int PadEnd) : ForwardStep(Variable);

/// <summary>An operation without parameters.</summary>
public enum Operation
{
    Relu,
    Sigmoid,
    Tanh,
    Softmax,

    /// <summary>The final softmax, left to the loss.</summary>
    FoldedSoftmax,
    Flatten,

    /// <summary>Keras' channels-last flatten of a channels-first tensor.</summary>
    FlattenChannelsLast,
    LeakyRelu,
    Elu,
    Gelu,
    Swish,
    Softplus,
    GlobalAveragePool,
    GlobalMaxPool,
}

public sealed record OperationStep(string Variable, Operation Operation) : ForwardStep(Variable);

/// <summary>Explicit padding of an image (Keras' extra bottom/right row for even kernels), with minus infinity before a max pool.</summary>
public sealed record PadStep(string Variable, int Left, int Right, int Top, int Bottom, bool NegativeInfinity) : ForwardStep(Variable);

/// <summary>Max or average pooling with symmetric padding (an average counts only the pixels inside the image).</summary>
public sealed record Pool2dStep(string Variable, bool Average, int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth, int PadTop, int PadLeft) : ForwardStep(Variable);

/// <summary>Keras' 'same' average where the padding is asymmetric: padded sums over padded counts.</summary>
public sealed record PaddedAveragePoolStep(string Variable, int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth, int Left, int Right, int Top, int Bottom) : ForwardStep(Variable);

/// <summary>A new branch variable starting from <paramref name="From"/>.</summary>
public sealed record BranchStep(string Variable, string From) : ForwardStep(Variable);

/// <summary>Variable = the channel concatenation of the branches, or (<paramref name="Sum"/>) their sum, left to right.</summary>
public sealed record MergeStep(string Variable, bool Sum, EquatableArray<string> Branches) : ForwardStep(Variable);

/// <summary>Keras' Reshape: an image input is permuted to channels-last first, an image output back to channels-first.</summary>
public sealed record ReshapeStep(string Variable, bool FromImage, bool ToImage, EquatableArray<int> Dimensions) : ForwardStep(Variable);
