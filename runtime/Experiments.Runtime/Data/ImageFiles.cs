using SkiaSharp;

namespace Experiments.Runtime.Data;

/// <summary>
/// Image files as the datasets' examples: one byte per pixel, 0 black to 255 white, row by row. A colour image is
/// reduced to its luma (ITU-R BT.601 weights, rounded), which leaves a grey one as it is; decoding is SkiaSharp's.
/// </summary>
public static class ImageFiles
{
    /// <summary>The pixels of <paramref name="path"/>, which must be <paramref name="rows"/> x <paramref name="cols"/>.</summary>
    public static byte[] ReadGray(string path, int rows, int cols)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} does not exist.", path);
        }

        using SKBitmap? bitmap = SKBitmap.Decode(path)
            ?? throw new DatasetException($"{path} cannot be read as an image (PNG, JPEG, BMP, GIF or WebP).");
        if (bitmap.Width != cols || bitmap.Height != rows)
        {
            throw new DatasetException($"{path} is {bitmap.Width}x{bitmap.Height} pixels; the model takes {cols}x{rows} images. Resize it first.");
        }

        byte[] pixels = new byte[rows * cols];
        for (int y = 0; y < rows; y++)
        {
            for (int x = 0; x < cols; x++)
            {
                SKColor c = bitmap.GetPixel(x, y);
                // The weights sum to 1000, so a grey pixel (R = G = B) keeps its value exactly.
                pixels[(y * cols) + x] = (byte)(((299 * c.Red) + (587 * c.Green) + (114 * c.Blue) + 500) / 1000);
            }
        }

        return pixels;
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
