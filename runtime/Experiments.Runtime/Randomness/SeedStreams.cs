using System.Text;

namespace Experiments.Runtime.Randomness;

/// <summary>What a derived random stream is used for. Each purpose gets an independent stream.</summary>
public enum SeedPurpose
{
    Split,
    WeightInit,
    Shuffle,
    Dropout,
    Subset,
    Augmentation,
}

/// <summary>
/// Derives independent seeds from an experiment's seed, one per purpose (and per epoch for shuffling), so that
/// changing how one is used (say, the validation split) leaves the others (weights, batch order) untouched.
/// </summary>
/// <remarks>
/// Derivation: key = FNV-1a-64 of the purpose's name in UTF-8; seed' = SplitMix64.Mix(seed * phi ^ key), and
/// for an epoch, SplitMix64.Mix(seed' + epoch * phi). Documented here because results depend on it forever.
/// </remarks>
public static class SeedStreams
{
    private const ulong GoldenGamma = 0x9E3779B97F4A7C15UL;

    public static ulong Derive(long experimentSeed, SeedPurpose purpose)
    {
        ulong key = Fnv1a(purpose.ToString());
        return SplitMix64.Mix(unchecked(((ulong)experimentSeed * GoldenGamma) ^ key));
    }

    public static ulong Derive(long experimentSeed, SeedPurpose purpose, int index) =>
        SplitMix64.Mix(unchecked(Derive(experimentSeed, purpose) + ((ulong)(index + 1) * GoldenGamma)));

    public static Xoshiro256StarStar Create(long experimentSeed, SeedPurpose purpose) =>
        new(Derive(experimentSeed, purpose));

    public static Xoshiro256StarStar Create(long experimentSeed, SeedPurpose purpose, int index) =>
        new(Derive(experimentSeed, purpose, index));

    /// <summary>A seed for torch's own generator (it takes a signed 64-bit value).</summary>
    public static long TorchSeed(long experimentSeed, SeedPurpose purpose) =>
        (long)(Derive(experimentSeed, purpose) & 0x7FFF_FFFF_FFFF_FFFFUL);

    private static ulong Fnv1a(string text)
    {
        ulong hash = 0xcbf29ce484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 0x100000001b3UL;
        }

        return hash;
    }
}
