namespace Experiments.Runtime.Data;

/// <summary>One split of an image-classification dataset in memory: N images of Rows x Cols bytes and N labels.</summary>
public sealed record ImageSet(byte[] Images, byte[] Labels, int Rows, int Cols)
{
    public int Count => Labels.Length;

    public int PixelsPerImage => Rows * Cols;

    /// <summary>The examples at <paramref name="indices"/>, in that order.</summary>
    public ImageSet Select(IReadOnlyList<int> indices)
    {
        int pixels = PixelsPerImage;
        byte[] images = new byte[indices.Count * pixels];
        byte[] labels = new byte[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            Array.Copy(Images, (long)indices[i] * pixels, images, (long)i * pixels, pixels);
            labels[i] = Labels[indices[i]];
        }

        return new ImageSet(images, labels, Rows, Cols);
    }
}

/// <summary>A dataset's train and test sets, read from verified IDX files.</summary>
public sealed record ImageDataset(DatasetSpec Spec, ImageSet Train, ImageSet Test)
{
    public int ClassCount => Spec.ClassNames.Count;

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
}
