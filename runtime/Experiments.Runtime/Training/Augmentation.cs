using System.Globalization;
using Experiments.Layers;
using Experiments.Runtime.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Runtime.Training;

/// <summary>What an augmentation layer does to a training image.</summary>
public enum AugmentationKind
{
    Flip,
    Translation,
    Rotation,
    Zoom,
}

/// <summary>
/// One of Keras' random image augmentation layers, applied to training batches only (Keras' training=True), with
/// Keras' argument meanings and zeros filled in where an image moves away from its border. Declared as the first
/// layers of an experiment; the generator writes them into <see cref="TrainingSettings.Augmentation"/>.
/// </summary>
/// <remarks>
/// Every draw is a pure function of (experiment seed, epoch, layer, the example's index in the training set), so an
/// image gets the same transformation whatever batch it lands in, however many threads run, and wherever a resumed run
/// starts. Geometric transformations follow Keras' pixel convention: centres at integer coordinates, rotation and zoom
/// about ((width - 1) / 2, (height - 1) / 2), bilinear interpolation.
/// </remarks>
public sealed record Augmentation
{
    private Augmentation(AugmentationKind kind, double height, double width, FlipMode flip)
    {
        Kind = kind;
        Height = height >= 0 && height <= 1 ? height : throw new ArgumentOutOfRangeException(nameof(height), height, "An augmentation factor lies in [0, 1].");
        Width = double.IsNaN(width) || (width >= 0 && width <= 1) ? width : throw new ArgumentOutOfRangeException(nameof(width), width, "An augmentation factor lies in [0, 1].");
        Flip = flip;
    }

    public AugmentationKind Kind { get; }

    /// <summary>The height factor (translation, zoom) or the rotation factor (a fraction of a full turn).</summary>
    public double Height { get; }

    /// <summary>The width factor (translation, zoom); NaN for a zoom that keeps the aspect ratio.</summary>
    public double Width { get; }

    public FlipMode Flip { get; }

    /// <summary>Keras RandomFlip: each direction of the mode flips with probability 1/2.</summary>
    public static Augmentation RandomFlip(FlipMode mode = FlipMode.HorizontalAndVertical) => new(AugmentationKind.Flip, 0, 0, mode);

    /// <summary>Keras RandomTranslation: shifts drawn from [-height, height] x image height and [-width, width] x image width.</summary>
    public static Augmentation RandomTranslation(double height, double width) => new(AugmentationKind.Translation, height, width, default);

    /// <summary>Keras RandomRotation: an angle drawn from [-factor, factor] x 2 pi, counter-clockwise positive.</summary>
    public static Augmentation RandomRotation(double factor) => new(AugmentationKind.Rotation, factor, 0, default);

    /// <summary>Keras RandomZoom: 1 + a draw from [-height, height] vertically, [-width, width] horizontally (NaN: the vertical draw); above 1 zooms out.</summary>
    public static Augmentation RandomZoom(double height, double width = double.NaN) => new(AugmentationKind.Zoom, height, width, default);

    public override string ToString() => Kind switch
    {
        AugmentationKind.Flip => $"RandomFlip({Flip})",
        AugmentationKind.Translation => string.Create(CultureInfo.InvariantCulture, $"RandomTranslation({Height:R}, {Width:R})"),
        AugmentationKind.Rotation => string.Create(CultureInfo.InvariantCulture, $"RandomRotation({Height:R})"),
        _ => double.IsNaN(Width) ? string.Create(CultureInfo.InvariantCulture, $"RandomZoom({Height:R})") : string.Create(CultureInfo.InvariantCulture, $"RandomZoom({Height:R}, {Width:R})"),
    };

    /// <summary>
    /// A draw in [0, 1) for one example: counter-based (SplitMix64 over the stream's key, the layer, the example and the
    /// draw number), so no state is carried between batches or epochs and a checkpoint needs none.
    /// </summary>
    public static double Uniform(ulong epochKey, int layer, int example, int draw)
    {
        const ulong Gamma = 0x9E3779B97F4A7C15UL;
        ulong z = SplitMix64.Mix(unchecked(epochKey + ((ulong)(layer + 1) * Gamma)));
        z = SplitMix64.Mix(unchecked(z + ((ulong)(example + 1) * Gamma)));
        z = SplitMix64.Mix(unchecked(z + ((ulong)(draw + 1) * Gamma)));
        return (z >> 11) * (1.0 / (1UL << 53));
    }

    /// <summary>
    /// The augmented batch: <paramref name="images"/> [N, C, H, W] on its device, <paramref name="examples"/> the N
    /// examples' indices in the training set. Nothing here is differentiated (the input needs no gradient).
    /// </summary>
    public static Tensor Apply(IReadOnlyList<Augmentation> layers, Tensor images, long seed, int epoch, ReadOnlySpan<int> examples)
    {
        ulong epochKey = SeedStreams.Derive(seed, SeedPurpose.Augmentation, epoch);
        using var noGrad = torch.no_grad();
        Tensor x = images;
        for (int layer = 0; layer < layers.Count; layer++)
        {
            x = layers[layer].ApplyOne(x, epochKey, layer, examples);
        }

        return x;
    }

