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
    public static int[] Keras(ExperimentSettings settings) => Shape(settings, channelsLast: true);

    public static int[] Torch(ExperimentSettings settings) => Shape(settings, channelsLast: false);

    /// <summary>Only an image's channel axis differs: last for Keras, first for TorchSharp.</summary>
    private static int[] Shape(ExperimentSettings settings, bool channelsLast)
    {
        if (settings.IsTable)
        {
            return new[] { settings.TableWidth };
        }

        (int height, int width, int channels) = Size(settings);
        return settings.Input switch
        {
            Input.Flat => new[] { height * width * channels },
            Input.Sequence => new[] { height, width * channels },
            _ => channelsLast ? new[] { height, width, channels } : new[] { channels, height, width },
        };
    }

    /// <summary>The built-in images' size (28 x 28 x 1, Digits 8 x 8 x 1), or the declared size of a folder's images.</summary>
    public static (int Height, int Width, int Channels) Size(ExperimentSettings settings) => settings.Dataset switch
    {
        Dataset.ImageFolder => (settings.ImageHeight, settings.ImageWidth, settings.Channels == 0 ? 1 : settings.Channels),
        Dataset.Digits => (8, 8, 1),
        _ => (28, 28, 1),
    };

    public static string DatasetLabel(Dataset dataset) => dataset switch
    {
        Dataset.FashionMnist => "Fashion-MNIST",
        Dataset.ImageFolder => "the image folder",
        Dataset.Csv => "the CSV file",
        Dataset.Digits => "Digits",
        Dataset.Iris => "Iris",
        _ => "MNIST",
    };
}
