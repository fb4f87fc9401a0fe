using Experiments.Layers;
using Experiments.Runtime.Native;
using Experiments.Runtime.Randomness;
using Experiments.Runtime.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Experiments.Runtime.Tests;

/// <summary>
/// Keras' augmentation layers: each transformation against its definition (where a single bright pixel must land),
/// every draw a function of (seed, epoch, example) only, and training with them interrupted and resumed in
/// <see cref="TrainingControlsTests"/>.
/// </summary>
public sealed class AugmentationTests
{
    private const long Seed = 5;
    private const int Epoch = 3;

    private static ulong Key => SeedStreams.Derive(Seed, SeedPurpose.Augmentation, Epoch);

    /// <summary>A draw as the layers make it: uniform in [-factor, factor].</summary>
    private static double Draw(int layer, int example, int draw, double factor) => ((2 * Augmentation.Uniform(Key, layer, example, draw)) - 1) * factor;

    /// <summary>N images of 1 x 29 x 25 (odd sizes, not square), each with one bright pixel at (row 9, column 15).</summary>
    private static Tensor Dots(int n)
    {
        Tensor images = torch.zeros(n, 1, 29, 25);
        images[TensorIndex.Colon, 0, 9, 15] = torch.tensor(1f);
        return images;
    }

    /// <summary>The intensity-weighted centre (row, column) of each image: bilinear resampling moves it exactly with the sampling point.</summary>
    private static (double Row, double Column)[] Centres(Tensor images)
    {
        using Tensor rows = torch.arange(images.shape[2], dtype: float64).view(1, 1, -1, 1);
        using Tensor columns = torch.arange(images.shape[3], dtype: float64).view(1, 1, 1, -1);
        using Tensor x = images.to(float64);
        using Tensor mass = x.sum([1, 2, 3]);
        double[] r = (x * rows).sum([1, 2, 3]).div(mass).data<double>().ToArray();
        double[] c = (x * columns).sum([1, 2, 3]).div(mass).data<double>().ToArray();
        return r.Zip(c).ToArray();
    }

    /// <summary>The same shape and the same bytes.</summary>
    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.contiguous().bytes.SequenceEqual(b.contiguous().bytes);

    [Fact]
    public void Flips_are_exact_and_each_direction_is_drawn_per_example()
    {
        TorchRuntime.Initialize(threads: 1);
        int[] examples = Enumerable.Range(100, 64).ToArray();
        Tensor images = torch.rand(64, 1, 29, 25, generator: torch.manual_seed(1));
        Tensor flipped = Augmentation.Apply([Augmentation.RandomFlip(FlipMode.HorizontalAndVertical)], images, Seed, Epoch, examples);
        var seen = new HashSet<(bool, bool)>();
        for (int i = 0; i < 64; i++)
        {
            bool horizontal = Augmentation.Uniform(Key, 0, examples[i], 0) < 0.5;
            bool vertical = Augmentation.Uniform(Key, 0, examples[i], 1) < 0.5;
            Tensor expected = images[i];
            expected = horizontal ? expected.flip(2) : expected;
            expected = vertical ? expected.flip(1) : expected;
            Assert.True(Same(expected, flipped[i]), $"example {examples[i]}: horizontal {horizontal}, vertical {vertical}");
            seen.Add((horizontal, vertical));
        }

        Assert.Equal(4, seen.Count);
    }

    [Fact]
    public void Translation_moves_the_image_by_its_drawn_fraction_of_height_and_width()
    {
        TorchRuntime.Initialize(threads: 1);
        int[] examples = Enumerable.Range(0, 16).ToArray();
        (double Row, double Column)[] centres = Centres(Augmentation.Apply([Augmentation.RandomTranslation(0.1, 0.2)], Dots(16), Seed, Epoch, examples));
        for (int i = 0; i < 16; i++)
        {
            // Keras: a positive shift moves the content down and right.
            Assert.Equal(9 + (Draw(0, i, 0, 0.1) * 29), centres[i].Row, 4);
            Assert.Equal(15 + (Draw(0, i, 1, 0.2) * 25), centres[i].Column, 4);
        }
    }

