using SkiaSharp;

namespace Experiments.Runtime.Data;

/// <summary>
/// Image files as the datasets' examples: one byte per pixel and channel, 0 black to 255 white, row by row. For one
/// channel a colour image is reduced to its luma (ITU-R BT.601 weights, rounded), which leaves a grey one as it is;
/// decoding is SkiaSharp's.
/// </summary>
public static class ImageFiles
{
    /// <summary>The pixels of <paramref name="path"/>, which must be <paramref name="rows"/> x <paramref name="cols"/>.</summary>
    public static byte[] ReadGray(string path, int rows, int cols) => Read(path, rows, cols, channels: 1, resize: false);

    /// <summary>
    /// The pixels of <paramref name="path"/> as <paramref name="channels"/> planes (1: BT.601 luma; 3: red, green, blue)
    /// of <paramref name="rows"/> x <paramref name="cols"/>. An image of another size is an error unless
    /// <paramref name="resize"/>, which scales it with <see cref="ResizeFilter"/>. Transparent pixels are taken as they
    /// are stored (unpremultiplied colour), so an image's alpha never changes its class.
    /// </summary>
    public static byte[] Read(string path, int rows, int cols, int channels, bool resize)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} does not exist.", path);
        }

        using SKBitmap? decoded = SKBitmap.Decode(path)
            ?? throw new DatasetException($"{path} cannot be read as an image (PNG, JPEG, BMP, GIF or WebP).");
        SKBitmap bitmap = decoded;
        if (decoded.Width != cols || decoded.Height != rows)
        {
            if (!resize)
            {
                throw new DatasetException($"{path} is {decoded.Width}x{decoded.Height} pixels; the model takes {cols}x{rows} images. Resize it first, or declare Resize = true.");
            }

            using SKBitmap unpremultiplied = decoded.Copy(SKColorType.Rgba8888) ?? throw new DatasetException($"{path}: its pixels cannot be converted to RGBA.");
            bitmap = unpremultiplied.Resize(new SKImageInfo(cols, rows, SKColorType.Rgba8888, SKAlphaType.Unpremul), ResizeSampling)
                ?? throw new DatasetException($"{path} cannot be resized to {cols}x{rows}.");
        }

        try
        {
            int plane = rows * cols;
            byte[] pixels = new byte[plane * channels];
            for (int y = 0; y < rows; y++)
            {
                for (int x = 0; x < cols; x++)
                {
                    SKColor c = bitmap.GetPixel(x, y);
                    int at = (y * cols) + x;
                    if (channels == 1)
                    {
                        // The weights sum to 1000, so a grey pixel (R = G = B) keeps its value exactly.
                        pixels[at] = (byte)(((299 * c.Red) + (587 * c.Green) + (114 * c.Blue) + 500) / 1000);
                    }
                    else
                    {
                        pixels[at] = c.Red;
                        pixels[plane + at] = c.Green;
                        pixels[(2 * plane) + at] = c.Blue;
                    }
                }
            }

            return pixels;
        }
        finally
        {
            if (!ReferenceEquals(bitmap, decoded))
            {
                bitmap.Dispose();
            }
        }
    }

    /// <summary>How <see cref="Read"/> resizes, as the identity records it.</summary>
    public const string ResizeFilter = "bilinear (SkiaSharp linear filter, no mipmaps)";

    private static readonly SKSamplingOptions ResizeSampling = new(SKFilterMode.Linear, SKMipmapMode.None);

    /// <summary>Writes <paramref name="pixels"/> (<paramref name="channels"/> planes of rows x cols) as a PNG: greyscale for one channel, RGB for three.</summary>
    public static void Write(string path, ReadOnlySpan<byte> pixels, int rows, int cols, int channels)
    {
        if (channels == 1)
        {
            WriteGray(path, pixels, rows, cols);
            return;
        }

        int plane = rows * cols;
        using var bitmap = new SKBitmap(new SKImageInfo(cols, rows, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < rows; y++)
        {
            for (int x = 0; x < cols; x++)
            {
                int at = (y * cols) + x;
                bitmap.SetPixel(x, y, new SKColor(pixels[at], pixels[plane + at], pixels[(2 * plane) + at]));
            }
        }

        using SKData data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        IO.AtomicFile.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>Writes <paramref name="pixels"/> (rows x cols, one byte each) as a greyscale PNG.</summary>
    public static void WriteGray(string path, ReadOnlySpan<byte> pixels, int rows, int cols)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(cols, rows, SKColorType.Gray8, SKAlphaType.Opaque));
        for (int y = 0; y < rows; y++)
        {
            for (int x = 0; x < cols; x++)
            {
                byte v = pixels[(y * cols) + x];
                bitmap.SetPixel(x, y, new SKColor(v, v, v));
            }
        }

        using SKData data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        IO.AtomicFile.WriteAllBytes(path, data.ToArray());
    }
}
