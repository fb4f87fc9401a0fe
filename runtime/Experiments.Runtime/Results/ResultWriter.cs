namespace Experiments.Runtime.Results;

/// <summary>Writes a result folder all at once: files go to a temporary sibling folder that is renamed into place.</summary>
public static class ResultWriter
{
    public static string Write(ExperimentResult result, string outputRoot)
    {
        Directory.CreateDirectory(outputRoot);
        string target = Path.Combine(outputRoot, result.Identity.Experiment);
        string staging = Path.Combine(outputRoot, $".{result.Identity.Experiment}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(staging);
        try
        {
            File.WriteAllText(Path.Combine(staging, "metrics.json"), MetricsJson.Metrics(result));
            File.WriteAllText(Path.Combine(staging, "timing.json"), MetricsJson.Timing(result));
            File.WriteAllText(Path.Combine(staging, "misclassified.json"), MetricsJson.Misclassified(result));
            if (Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
            }

            Directory.Move(staging, target);
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }

        return target;
    }
}