    [Fact]
    public void Rotation_and_zoom_turn_and_scale_about_the_centre()
    {
        TorchRuntime.Initialize(threads: 1);
        int[] examples = Enumerable.Range(7, 16).ToArray();
        (double Row, double Column) centre = (14, 12); // ((29 - 1) / 2, (25 - 1) / 2)
        (double Row, double Column)[] rotated = Centres(Augmentation.Apply([Augmentation.RandomRotation(0.05)], Dots(16), Seed, Epoch, examples));
        (double Row, double Column)[] zoomed = Centres(Augmentation.Apply([Augmentation.RandomZoom(0.2, 0.1)], Dots(16), Seed, Epoch, examples));
        for (int i = 0; i < 16; i++)
        {
            // Keras: output pixel p reads the input at c + R (p - c), R turning by the drawn angle; bilinear.
            double angle = Draw(0, examples[i], 0, 0.05) * 2 * Math.PI;
            (double cos, double sin) = (Math.Cos(angle), Math.Sin(angle));
            Close(Expected((r, c) => (centre.Row + (sin * (c - centre.Column)) + (cos * (r - centre.Row)), centre.Column + (cos * (c - centre.Column)) - (sin * (r - centre.Row)))), rotated[i]);

            // Zoom z reads the input at c + z (p - c), so z above 1 zooms out.
            double zoomY = 1 + Draw(0, examples[i], 0, 0.2);
            double zoomX = 1 + Draw(0, examples[i], 1, 0.1);
            Close(Expected((r, c) => (centre.Row + (zoomY * (r - centre.Row)), centre.Column + (zoomX * (c - centre.Column)))), zoomed[i]);
        }
    }

    private static void Close((double Row, double Column) expected, (double Row, double Column) actual)
    {
        Assert.Equal(expected.Row, actual.Row, 4);
        Assert.Equal(expected.Column, actual.Column, 4);
    }

    /// <summary>
    /// Where the dot's centre lands when every output pixel (r, c) reads the input bilinearly at <paramref name="reads"/>(r, c):
    /// the weighted mean of the pixels, each weighted by the bilinear weight of the dot (row 9, column 15) at the point it reads.
    /// </summary>
    private static (double Row, double Column) Expected(Func<double, double, (double Row, double Column)> reads)
    {
        static double Tent(double d) => Math.Max(0, 1 - Math.Abs(d));
        double mass = 0, row = 0, column = 0;
        for (int r = 0; r < 29; r++)
        {
            for (int c = 0; c < 25; c++)
            {
                (double y, double x) = reads(r, c);
                double w = Tent(y - 9) * Tent(x - 15);
                (mass, row, column) = (mass + w, row + (w * r), column + (w * c));
            }
        }

        return (row / mass, column / mass);
    }

    [Fact]
    public void Each_example_gets_the_same_bits_whatever_its_batch_its_position_and_the_thread_count()
    {
        Augmentation[] layers =
        [
            Augmentation.RandomFlip(FlipMode.Horizontal), Augmentation.RandomTranslation(0.1, 0.1), Augmentation.RandomRotation(0.1), Augmentation.RandomZoom(0.15),
        ];
        Tensor images = torch.rand(64, 1, 28, 28, generator: torch.manual_seed(2));
        int[] examples = Enumerable.Range(500, 64).ToArray();
        TorchRuntime.Initialize(threads: 2);
        Tensor whole = Augmentation.Apply(layers, images, Seed, Epoch, examples);

        // The same examples in reverse order, split into batches of 7 and 57, on one thread.
        torch.set_num_threads(1);
        int[] reversed = examples.Reverse().ToArray();
        Tensor backwards = images.flip(0);
        Tensor first = Augmentation.Apply(layers, backwards.narrow(0, 0, 7), Seed, Epoch, reversed.AsSpan(0, 7));
        Tensor rest = Augmentation.Apply(layers, backwards.narrow(0, 7, 57), Seed, Epoch, reversed.AsSpan(7));
        torch.set_num_threads(2);
        Assert.True(Same(whole, torch.cat([first, rest]).flip(0)));

        // Another epoch or another seed draws anew.
        Assert.False(Same(whole, Augmentation.Apply(layers, images, Seed, Epoch + 1, examples)));
        Assert.False(Same(whole, Augmentation.Apply(layers, images, Seed + 1, Epoch, examples)));
    }

    [Fact]
    public void Settings_name_the_augmentation_and_refuse_it_without_images()
    {
        var settings = new TrainingSettings([1, 28, 28], OptimizerSettings.Adam(), Loss.CategoricalCrossEntropy, 32, 2, Data.ValidationSpec.None, seed: 1)
        {
            Augmentation = [Augmentation.RandomFlip(FlipMode.Horizontal), Augmentation.RandomZoom(0.1)],
        };
        Assert.EndsWith(", augmentation RandomFlip(Horizontal) RandomZoom(0.1)", settings.ToString(), StringComparison.Ordinal);
        Assert.Equal(settings.Augmentation, settings.With(epochs: 3).Augmentation);
        ArgumentException flat = Assert.Throws<ArgumentException>(() => new TrainingSettings([784], OptimizerSettings.Adam(), Loss.CategoricalCrossEntropy, 32, 2, Data.ValidationSpec.None, seed: 1)
        {
            Augmentation = [Augmentation.RandomRotation(0.1)],
        });
        Assert.Contains("Input.Image", flat.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Augmentation.RandomRotation(1.5));
    }
}
