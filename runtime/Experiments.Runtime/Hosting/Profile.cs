namespace Experiments.Runtime.Hosting;

/// <summary>A named way of running the catalog: how much data and how many epochs.</summary>
public sealed record Profile(string Name, int? TrainLimit, int? TestLimit, int? MaxEpochs)
{
    /// <summary>The notebook's own settings.</summary>
    public static Profile Full { get; } = new("full", null, null, null);

    /// <summary>Same model and settings on a fixed seeded subset with fewer epochs: catches any change in behaviour quickly.</summary>
    public static Profile Smoke { get; } = new("smoke", 2000, 1000, 1);

    public static IReadOnlyList<Profile> BuiltIn { get; } = [Full, Smoke];

    public static Profile Find(string name) =>
        BuiltIn.FirstOrDefault(p => p.Name == name)
        ?? throw new UsageException($"Unknown profile '{name}'. Known profiles: {string.Join(", ", BuiltIn.Select(p => p.Name))}.");
}

/// <summary>The command line was wrong; the message says how to fix it. Exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>A run could not complete; the message says why. Exit code 1.</summary>
public sealed class RunFailedException(string message) : Exception(message);