    private Tensor ApplyOne(Tensor x, ulong epochKey, int layer, ReadOnlySpan<int> examples)
    {
        int n = examples.Length;
        if (Kind == AugmentationKind.Flip)
        {
            bool horizontal = Flip is FlipMode.Horizontal or FlipMode.HorizontalAndVertical;
            bool vertical = Flip is FlipMode.Vertical or FlipMode.HorizontalAndVertical;
            if (horizontal)
            {
                x = Flipped(x, examples, epochKey, layer, draw: 0, dimension: 3);
            }

            if (vertical)
            {
                x = Flipped(x, examples, epochKey, layer, draw: 1, dimension: 2);
            }

            return x;
        }

        long height = x.shape[2];
        long width = x.shape[3];

        // Each example's affine map from output to input pixel coordinates, centred: input - c = A (output - c) + t.
        var a = new double[n, 6];
        for (int i = 0; i < n; i++)
        {
            int example = examples[i];
            double Draw(int d, double factor) => factor == 0 ? 0 : ((2 * Uniform(epochKey, layer, example, d)) - 1) * factor;
            switch (Kind)
            {
                case AugmentationKind.Translation:
                    // Keras: the image moves by (dx, dy) pixels, so the input is read at output - (dx, dy).
                    (a[i, 0], a[i, 1], a[i, 2], a[i, 3], a[i, 4], a[i, 5]) = (1, 0, -Draw(1, Width) * width, 0, 1, -Draw(0, Height) * height);
                    break;
                case AugmentationKind.Rotation:
                    double angle = Draw(0, Height) * 2 * Math.PI;
                    (double cos, double sin) = (Math.Cos(angle), Math.Sin(angle));
                    (a[i, 0], a[i, 1], a[i, 2], a[i, 3], a[i, 4], a[i, 5]) = (cos, -sin, 0, sin, cos, 0);
                    break;
                default:
                    double zoomY = 1 + Draw(0, Height);
                    double zoomX = double.IsNaN(Width) ? zoomY : 1 + Draw(1, Width);
                    (a[i, 0], a[i, 1], a[i, 2], a[i, 3], a[i, 4], a[i, 5]) = (zoomX, 0, 0, 0, zoomY, 0);
                    break;
            }
        }

        return Resampled(x, a, height, width);
    }

    private static Tensor Flipped(Tensor x, ReadOnlySpan<int> examples, ulong epochKey, int layer, int draw, long dimension)
    {
        var flip = new bool[examples.Length];
        for (int i = 0; i < flip.Length; i++)
        {
            flip[i] = Uniform(epochKey, layer, examples[i], draw) < 0.5;
        }

        using Tensor mask = torch.tensor(flip, device: x.device).view(-1, 1, 1, 1);
        return torch.where(mask, x.flip(dimension), x);
    }

    /// <summary>
    /// Bilinear resampling through grid_sample, in normalised coordinates with align_corners (-1 and 1 are the corner
    /// pixels' centres, as Keras' integer pixel centres): u = 2x / (W - 1) - 1. The grid is built with elementwise
    /// products and sums only (no matrix product), so its bits do not depend on a BLAS.
    /// </summary>
    private static Tensor Resampled(Tensor x, double[,] a, long height, long width)
    {
        int n = a.GetLength(0);
        double sx = width > 1 ? 2.0 / (width - 1) : 1;
        double sy = height > 1 ? 2.0 / (height - 1) : 1;
        var theta = new float[6][];
        for (int k = 0; k < 6; k++)
        {
            theta[k] = new float[n];
        }

        for (int i = 0; i < n; i++)
        {
            // Normalised: u_in = A00 u + A01 (sx / sy) v + sx t_x; v_in = A10 (sy / sx) u + A11 v + sy t_y.
            theta[0][i] = (float)a[i, 0];
            theta[1][i] = (float)(a[i, 1] * sx / sy);
            theta[2][i] = (float)(a[i, 2] * sx);
            theta[3][i] = (float)(a[i, 3] * sy / sx);
            theta[4][i] = (float)a[i, 4];
            theta[5][i] = (float)(a[i, 5] * sy);
        }

        using var scope = torch.NewDisposeScope();
        Device device = x.device;
        float[] us = Enumerable.Range(0, (int)width).Select(c => (float)((c * sx) - 1)).ToArray();
        float[] vs = Enumerable.Range(0, (int)height).Select(r => (float)((r * sy) - 1)).ToArray();
        Tensor u = torch.tensor(us, device: device).view(1, 1, width);
        Tensor v = torch.tensor(vs, device: device).view(1, height, 1);
        Tensor T(int k) => torch.tensor(theta[k], device: device).view(n, 1, 1);
        Tensor gridX = (T(0) * u) + (T(1) * v) + T(2);
        Tensor gridY = (T(3) * u) + (T(4) * v) + T(5);
        Tensor grid = torch.stack([gridX, gridY], dim: -1);
        Tensor sampled = nn.functional.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: true);
        return sampled.MoveToOuterDisposeScope();
    }
}
