using Experiments.Runtime.Data;
using Experiments.Runtime.Randomness;
using Xunit;

namespace Experiments.Runtime.Tests;

public sealed class SplitTests
{
    private static byte[] Labels(int count) => Enumerable.Range(0, count).Select(i => (byte)((i * 7) % 10)).ToArray();

    [Fact]
    public void Xoshiro_matches_the_reference_implementation()
    {
        // Reference: xoshiro256** seeded through SplitMix64 (Vigna's C code; the same values as rand_xoshiro's seed_from_u64).
        var zero = new Xoshiro256StarStar(0);
        Assert.Equal(0x99ec5f36cb75f2b4UL, zero.NextUInt64());
        Assert.Equal(0xbf6e1f784956452aUL, zero.NextUInt64());
        Assert.Equal(0x1a5f849d4933e6e0UL, zero.NextUInt64());
        var fortyTwo = new Xoshiro256StarStar(42);
        Assert.Equal(0x15780b2e0c2ec716UL, fortyTwo.NextUInt64());
    }

    [Fact]
    public void Same_seed_gives_the_same_indices_and_another_seed_does_not()
    {
        byte[] labels = Labels(1000);
        DataSplit a = DataSplit.Create(ValidationSpec.Seeded(0.2), labels, 7);
        DataSplit b = DataSplit.Create(ValidationSpec.Seeded(0.2), labels, 7);
        DataSplit c = DataSplit.Create(ValidationSpec.Seeded(0.2), labels, 8);
        Assert.Equal(a.Validation, b.Validation);
        Assert.Equal(a.Train, b.Train);
        Assert.NotEqual(a.Validation, c.Validation);
    }

    [Fact]
    public void Stratified_split_keeps_each_class_share_and_partitions_the_data()
    {
        byte[] labels = Labels(1000);
        DataSplit split = DataSplit.Create(ValidationSpec.Seeded(0.2, stratified: true), labels, 1);
        Assert.Equal(200, split.Validation.Length);
        Assert.All(split.Validation.GroupBy(i => labels[i]), g => Assert.Equal(20, g.Count()));
        Assert.Equal(Enumerable.Range(0, 1000), split.Train.Concat(split.Validation).Order());
    }

    [Fact]
    public void Keras_tail_split_takes_the_last_fraction_unshuffled()
    {
        DataSplit split = DataSplit.Create(ValidationSpec.KerasTail(0.2), Labels(60000), 123);
        Assert.Equal(Enumerable.Range(0, 48000), split.Train);
        Assert.Equal(Enumerable.Range(48000, 12000), split.Validation);
    }

    [Fact]
    public void Test_set_validation_trains_on_everything()
    {
        DataSplit split = DataSplit.Create(ValidationSpec.TestSet, Labels(50), 1);
        Assert.True(split.ValidationIsTestSet);
        Assert.Equal(50, split.Train.Length);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    public void Validation_fraction_outside_zero_one_is_rejected(double fraction)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ValidationSpec.KerasTail(fraction));
        Assert.Contains("strictly between 0 and 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Streams_for_different_purposes_and_epochs_are_independent()
    {
        ulong split = SeedStreams.Derive(42, SeedPurpose.Split);
        ulong init = SeedStreams.Derive(42, SeedPurpose.WeightInit);
        ulong shuffle0 = SeedStreams.Derive(42, SeedPurpose.Shuffle, 0);
        ulong shuffle1 = SeedStreams.Derive(42, SeedPurpose.Shuffle, 1);
        Assert.Equal(4, new[] { split, init, shuffle0, shuffle1 }.Distinct().Count());
        Assert.NotEqual(
            SeedStreams.Create(42, SeedPurpose.Shuffle, 0).Permutation(100),
            SeedStreams.Create(42, SeedPurpose.Shuffle, 1).Permutation(100));
    }

    [Fact]
    public void Subset_is_seeded_stratified_and_exact_in_size()
    {
        byte[] labels = Labels(5000);
        int[] a = DataSplit.Subset(labels, 1000, 3);
        Assert.Equal(1000, a.Length);
        Assert.Equal(a, DataSplit.Subset(labels, 1000, 3));
        Assert.All(a.GroupBy(i => labels[i]), g => Assert.InRange(g.Count(), 99, 101));
        Assert.Equal(a.Length, a.Distinct().Count());
    }

    [Fact]
    public void A_data_plan_composes_subset_and_split_into_file_indices()
    {
        byte[] trainLabels = Labels(3000);
        byte[] testLabels = Labels(500);
        DataPlan plan = DataPlan.Create(trainLabels, testLabels, ValidationSpec.KerasTail(0.25), seed: 4, trainLimit: 1000, testLimit: 200);
        int[] subset = DataSplit.Subset(trainLabels, 1000, 4, stream: 0);

        Assert.Equal(subset[..750], plan.Train);
        Assert.Equal(subset[750..], plan.Validation);
        Assert.False(plan.ValidationIsTestSet);
        Assert.Equal(DataSplit.Subset(testLabels, 200, 4, stream: 1), plan.Test);
        Assert.All(plan.Train.Concat(plan.Validation), i => Assert.InRange(i, 0, 2999));
        Assert.Equal(1000, plan.Train.Concat(plan.Validation).Distinct().Count());
    }

    [Fact]
    public void A_data_plan_orders_each_epoch_differently_and_reproducibly()
    {
        DataPlan plan = DataPlan.Create(Labels(600), Labels(100), ValidationSpec.TestSet, seed: 9);
        int[] first = plan.EpochOrder(0);
        Assert.Equal(Enumerable.Range(0, 600), first.Order());
        Assert.Equal(first, DataPlan.Create(Labels(600), Labels(100), ValidationSpec.TestSet, seed: 9).EpochOrder(0));
        Assert.NotEqual(first, plan.EpochOrder(1));
        Assert.NotEqual(first, DataPlan.Create(Labels(600), Labels(100), ValidationSpec.TestSet, seed: 10).EpochOrder(0));
        Assert.True(plan.ValidationIsTestSet);
        Assert.Empty(plan.Validation);
        Assert.Equal(Enumerable.Range(0, 100), plan.Test);
    }
}
