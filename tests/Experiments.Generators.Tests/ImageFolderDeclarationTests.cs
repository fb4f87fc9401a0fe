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
