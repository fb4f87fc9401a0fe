using System.Collections.Concurrent;
using Experiments.Runtime.Randomness;

namespace Experiments.Runtime.Data;

/// <summary>
/// A declaration's image folder (Dataset.ImageFolder), as the generator emits it: where it is, the images' declared
/// size and channels, the held-out share when it has no test folder, whether other sizes are resized, and how many
/// classes the model tells apart.
/// </summary>
public sealed record ImageFolderSource(string Path, int Height, int Width, int Channels, double TestFraction, bool Resize, int classes)
{
    /// <summary>The model's outputs per example; the folder must have as many classes.</summary>
    public int Classes { get; } = classes;

    /// <summary>The file extensions read as images (case-insensitive); other files are ignored.</summary>
    public static IReadOnlySet<string> Extensions { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

    /// <summary>
    /// The folder on this machine: an absolute path as it is; a relative one from <paramref name="start"/> (the current
    /// directory) and then from each directory above it, the first that exists.
    /// </summary>
    public string Resolve(string? start = null) => Datasets.Resolve(Path, directory: true, "create it with train/<class>/ image files", start);
}

/// <summary>
/// Reads an image folder: DataPath/train/&lt;class&gt;/*.png|jpg|... and optionally DataPath/test/&lt;class&gt;/...
/// Classes are the train folder's subfolders in ordinal order of their names (Keras' alphanumeric order, made
/// culture-independent); files within a class in ordinal order of their names. Without a test folder, a stratified
/// share of each class is held out, seeded by the content identity of the train folder: every experiment and every
/// seed on the same images tests on the same ones, and changing one pixel draws a new split as it makes a new dataset.
/// </summary>
public static class ImageFolder
{
    /// <summary>The loaded folders of this process, keyed by their path, the declaration's source and every file's size and time.</summary>
    private static readonly ConcurrentDictionary<string, ImageDataset> Loaded = new(StringComparer.Ordinal);

    public static ImageDataset Load(ImageFolderSource source, string? start = null)
    {
        string root = source.Resolve(start);
        string trainRoot = Path.Combine(root, "train");
        string testRoot = Path.Combine(root, "test");
        if (!Directory.Exists(trainRoot))
        {
            throw new DatasetException($"{root} has no train folder; put each class's images in {Path.Combine(root, "train", "<class>")}.");
        }

        List<(string Name, string[] Files)> trainClasses = Classes(trainRoot);
        List<(string Name, string[] Files)>? testClasses = Directory.Exists(testRoot) ? Classes(testRoot) : null;
        string key = string.Join("|", new[] { root, source.ToString() }.Concat(
            trainClasses.Concat(testClasses ?? []).SelectMany(c => c.Files).Select(f =>
            {
                var file = new FileInfo(f);
                return $"{file.FullName}:{file.Length}:{file.LastWriteTimeUtc.Ticks}";
            })));
        return Loaded.GetOrAdd(key, _ => Read(source, root, trainClasses, testClasses));
    }

    /// <summary>How the images were made into tensors, as the dataset's key records it.</summary>
    private static string Describe(ImageFolderSource source) =>
        $"{source.Height}x{source.Width}x{source.Channels}{(source.Resize ? ", resized " + ImageFiles.ResizeFilter : "")}";

    private static ImageDataset Read(ImageFolderSource source, string root, List<(string Name, string[] Files)> trainClasses, List<(string Name, string[] Files)>? testClasses)
    {
        string[] names = trainClasses.Select(c => c.Name).ToArray();
        if (names.Length < 2)
        {
            throw new DatasetException($"{Path.Combine(root, "train")} has {names.Length} class folder{(names.Length == 1 ? "" : "s")}; a classifier needs at least two (one subfolder per class).");
        }

        if (names.Length > 256)
        {
            throw new DatasetException($"{Path.Combine(root, "train")} has {names.Length} class folders; at most 256 classes are supported.");
        }

        if (source.Classes != names.Length)
        {
            throw new DatasetException(
                $"The model gives {source.Classes} outputs but {Path.Combine(root, "train")} has {names.Length} classes ({Preview(names)}); end the model with Dense({names.Length}, Activation.Softmax).");
        }

        if (testClasses is not null)
        {
            string? unknown = testClasses.Select(c => c.Name).FirstOrDefault(n => !names.Contains(n, StringComparer.Ordinal));
            if (unknown is not null)
            {
                throw new DatasetException($"{Path.Combine(root, "test", unknown)} is a class that {Path.Combine(root, "train")} does not have; every test class needs training images (classes: {Preview(names)}).");
            }
        }

        ImageSet train = Decode(source, trainClasses, names);
        ImageSet test;
        if (testClasses is not null)
        {
            test = Decode(source, testClasses, names);
        }
        else
        {
            // The held-out split is drawn from the train folder's own content, so it is part of what the data is.
            (train, test) = ImageDataset.HoldOut(names, train, source.TestFraction, Path.Combine(root, "train"));
        }

        return new ImageDataset($"image-folder:{source.Path} ({Describe(source)}{(testClasses is null ? $", test {source.TestFraction} held out" : "")})", names, train, test)
        {
            ContentSha256 = ImageDataset.ContentHash(names, train, test),
        };
    }

    /// <summary>The class folders of <paramref name="folder"/> in ordinal order, each with its image files in ordinal order.</summary>
    private static List<(string Name, string[] Files)> Classes(string folder)
    {
        var classes = new List<(string, string[])>();
        foreach (string directory in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
        {
            string[] files = Directory.GetFiles(directory)
                .Where(f => ImageFolderSource.Extensions.Contains(Path.GetExtension(f)))
                .Order(StringComparer.Ordinal)
                .ToArray();
            if (files.Length == 0)
            {
                throw new DatasetException($"{directory} holds no images ({string.Join(", ", ImageFolderSource.Extensions.Order(StringComparer.Ordinal))}); add some or remove the folder.");
            }

            classes.Add((Path.GetFileName(directory), files));
        }

        return classes;
    }

    private static ImageSet Decode(ImageFolderSource source, List<(string Name, string[] Files)> classes, string[] names)
    {
        int count = classes.Sum(c => c.Files.Length);
        int size = source.Height * source.Width * source.Channels;
        byte[] images = new byte[(long)count * size];
        byte[] labels = new byte[count];
        var work = classes.SelectMany(c => c.Files.Select(f => (File: f, Label: (byte)Array.IndexOf(names, c.Name)))).ToArray();

        // Decoding is independent per file and each writes its own slice, so the result does not depend on the order.
        // A bad file is reported as itself (the first in file order, whichever thread met it), not as an aggregate.
        var errors = new Exception?[work.Length];
        Parallel.For(0, work.Length, i =>
        {
            try
            {
                byte[] pixels = ImageFiles.Read(work[i].File, source.Height, source.Width, source.Channels, source.Resize);
                pixels.CopyTo(images, (long)i * size);
                labels[i] = work[i].Label;
            }
            catch (Exception e)
            {
                errors[i] = e;
            }
        });
        if (errors.FirstOrDefault(e => e is not null) is { } first)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }

        return new ImageSet(images, labels, source.Height, source.Width, source.Channels);
    }

    private static string Preview(IReadOnlyList<string> names) =>
        names.Count <= 12 ? string.Join(", ", names) : string.Join(", ", names.Take(12)) + $", ... {names.Count - 12} more";
}
