using System.Text.RegularExpressions;

namespace Experiments.Runtime.Hosting;

/// <summary>Picks experiments by exact name or glob (* and ?), in registry order.</summary>
public static class ExperimentSelector
{
    public static IReadOnlyList<IExperiment> Select(IReadOnlyList<IExperiment> registry, IReadOnlyList<string> patterns)
    {
        if (patterns.Count == 0)
        {
            throw new UsageException("Name at least one experiment or glob, e.g. `run mnist-*`. `list` shows the names.");
        }

        var chosen = new List<IExperiment>();
        foreach (string pattern in patterns)
        {
            var regex = new Regex("^" + Regex.Escape(pattern).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant);
            List<IExperiment> matches = registry.Where(e => regex.IsMatch(e.Info.Name)).ToList();
            if (matches.Count == 0)
            {
                string near = string.Join(", ", registry.Select(e => e.Info.Name).Order(StringComparer.Ordinal));
                throw new UsageException($"No experiment matches '{pattern}'. Known experiments: {near}.");
            }

            chosen.AddRange(matches.Where(m => !chosen.Contains(m)));
        }

        return chosen;
    }
}
