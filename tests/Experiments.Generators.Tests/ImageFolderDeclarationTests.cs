using Experiments.Runtime;
using Experiments.Runtime.Native;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Experiments.Generators.Tests;

/// <summary>
/// A declaration on the user's own images: the shapes come from the declared size and channels (not MNIST's), the
/// class count is left to the folder, and the folder's path is where the data is, not what it is.
/// </summary>
public sealed class ImageFolderDeclarationTests
{
    private static string Declaration(string settings, string input = "Input.Image", string units = "5") => GeneratorHarness.Usings + $$"""
        namespace Folder;
        [Experiment("pets", Dataset.ImageFolder, {{input}}{{settings}})]
        public sealed partial class Pets
        {
            private static readonly Layer[] Layers = [new Conv2D(8, 3, Activation: Activation.Relu), new Flatten(), new Dense({{units}}, Activation.Softmax)];
        }
        """;

    private const string Rgb = ", DataPath = \"data/pets\", ImageHeight = 32, ImageWidth = 24, Channels = 3";

    [Fact]
    public void The_declared_size_and_channels_shape_the_model_and_the_folder_reaches_the_runtime()
    {
        IExperiment experiment = GeneratorHarness.Registry(Declaration(Rgb)).Single();

        // Keras: Conv2D 3x3x3x8 + 8 = 224 over 32x24x3 -> (None, 30, 22, 8); Dense 30*22*8 x 5 + 5.
        Assert.Contains("(None, 30, 22, 8)", experiment.Info.Summary, StringComparison.Ordinal);
        Assert.Equal(224 + (30 * 22 * 8 * 5) + 5, experiment.Info.Parameters);
        Assert.Equal([3, 32, 24], experiment.Settings.InputShape);
        Runtime.Data.ImageFolderSource folder = Assert.IsType<Runtime.Data.ImageFolderSource>(experiment.Info.Folder);
        Assert.Equal(("data/pets", 32, 24, 3, 0.2, false, 5), (folder.Path, folder.Height, folder.Width, folder.Channels, folder.TestFraction, folder.Resize, folder.Classes));

        TorchRuntime.Initialize(2);
        using nn.Module<Tensor, Tensor> model = experiment.CreateModel();
        using Tensor logits = model.call(torch.rand(2, 3, 32, 24, generator: torch.manual_seed(1)));
        Assert.Equal([2L, 5L], logits.shape);
    }

    [Fact]
    public void Flat_and_sequence_inputs_take_the_declared_size_too()
    {
        IExperiment flat = GeneratorHarness.Registry(Declaration(Rgb, "Input.Flat").Replace("new Conv2D(8, 3, Activation: Activation.Relu), new Flatten(), ", "", StringComparison.Ordinal)).Single();
        Assert.Equal([32 * 24 * 3], flat.Settings.InputShape);
        IExperiment sequence = GeneratorHarness.Registry(Declaration(Rgb, "Input.Sequence").Replace("new Conv2D(8, 3, Activation: Activation.Relu), new Flatten(), ", "new Lstm(4), ", StringComparison.Ordinal)).Single();
        Assert.Equal([32, 24 * 3], sequence.Settings.InputShape);
    }

    [Fact]
    public void The_fingerprint_follows_what_shapes_the_data_but_not_where_the_folder_is()
    {
        string Fingerprint(string settings) => GeneratorHarness.Registry(Declaration(settings)).Single().Info.Fingerprint;
        string original = Fingerprint(Rgb);
        Assert.Equal(original, Fingerprint(Rgb.Replace("data/pets", "/somewhere/else/pets", StringComparison.Ordinal)));
        Assert.NotEqual(original, Fingerprint(Rgb.Replace("Channels = 3", "Channels = 1", StringComparison.Ordinal)));
        Assert.NotEqual(original, Fingerprint(Rgb + ", Resize = true"));
        Assert.NotEqual(original, Fingerprint(Rgb + ", TestFraction = 0.1"));
    }

    [Fact]
    public void Any_number_of_classes_compiles_for_a_folder_since_the_folder_decides()
    {
        IExperiment three = GeneratorHarness.Registry(Declaration(Rgb, units: "3")).Single();
        Assert.Equal(3, three.Info.Folder!.Classes);
    }
}

