using Experiments.Runtime.Data;
using Experiments.Runtime.IO;
using Experiments.Runtime.Training;
using SkiaSharp;

namespace Experiments.Runtime.Reports;

/// <summary>
/// Grids of dataset images as PNG: the misclassified test images per true class, and sample images per class.
/// Drawn with SkiaSharp (ScottPlot's own renderer) because ScottPlot has no image-grid plot: each cell is a scaled
/// grayscale bitmap with a caption, which a chart type would only get in the way of.
/// </summary>
public static class Gallery
{
    public const int Scale = 2;
    public const int PerRow = 12;
    private const int Caption = 16;
    private const int Gap = 6;
    private const int LabelWidth = 120;
    private const int TitleHeight = 34;

    /// <summary>misclassified.png: one row per true class, its first <see cref="PerRow"/> misclassified test images, captioned with the prediction.</summary>
    /// <param name="images">The test examples the result's metrics refer to (<see cref="TrainedRun.TestImages"/>).</param>
    public static void Misclassified(ExperimentResult result, ImageSet images, string path)
    {
        IReadOnlyList<string> names = result.TestConfusion.ClassNames;
        List<(int Index, string Caption)>[] rows = names.Select((_, c) => result.Misclassified
            .Where(m => m.Actual == c).OrderBy(m => m.Index).Take(PerRow)
            .Select(m => (m.Index, "as " + names[m.Predicted])).ToList()).ToArray();
        int total = result.Misclassified.Count;
        Draw(images, names, rows, $"{result.Identity.Experiment}: {total} of {images.Count} test images misclassified (row: true class)", path);
    }

    /// <summary>samples.png: the first <see cref="PerRow"/> test images of every class.</summary>
    public static void Samples(ImageSet images, IReadOnlyList<string> names, string title, string path)
    {
        List<(int Index, string Caption)>[] rows = names.Select((_, c) => Enumerable.Range(0, images.Count)
            .Where(i => images.Labels[i] == c).Take(PerRow).Select(i => (i, $"#{i}")).ToList()).ToArray();
        Draw(images, names, rows, title, path);
    }

    /// <summary>The picture's size: cells are as wide as the widest caption (class names such as "Ankle boot" need room).</summary>
    public static (int Width, int Height, int Pitch) Size(ImageSet images, int classes, float widestCaption) =>
        (LabelWidth + PerRow * Pitch(images, widestCaption) + Gap, TitleHeight + classes * (images.Rows * Scale + Caption + Gap) + Gap, Pitch(images, widestCaption));

    private static int Pitch(ImageSet images, float widestCaption) => Math.Max(images.Cols * Scale, (int)Math.Ceiling(widestCaption)) + Gap;

    private static void Draw(ImageSet images, IReadOnlyList<string> names, List<(int Index, string Caption)>[] rows, string title, string path)
    {
        using var typeface = SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default;
        using var titleFont = new SKFont(typeface, 16);
        using var labelFont = new SKFont(typeface, 13);
        using var captionFont = new SKFont(typeface, 11);
        float widest = rows.SelectMany(r => r).Select(c => captionFont.MeasureText(c.Caption)).DefaultIfEmpty(0).Max();
        (int width, int height, int pitch) = Size(images, names.Count, widest);
        int cellWidth = images.Cols * Scale;
        int cellHeight = images.Rows * Scale;
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        SKCanvas canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var faint = new SKPaint { Color = new SKColor(0x70, 0x70, 0x70), IsAntialias = true };
        canvas.DrawText(title, Gap, 22, SKTextAlign.Left, titleFont, ink);

        for (int r = 0; r < rows.Length; r++)
        {
            int top = TitleHeight + r * (cellHeight + Caption + Gap);
            canvas.DrawText(names[r], Gap, top + cellHeight / 2 + 5, SKTextAlign.Left, labelFont, ink);
            if (rows[r].Count == 0)
            {
                canvas.DrawText("none", LabelWidth, top + cellHeight / 2 + 5, SKTextAlign.Left, captionFont, faint);
            }

            for (int c = 0; c < rows[r].Count; c++)
            {
                int left = LabelWidth + c * pitch;
                float centre = left + (pitch - Gap) / 2f;
                using SKBitmap bitmap = Bitmap(images, rows[r][c].Index);
                canvas.DrawBitmap(bitmap, new SKRect(centre - cellWidth / 2f, top, centre + cellWidth / 2f, top + cellHeight));
                canvas.DrawText(rows[r][c].Caption, centre, top + cellHeight + 12, SKTextAlign.Center, captionFont, ink);
            }
        }

        using SKImage image = surface.Snapshot();
        using SKData png = image.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.Write(path, png.SaveTo);
    }

    /// <summary>One dataset image: a grey one as dark ink on white like the notebooks' plt.imshow(cmap='binary'); a colour one in its colours.</summary>
    private static SKBitmap Bitmap(ImageSet images, int index)
    {
        if (images.Channels == 3)
        {
            var colour = new SKBitmap(new SKImageInfo(images.Cols, images.Rows, SKColorType.Rgba8888, SKAlphaType.Opaque));
            int plane = images.Rows * images.Cols;
            long first = (long)index * images.PixelsPerImage;
            for (int y = 0; y < images.Rows; y++)
            {
                for (int x = 0; x < images.Cols; x++)
                {
                    long at = first + (y * images.Cols) + x;
                    colour.SetPixel(x, y, new SKColor(images.Images[at], images.Images[at + plane], images.Images[at + (2 * plane)]));
                }
            }

            return colour;
        }

        var bitmap = new SKBitmap(new SKImageInfo(images.Cols, images.Rows, SKColorType.Gray8, SKAlphaType.Opaque));
        byte[] pixels = images.Picture(index).Select(v => (byte)(255 - v)).ToArray();

        nint start = bitmap.GetPixels();
        for (int row = 0; row < images.Rows; row++)
        {
            System.Runtime.InteropServices.Marshal.Copy(pixels, row * images.Cols, start + row * bitmap.RowBytes, images.Cols);
        }

        return bitmap;
    }
}
