using Experiments.Runtime;

namespace Experiments.Catalog;

/// <summary>Every experiment of the seed notebooks.</summary>
public static class Catalog
{
    public static IReadOnlyList<IExperiment> All { get; } = [new MnistMlpRmsProp()];
}
