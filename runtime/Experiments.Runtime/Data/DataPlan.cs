using Experiments.Runtime.Randomness;

namespace Experiments.Runtime.Data;

/// <summary>
/// Which examples a run uses and in what order, all from the experiment's seed: the training, validation and test
/// examples as indices into the dataset's files, and each epoch's batch order. The runner trains from it, and the
/// speed benchmark exports it so that the PyTorch reference sees the same examples in the same order.
/// </summary>
public sealed class DataPlan
{
    private readonly long _seed;

    private DataPlan(int[] train, int[] validation, bool validationIsTestSet, int[] test, long seed)
    {
        Train = train;
        Validation = validation;
        ValidationIsTestSet = validationIsTestSet;
        Test = test;
        _seed = seed;
    }

    /// <summary>Training examples, as indices into the training file, in the order that epoch orders index.</summary>
    public int[] Train { get; }

    /// <summary>Validation examples, as indices into the training file (empty when there are none or the test set validates).</summary>
    public int[] Validation { get; }

    /// <summary>validation_data=(x_test, y_test): the test examples validate.</summary>
    public bool ValidationIsTestSet { get; }

    /// <summary>Test examples, as indices into the test file.</summary>
    public int[] Test { get; }

    /// <param name="trainLimit">A seeded, class-stratified subset of the training file (the smoke profile); null uses it all.</param>
    /// <param name="testLimit">The same for the test file.</param>
    public static DataPlan Create(IReadOnlyList<byte> trainLabels, IReadOnlyList<byte> testLabels, ValidationSpec validation, long seed, int? trainLimit = null, int? testLimit = null)
    {
        int[] trainFile = trainLimit is { } t ? DataSplit.Subset(trainLabels, t, seed, stream: 0) : Enumerable.Range(0, trainLabels.Count).ToArray();
        int[] test = testLimit is { } e ? DataSplit.Subset(testLabels, e, seed, stream: 1) : Enumerable.Range(0, testLabels.Count).ToArray();
        byte[] labels = trainFile.Select(i => trainLabels[i]).ToArray();
        DataSplit split = DataSplit.Create(validation, labels, seed);
        return new DataPlan(
            split.Train.Select(i => trainFile[i]).ToArray(),
            split.Validation.Select(i => trainFile[i]).ToArray(),
            split.ValidationIsTestSet,
            test,
            seed);
    }

    /// <summary>The order of <see cref="Train"/>'s positions in epoch <paramref name="epoch"/> (0-based): batch b is positions [b*size, (b+1)*size).</summary>
    public int[] EpochOrder(int epoch) => SeedStreams.Create(_seed, SeedPurpose.Shuffle, epoch).Permutation(Train.Length);
}
