namespace Experiments.Generators.Models;

// The generator's view of the enums users write (Experiments.Dataset, Experiments.Layers.Activation, ...). The parser
// maps each argument to these by member name, never by number, so the user's enum is the one definition of what a
// value means. The numbers below only feed the fingerprint's canonical text, where they must stay what the declared
// enums' values were when fingerprints were first approved; GeneratorEnumTests checks names and values against
// Experiments.Abstractions.

public enum DatasetKind
{
    Mnist = 0,
    FashionMnist = 1,
}

public enum InputKind
{
    Flat = 0,
    Image = 1,
    Sequence = 2,
}

public enum OptimizerKind
{
    Sgd = 0,
    Adam = 1,
    RmsProp = 2,
}

public enum LossKind
{
    CategoricalCrossEntropy = 0,
    MeanSquaredError = 1,
}

public enum ValidationKind
{
    None = 0,
    TestSet = 1,
    KerasTail = 2,
    Seeded = 3,
}

public enum ActivationKind
{
    None = 0,
    Relu = 1,
    Sigmoid = 2,
    Tanh = 3,
    Softmax = 4,
}

public enum PaddingKind
{
    Valid = 0,
    Same = 1,
}

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

/// <summary>The one table of input shapes: Keras' (channels-last, what shape inference walks) and TorchSharp's (what the model gets).</summary>
public static class InputShapes
{
    public static int[] Keras(InputKind input) => input switch
    {
        InputKind.Flat => new[] { 784 },
        InputKind.Sequence => new[] { 28, 28 },
        _ => new[] { 28, 28, 1 },
    };

    public static int[] Torch(InputKind input) => input switch
    {
        InputKind.Flat => new[] { 784 },
        InputKind.Sequence => new[] { 28, 28 },
        _ => new[] { 1, 28, 28 },
    };

    public static string DatasetLabel(DatasetKind dataset) => dataset == DatasetKind.FashionMnist ? "Fashion-MNIST" : "MNIST";
}
