using System.Globalization;

namespace Experiments.Runtime.Data;

/// <summary>Writes images of a dataset as an image folder (the layout <see cref="ImageFolder"/> reads).</summary>
public static class ImageFolderWriter
{
    /// <summary>
    /// The first <paramref name="trainPerClass"/> training and <paramref name="testPerClass"/> test images of each class
    /// (in the dataset's order) as PNG files named by their index in the set, so that ordinal order is the dataset's
    /// order. Written into a staging folder beside <paramref name="folder"/> and renamed at the end: an interrupted
    /// write leaves no half-made folder.
    /// </summary>
    public static (int Train, int Test) Write(ImageDataset data, string folder, int trainPerClass, int testPerClass)
    {
        string target = Path.GetFullPath(folder);
        if (Directory.Exists(target) || File.Exists(target))
        {
            throw new DatasetException($"{target} exists already; remove it or choose another folder.");
        }

        string staging = target + ".partial-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        try
        {
            int train = WriteSet(data.Train, data.ClassNames, Path.Combine(staging, "train"), trainPerClass);
            int test = testPerClass > 0 ? WriteSet(data.Test, data.ClassNames, Path.Combine(staging, "test"), testPerClass) : 0;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            Directory.Move(staging, target);
            return (train, test);
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>A class name as a folder name: characters a file system may refuse become '-' (Fashion-MNIST's "T-shirt/top").</summary>
    public static string FolderName(string className) =>
        string.Concat(className.Select(c => Path.GetInvalidFileNameChars().Contains(c) || c is '/' or '\\' or ':' ? '-' : c));

    private static int WriteSet(ImageSet set, IReadOnlyList<string> classNames, string folder, int perClass)
    {
        int written = 0;
        for (int label = 0; label < classNames.Count; label++)
        {
            string classFolder = Path.Combine(folder, FolderName(classNames[label]));
            Directory.CreateDirectory(classFolder);
            foreach (int index in Enumerable.Range(0, set.Count).Where(i => set.Labels[i] == label).Take(perClass))
            {
                ImageFiles.Write(
                    Path.Combine(classFolder, index.ToString("D5", CultureInfo.InvariantCulture) + ".png"),
                    set.Picture(index), set.Rows, set.Cols, set.Channels);
                written++;
            }
        }

        return written;
    }
}
