using Experiments.Runtime.Randomness;

namespace Experiments.Runtime.Data;

/// <summary>Indices into the training file: which examples train and which validate.</summary>
public sealed record DataSplit(int[] Train, int[] Validation, bool ValidationIsTestSet)
{
    /// <summary>Splits <paramref name="labels"/> per <paramref name="validation"/>; the same seed always gives the same indices.</summary>
    public static DataSplit Create(ValidationSpec validation, IReadOnlyList<byte> labels, long experimentSeed)
    {
        int count = labels.Count;
        return validation switch
        {
            NoValidation => new DataSplit(Range(0, count), [], false),
            TestSetValidation => new DataSplit(Range(0, count), [], true),
            KerasTailValidation tail => TailSplit(count, tail.Fraction),
            SeededValidation seeded => SeededSplit(labels, seeded, SeedStreams.Create(experimentSeed, SeedPurpose.Split)),
            _ => throw new ArgumentOutOfRangeException(nameof(validation), validation, "Unknown validation kind."),
        };
    }

    /// <summary>Keras: split_at = floor(n * (1 - fraction)); train is [0, split_at), validation the rest.</summary>
    private static DataSplit TailSplit(int count, double fraction)
    {
        int splitAt = (int)Math.Floor(count * (1.0 - fraction));
        return new DataSplit(Range(0, splitAt), Range(splitAt, count - splitAt), false);
    }

    private static DataSplit SeededSplit(IReadOnlyList<byte> labels, SeededValidation spec, Xoshiro256StarStar random)
    {
        var validation = new List<int>();
        if (spec.Stratified)
        {
            foreach (IGrouping<byte, int> group in Enumerable.Range(0, labels.Count).GroupBy(i => labels[i]).OrderBy(g => g.Key))
            {
                int[] members = group.ToArray();
                random.Shuffle(members);
                validation.AddRange(members.Take((int)Math.Round(members.Length * spec.Fraction, MidpointRounding.ToEven)));
            }
        }
        else
        {
            int[] all = random.Permutation(labels.Count);
            validation.AddRange(all.Take((int)Math.Round(labels.Count * spec.Fraction, MidpointRounding.ToEven)));
        }

        var inValidation = new bool[labels.Count];
        validation.ForEach(i => inValidation[i] = true);
        int[] train = Enumerable.Range(0, labels.Count).Where(i => !inValidation[i]).ToArray();
        int[] sortedValidation = validation.Order().ToArray();
        return new DataSplit(train, sortedValidation, false);
    }

    /// <summary>A seeded subset of <paramref name="count"/> examples, stratified by class, in ascending index order.</summary>
    public static int[] Subset(IReadOnlyList<byte> labels, int count, long experimentSeed, int stream = 0)
    {
        if (count >= labels.Count)
        {
            return Range(0, labels.Count);
        }

        Xoshiro256StarStar random = SeedStreams.Create(experimentSeed, SeedPurpose.Subset, stream);
        var chosen = new List<int>();
        var groups = Enumerable.Range(0, labels.Count).GroupBy(i => labels[i]).OrderBy(g => g.Key).Select(g => g.ToArray()).ToList();
        int remaining = count;
        for (int g = 0; g < groups.Count; g++)
        {
            int[] members = groups[g];
            random.Shuffle(members);

            // Proportional share, with the rounding remainder given to the last classes so the total is exact.
            int take = g == groups.Count - 1 ? remaining : Math.Min(remaining, (int)((long)count * members.Length / labels.Count));
            chosen.AddRange(members.Take(take));
            remaining -= take;
        }

        return chosen.Order().ToArray();
    }

    private static int[] Range(int start, int count) => Enumerable.Range(start, count).ToArray();
}
