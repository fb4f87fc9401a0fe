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

    /// <summary>Keras' leaky_relu activation: negative slope 0.2.</summary>
    LeakyRelu,

    /// <summary>Keras' elu: alpha 1.</summary>
    Elu,

    /// <summary>Keras' gelu: the exact (erf) form, approximate=False.</summary>
    Gelu,

    /// <summary>Keras' swish (silu): x * sigmoid(x).</summary>
    Swish,

    /// <summary>Keras' softplus: log(1 + exp(x)).</summary>
    Softplus,
}

/// <summary>Keras RandomFlip's mode.</summary>
public enum FlipMode
{
    HorizontalAndVertical,
    Horizontal,
    Vertical,
}

public enum Padding
{
    Valid,
    Same,
}

/// <summary>A layer of an experiment's model.</summary>
public abstract record Layer;

/// <summary>
/// Keras Dense: units outputs, optional activation (none means linear). <paramref name="L1"/> and <paramref name="L2"/>
/// are Keras' kernel_regularizer L1L2(l1, l2): l1 * sum|W| + l2 * sum W^2 added to the loss, in training and evaluation.
/// </summary>
public sealed record Dense(int Units, Activation Activation = Activation.None, double L1 = 0, double L2 = 0) : Layer;

/// <summary>Keras Activation.</summary>
public sealed record ActivationLayer(Activation Activation) : Layer;

/// <summary>Keras Dropout: drops a fraction Rate in [0, 1) during training.</summary>
public sealed record Dropout(double Rate) : Layer;

/// <summary>Keras Flatten (channels-last order, as Keras flattens).</summary>
public sealed record Flatten : Layer;

/// <summary>Keras BatchNormalization over Axis (Keras numbering of the channels-last shape, -1 = last), momentum 0.99, epsilon 1e-3.</summary>
public sealed record BatchNormalization(int Axis = -1) : Layer;

/// <summary>Keras Conv2D. KernelWidth 0 means square (Kernel x Kernel); StrideWidth 0 means Stride. L1 and L2: the kernel's regularizer, as Dense's.</summary>
public sealed record Conv2D(
    int Filters,
    int Kernel,
    int KernelWidth = 0,
    int Stride = 1,
    int StrideWidth = 0,
    Padding Padding = Padding.Valid,
    Activation Activation = Activation.None,
    double L1 = 0,
    double L2 = 0) : Layer;

/// <summary>Keras MaxPooling2D: Pool x Pool windows; Stride 0 means Pool (Keras strides=None).</summary>
public sealed record MaxPool2D(int Pool = 2, int Stride = 0, Padding Padding = Padding.Valid) : Layer;

/// <summary>Keras AveragePooling2D: Pool x Pool windows; Stride 0 means Pool. Padding.Same averages over the pixels inside the image, as Keras does.</summary>
public sealed record AveragePooling2D(int Pool = 2, int Stride = 0, Padding Padding = Padding.Valid) : Layer;

/// <summary>Keras GlobalAveragePooling2D: the mean of each channel over height and width.</summary>
public sealed record GlobalAveragePooling2D : Layer;

/// <summary>Keras GlobalMaxPooling2D: the maximum of each channel over height and width.</summary>
public sealed record GlobalMaxPooling2D : Layer;

/// <summary>Keras LayerNormalization over Axis (Keras numbering, -1 = last), epsilon 1e-3, with a scale and a centre per feature.</summary>
public sealed record LayerNormalization(int Axis = -1) : Layer;

/// <summary>Keras Reshape: the target shape without the batch (channels-last, as Keras), one dimension may be -1.</summary>
public sealed record Reshape(params int[] Shape) : Layer;

/// <summary>
/// Keras RandomFlip, in training only: each image is flipped left-right and/or top-bottom with probability 1/2 each.
/// Every draw comes from the experiment's seed, the epoch and the example's index, so it does not depend on the batch
/// size, the thread count or where a resumed run starts.
/// </summary>
public sealed record RandomFlip(FlipMode Mode = FlipMode.HorizontalAndVertical) : Layer;

/// <summary>
/// Keras RandomTranslation, in training only: shifts each image by a fraction drawn from [-Height, Height] of its
/// height and [-Width, Width] of its width; bilinear, filled with zeros. Seeded as <see cref="RandomFlip"/>.
/// </summary>
public sealed record RandomTranslation(double Height, double Width) : Layer;

/// <summary>
/// Keras RandomRotation, in training only: rotates each image about its centre by an angle drawn from
/// [-Factor, Factor] x 2 pi (counter-clockwise positive); bilinear, filled with zeros. Seeded as <see cref="RandomFlip"/>.
/// </summary>
public sealed record RandomRotation(double Factor) : Layer;

/// <summary>
/// Keras RandomZoom, in training only: zooms each image by 1 + a value drawn from [-Height, Height] vertically and
/// [-Width, Width] horizontally (positive zooms out); without Width (NaN) the vertical draw is used for both, keeping
/// the aspect ratio, as Keras' width_factor=None. Bilinear, filled with zeros. Seeded as <see cref="RandomFlip"/>.
/// </summary>
public sealed record RandomZoom(double Height, double Width = double.NaN) : Layer;

/// <summary>
/// Keras Conv1D over a sequence (steps, features), channels-last: Filters outputs per step, a window of Kernel steps,
/// Keras' 'same' padding (the extra step at the end for even kernels). L1 and L2: the kernel's regularizer, as Dense's.
/// </summary>
public sealed record Conv1D(int Filters, int Kernel, int Stride = 1, Padding Padding = Padding.Valid, Activation Activation = Activation.None, double L1 = 0, double L2 = 0) : Layer;

/// <summary>Keras MaxPooling1D over a sequence's steps: windows of Pool steps; Stride 0 means Pool (Keras strides=None).</summary>
public sealed record MaxPool1D(int Pool = 2, int Stride = 0, Padding Padding = Padding.Valid) : Layer;

/// <summary>Keras SimpleRNN: the last step, or every step with <paramref name="ReturnSequences"/> (to stack another recurrent layer on it).</summary>
public sealed record SimpleRnn(int Units, Activation Activation = Activation.Tanh, bool ReturnSequences = false) : Layer;

/// <summary>Keras LSTM: the last step, or every step with <paramref name="ReturnSequences"/> (to stack another recurrent layer on it).</summary>
public sealed record Lstm(int Units, bool ReturnSequences = false) : Layer;

/// <summary>Keras GRU (reset_after, as TF2 Keras and PyTorch): the last step, or every step with <paramref name="ReturnSequences"/>.</summary>
public sealed record Gru(int Units, bool ReturnSequences = false) : Layer;

/// <summary>
/// Keras Bidirectional around a recurrent layer (merge_mode 'concat'): the sequence read forwards and backwards by two
/// layers of the same kind, their outputs concatenated (the last step of each reading, or every step aligned in time
/// with the wrapped layer's ReturnSequences).
/// </summary>
public sealed record Bidirectional(Layer Layer) : Layer;

/// <summary>Runs each branch on the same input and concatenates the outputs on the channel axis.</summary>
public sealed record Concatenate(params Layer[] Branches) : Layer;

/// <summary>
/// Keras Add: runs each branch on the same input and sums the outputs, which must have one shape. A residual block is
/// <c>new Add(new Identity(), new Sequence(...))</c>.
/// </summary>
public sealed record Add(params Layer[] Branches) : Layer;

/// <summary>Keras Identity: passes its input on (the shortcut of a residual <see cref="Add"/>).</summary>
public sealed record Identity : Layer;

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
