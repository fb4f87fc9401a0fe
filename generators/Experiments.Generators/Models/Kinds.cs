// The enums a declaration names (Experiments.Dataset, Experiments.Layers.Activation, ...) are Experiments.Abstractions'
// own: the generator references that library, so there is one definition of what a value means. The parser maps
// each argument by member name; the numbers feed the fingerprint's canonical text (FingerprintTests pins them).
global using Activation = Experiments.Layers.Activation;
global using Padding = Experiments.Layers.Padding;
global using FlipMode = Experiments.Layers.FlipMode;

namespace Experiments.Generators.Models;

/// <summary>What a layer constructor call in a declaration is (the Experiments.Layers record's name).</summary>

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
    RandomFlip,
    RandomTranslation,
    RandomRotation,
    RandomZoom,
    AveragePooling2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    Add,
    Identity,
    LayerNormalization,
    Reshape,
    Conv1D,
    MaxPool1D,
    Bidirectional,
}

/// <summary>The one table of input shapes: Keras' (channels-last, what shape inference walks) and TorchSharp's (what the model gets).</summary>
public static class InputShapes
{
    public static int[] Keras(Input input) => input switch
    {
        Input.Flat => new[] { 784 },
        Input.Sequence => new[] { 28, 28 },
        _ => new[] { 28, 28, 1 },
    };

    public static int[] Torch(Input input) => input switch
    {
        Input.Flat => new[] { 784 },
        Input.Sequence => new[] { 28, 28 },
        _ => new[] { 1, 28, 28 },
    };

    public static string DatasetLabel(Dataset dataset) => dataset == Dataset.FashionMnist ? "Fashion-MNIST" : "MNIST";
}
