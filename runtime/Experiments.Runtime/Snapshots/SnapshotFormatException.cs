namespace Experiments.Runtime.Snapshots;

/// <summary>A snapshot file could not be read; the message names the file and line.</summary>
public sealed class SnapshotFormatException(string path, int line, string problem)
    : Exception($"{path}({line}): {problem}. Snapshot files are written by approval; delete a damaged one and approve the run again.")
{
    public string FilePath { get; } = path;

    public int Line { get; } = line;
}
