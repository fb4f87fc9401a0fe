namespace Experiments.Runtime.Data;

/// <summary>The one place that turns a declaration's dataset into examples: a built-in one or the user's folder.</summary>
public static class Datasets
{
    /// <param name="data">Where built-in datasets are provisioned from (the command line's --data and friends).</param>
    public static ImageDataset Load(ExperimentInfo info, ProvisioningOptions? data = null, Action<string>? log = null) =>
        info.Folder is { } folder
            ? ImageFolder.Load(folder)
            : ImageDataset.Load(DatasetSpec.For(info.Dataset), new DatasetProvisioner(data), log);
}
