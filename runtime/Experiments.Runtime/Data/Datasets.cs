namespace Experiments.Runtime.Data;

/// <summary>The one place that turns a declaration's dataset into examples: a built-in one or the user's folder.</summary>
public static class Datasets
{
    /// <param name="data">Where built-in datasets are provisioned from (the command line's --data and friends).</param>
    public static ImageDataset Load(ExperimentInfo info, ProvisioningOptions? data = null, Action<string>? log = null) =>
        info switch
        {
            { Folder: { } folder } => ImageFolder.Load(folder),
            { Table: { } table } => Table.Load(table),
            { Dataset: Dataset.Iris or Dataset.Digits } => Table.LoadBuiltIn(
                DatasetSpec.For(info.Dataset), new DatasetProvisioner(data).Provide(DatasetSpec.For(info.Dataset), log)[0], info.TestFraction),
            _ => ImageDataset.Load(DatasetSpec.For(info.Dataset), new DatasetProvisioner(data), log),
        };

    /// <summary>
    /// A declared data path on this machine: an absolute path as it is; a relative one from <paramref name="start"/>
    /// (the current directory) and then from each directory above it, the first that exists.
    /// </summary>
    public static string Resolve(string path, bool directory, string howToMake, string? start = null)
    {
        bool Exists(string candidate) => directory ? Directory.Exists(candidate) : File.Exists(candidate);
        string what = directory ? "folder" : "file";
        if (Path.IsPathRooted(path))
        {
            return Exists(path) ? path : throw new DatasetException($"The data {what} {path} does not exist; {howToMake}, or fix DataPath.");
        }

        for (DirectoryInfo? folder = new(start ?? Directory.GetCurrentDirectory()); folder is not null; folder = folder.Parent)
        {
            string candidate = Path.Combine(folder.FullName, path);
            if (Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DatasetException(
            $"The data {what} '{path}' was found neither in {start ?? Directory.GetCurrentDirectory()} nor in a directory above it; run from the folder that holds it, or give DataPath as an absolute path.");
    }

    /// <summary>What `list` shows as the dataset: the built-in key, or where the user's data is.</summary>
    public static string Label(ExperimentInfo info) => info switch
    {
        { Folder: { } folder } => $"image-folder:{folder.Path}",
        { Table: { } table } => $"csv:{table.Path}",
        _ => DatasetSpec.For(info.Dataset).Key,
    };
}
