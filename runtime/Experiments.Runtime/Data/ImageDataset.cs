using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Experiments.Runtime.Data;

/// <summary>
/// One split of an image-classification dataset in memory: N images of Channels x Rows x Cols bytes (channel planes
/// one after another, as the channels-first model takes them) and N labels.
/// </summary>
public sealed record ImageSet(byte[] Images, byte[] Labels, int Rows, int Cols, int Channels = 1)
{
    public int Count => Labels.Length;

    /// <summary>Bytes per image: every channel's plane (a table's values per row).</summary>
    public int PixelsPerImage => Rows * Cols * Channels;

    /// <summary>
    /// A table's rows as numbers (Rows 1, Cols the features, Channels 1), used as they are; <see cref="Images"/> is
    /// then empty. Null for images.
    /// </summary>
    public float[]? Values { get; init; }

    public bool IsTable => Values is not null;

    /// <summary>The brightest pixel value: 255, or 16 for scikit-learn's digits. Pictures of the images scale by it.</summary>
    public int Levels { get; init; } = 255;

    /// <summary>One image's pixels on the 0-255 scale of picture files.</summary>
    public byte[] Picture(int index) => Images.AsSpan(index * PixelsPerImage, PixelsPerImage).ToArray()
        .Select(v => Levels == 255 ? v : (byte)Math.Round(v * 255.0 / Levels, MidpointRounding.ToEven)).ToArray();

    /// <summary>The examples at <paramref name="indices"/>, in that order.</summary>
    public ImageSet Select(IReadOnlyList<int> indices)
    {
        int pixels = PixelsPerImage;
        byte[] images = new byte[IsTable ? 0 : indices.Count * pixels];
        float[]? values = IsTable ? new float[indices.Count * pixels] : null;
        byte[] labels = new byte[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            if (values is not null)
            {
                Array.Copy(Values!, (long)indices[i] * pixels, values, (long)i * pixels, pixels);
            }
            else
            {
                Array.Copy(Images, (long)indices[i] * pixels, images, (long)i * pixels, pixels);
            }

            labels[i] = Labels[indices[i]];
        }

        return new ImageSet(images, labels, Rows, Cols, Channels) { Values = values, Levels = Levels };
    }
}

/// <summary>A dataset's train and test sets: a built-in one read from verified IDX files, or an image folder.</summary>
/// <param name="Key">What the result's identity calls it: <c>mnist</c>, or <c>image-folder:PATH</c>.</param>
public sealed record ImageDataset(string Key, IReadOnlyList<string> ClassNames, ImageSet Train, ImageSet Test)
{
    public ImageDataset(DatasetSpec spec, ImageSet train, ImageSet test)
        : this(spec.Key, spec.ClassNames, train, test)
    {
    }

    public int ClassCount => ClassNames.Count;

    /// <summary>
    /// A train set without a test set of its own split in two: a stratified <paramref name="fraction"/> of each class
    /// becomes the test set, seeded by the content identity of <paramref name="train"/> (so every experiment and every
    /// seed on the same data tests on the same examples, and other data draws another split).
    /// </summary>
    public static (ImageSet Train, ImageSet Test) HoldOut(IReadOnlyList<string> classNames, ImageSet train, double fraction, string where)
    {
        string trainHash = ContentHash(classNames, train, null);
        long seed = (long)BinaryPrimitives.ReadUInt64BigEndian(Convert.FromHexString(trainHash));
        DataSplit split = DataSplit.Create(new SeededValidation(fraction, Stratified: true), train.Labels, seed);
        if (split.Validation.Length == 0)
        {
            throw new DatasetException($"{where}: a test share of {fraction} leaves no test examples; add examples{(train.IsTable ? "" : " or a test folder")}, or hold out more.");
        }

        return (train.Select(split.Train), train.Select(split.Validation));
    }

    /// <summary>
    /// The SHA-256 of the decoded data (sizes, class names, every image's pixels and label, train then test), for
    /// datasets whose files are not pinned: it enters the result's identity and the checkpoint key. Null for the
    /// built-in datasets, whose files are pinned by their own SHA-256.
    /// </summary>
    public string? ContentSha256 { get; init; }

    /// <summary>
    /// The dataset's files, provisioned if needed, read once per process: later runs (the seeds of a multi-seed run,
    /// the experiments of one `run`) reuse the arrays while the files keep their size and time. The sets are never
    /// changed in place (selections copy), so sharing them is safe.
    /// </summary>
    public static ImageDataset Load(DatasetSpec spec, DatasetProvisioner? provisioner = null, Action<string>? log = null)
    {
        IReadOnlyList<string> paths = (provisioner ?? new DatasetProvisioner()).Provide(spec, log);
        string key = spec.Key + "|" + string.Join("|", paths.Select(path =>
        {
            var file = new FileInfo(path);
            return $"{file.FullName}:{file.Length}:{file.LastWriteTimeUtc.Ticks}";
        }));
        return Loaded.GetOrAdd(key, _ => FromFiles(spec, paths[0], paths[1], paths[2], paths[3]));
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, ImageDataset> Loaded = new(StringComparer.Ordinal);

    public static ImageDataset FromFiles(DatasetSpec spec, string trainImages, string trainLabels, string testImages, string testLabels) =>
        new(spec, ReadSet(spec, trainImages, trainLabels), ReadSet(spec, testImages, testLabels));

    private static ImageSet ReadSet(DatasetSpec spec, string imagesPath, string labelsPath)
    {
        IdxArray images = IdxFile.Read(imagesPath, expectedRank: 3);
        IdxArray labels = IdxFile.Read(labelsPath, expectedRank: 1);
        if (images.Count != labels.Count)
        {
            throw new DatasetException($"{imagesPath} holds {images.Count} images but {labelsPath} holds {labels.Count} labels; the files do not belong together.");
        }

        int classes = spec.ClassNames.Count;
        int bad = Array.FindIndex(labels.Values, l => l >= classes);
        if (bad >= 0)
        {
            throw new DatasetException($"{labelsPath}: label {labels.Values[bad]} at index {bad} is outside 0..{classes - 1} for {spec.DisplayName}.");
        }

        return new ImageSet(images.Values, labels.Values, images.Dimensions[1], images.Dimensions[2]);
    }

    /// <summary>
    /// SHA-256 over a versioned header, the sizes, the class names (UTF-8, each length-prefixed), then train's and
    /// test's counts, pixels (a table's numbers) and labels. File names and formats do not enter: two folders that decode to the same
    /// tensors are the same dataset.
    /// </summary>
    public static string ContentHash(IReadOnlyList<string> classNames, ImageSet train, ImageSet? test)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Int(long value)
        {
            Span<byte> bytes = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
            sha.AppendData(bytes);
        }

        sha.AppendData("experiments image dataset v1\n"u8);
        Int(train.Rows);
        Int(train.Cols);
        Int(train.Channels);
        Int(classNames.Count);
        foreach (string name in classNames)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(name);
            Int(utf8.Length);
            sha.AppendData(utf8);
        }

        foreach (ImageSet set in test is null ? [train] : new[] { train, test })
        {
            Int(set.Count);
            sha.AppendData(set.Images);
            if (set.Values is { } values)
            {
                // A table's numbers as float32, little-endian on every platform .NET runs on.
                sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            }

            sha.AppendData(set.Labels);
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
