namespace Experiments.Layers;

// Declarations only: the source generator reads these constructor calls at compile time and emits TorchSharp
// code. Parameter names and defaults follow Keras.

public enum Activation
{
    None,
    Relu,
    Sigmoid,
    Tanh,
    Softmax,
}

public enum Padding
{
    Valid,
    Same,
}

/// <summary>A layer of an experiment's model.</summary>
public abstract record Layer;

/// <summary>Keras Dense: units outputs, optional activation (none means linear).</summary>
public sealed record Dense(int Units, Activation Activation = Activation.None) : Layer;

/// <summary>Keras Activation.</summary>
public sealed record ActivationLayer(Activation Activation) : Layer;

/// <summary>Keras Dropout: drops a fraction Rate in [0, 1) during training.</summary>
public sealed record Dropout(double Rate) : Layer;

/// <summary>Keras Flatten (channels-last order, as Keras flattens).</summary>
public sealed record Flatten : Layer;

/// <summary>Keras BatchNormalization over Axis (Keras numbering of the channels-last shape, -1 = last), momentum 0.99, epsilon 1e-3.</summary>
public sealed record BatchNormalization(int Axis = -1) : Layer;

/// <summary>Keras Conv2D. KernelWidth 0 means square (Kernel x Kernel); StrideWidth 0 means Stride.</summary>
public sealed record Conv2D(
    int Filters,
    int Kernel,
    int KernelWidth = 0,
    int Stride = 1,
    int StrideWidth = 0,
    Padding Padding = Padding.Valid,
    Activation Activation = Activation.None) : Layer;

/// <summary>Keras MaxPooling2D: Pool x Pool windows; Stride 0 means Pool (Keras strides=None).</summary>
public sealed record MaxPool2D(int Pool = 2, int Stride = 0, Padding Padding = Padding.Valid) : Layer;

/// <summary>Keras SimpleRNN returning the last step.</summary>
public sealed record SimpleRnn(int Units, Activation Activation = Activation.Tanh) : Layer;

/// <summary>Keras LSTM returning the last step.</summary>
public sealed record Lstm(int Units) : Layer;

/// <summary>Keras GRU (reset_after, as TF2 Keras and PyTorch) returning the last step.</summary>
public sealed record Gru(int Units) : Layer;

/// <summary>Runs each branch on the same input and concatenates the outputs on the channel axis.</summary>
public sealed record Concatenate(params Layer[] Branches) : Layer;

/// <summary>Several layers in a row, as one branch of a <see cref="Concatenate"/>.</summary>
public sealed record Sequence(params Layer[] Layers) : Layer;

/// <summary>
/// Keras Lambda: a static method <c>static Tensor Method(Tensor x)</c> that keeps the shape. With one argument the
/// method belongs to the class that declares the layers; with <paramref name="Owner"/> it is a public or internal
/// static method of that class, e.g. <c>new Function(typeof(Preprocessing), nameof(Preprocessing.Normalise))</c>.
/// Reference it with nameof.
/// </summary>
public sealed record Function(Type? Owner, string Method) : Layer
{
    public Function(string method)
        : this(null, method)
    {
    }
}