/// <summary>A declaration on the user's CSV file: a row of Features numbers, used as they are, with the classes left to the file.</summary>
public sealed class TableDeclarationTests
{
    private const string Source = GeneratorHarness.Usings + """
        namespace Tables;
        [Experiment("flowers", Dataset.Csv, Input.Flat, DataPath = "data/flowers.csv", Features = 4, LabelColumn = "species", TestFraction = 0.3)]
        public sealed partial class Flowers
        {
            private static readonly Layer[] Layers = [new Dense(8, Activation.Relu), new Dense(3, Activation.Softmax)];
        }
        """;

    [Fact]
    public void The_declared_features_shape_the_model_and_the_table_reaches_the_runtime_unscaled()
    {
        IExperiment experiment = GeneratorHarness.Registry(Source).Single();
        Assert.Equal([4], experiment.Settings.InputShape);
        Assert.Equal(1f, experiment.Settings.InputScale);
        Assert.Equal((4 * 8) + 8 + (8 * 3) + 3, experiment.Info.Parameters);
        Runtime.Data.TableSource table = Assert.IsType<Runtime.Data.TableSource>(experiment.Info.Table);
        Assert.Equal(("data/flowers.csv", 4, "species", true, 0.3, 3), (table.Path, table.Features, table.LabelColumn, table.Header, table.TestFraction, table.Classes));
        Assert.Null(experiment.Info.Folder);
    }
}

/// <summary>Colour through the whole path: an RGB folder declared, trained, and its gallery drawn in colour.</summary>
public sealed class RgbFolderTrainingTests
{
    [Fact]
    public void An_rgb_folder_trains_a_three_channel_convolution_and_its_galleries_are_in_colour()
    {
        // Two classes told apart by colour only: reddish and bluish squares with a little per-image variation.
        string root = Directory.CreateTempSubdirectory("experiments-rgb-").FullName;
        for (int i = 0; i < 40; i++)
        {
            foreach ((string name, SkiaSharp.SKColor colour) in new[] { ("blue", new SkiaSharp.SKColor((byte)(20 + i), 40, (byte)(200 - i))), ("red", new SkiaSharp.SKColor((byte)(200 - i), 40, (byte)(20 + i))) })
            {
                string file = Path.Combine(root, "train", name, $"{i:D2}.png");
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                using var bitmap = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(6, 6, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque));
                bitmap.Erase(colour);
                using SkiaSharp.SKData png = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(file, png.ToArray());
            }
        }

        string source = GeneratorHarness.Usings + $$"""
            namespace Rgb;
            [Experiment("colours", Dataset.ImageFolder, Input.Image, DataPath = "{{root}}", ImageHeight = 6, ImageWidth = 6, Channels = 3,
                Optimizer = Optimizer.Adam, LearningRate = 0.01, BatchSize = 8, Epochs = 5, Validation = Validation.TestSet, Seed = 3)]
            public sealed partial class Colours
            {
                private static readonly Layer[] Layers = [new Conv2D(4, 3, Activation: Activation.Relu), new Flatten(), new Dense(2, Activation.Softmax)];
            }
            """;
        IExperiment experiment = GeneratorHarness.Registry(source).Single();
        Runtime.Training.TrainedRun run = Runtime.Training.ExperimentRunner.Train(experiment, new Runtime.Training.RunOptions { Threads = 2 });
        Assert.Equal(["blue", "red"], run.Result.TestConfusion.ClassNames);
        Assert.Equal((64, 16), (run.Result.Identity.Run.TrainExamples, run.Result.Identity.Run.TestExamples));
        Assert.True(run.Result.Test.Accuracy > 0.9, $"test accuracy {run.Result.Test.Accuracy}");

        string folder = Runtime.Reports.ResultWriter.Write(run.Result, Path.Combine(root, "results"), experiment, testImages: run.TestImages);
        using SkiaSharp.SKBitmap samples = SkiaSharp.SKBitmap.Decode(Path.Combine(folder, "samples.png"));
        bool colourful = Enumerable.Range(0, samples.Width).Any(x => Enumerable.Range(0, samples.Height).Any(y =>
        {
            SkiaSharp.SKColor c = samples.GetPixel(x, y);
            return Math.Abs(c.Red - c.Blue) > 100;
        }));
        Assert.True(colourful, "samples.png shows no coloured pixel");
    }
}
