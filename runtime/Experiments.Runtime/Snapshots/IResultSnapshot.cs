namespace Experiments.Runtime.Snapshots;

/// <summary>
/// An approved (or received) result as a file: one seed (<see cref="SnapshotDocument"/>) or several
/// (<see cref="SeedSnapshot"/>). What every stage does with either, it does through this: read the text back
/// (<see cref="Parse"/>), write it (<see cref="Render"/>), say how a repeat differs (<see cref="CompareExactly"/>)
/// and carry the kernel spread an approval measured.
/// </summary>
public interface IResultSnapshot<TSelf>
    where TSelf : IResultSnapshot<TSelf>
{
    string Experiment { get; }

    string Profile { get; }

    /// <summary>The result under other CPU kernel sets, measured at approval; null when none was.</summary>
    KernelEnvelope? Kernels { get; }

    /// <summary>How messages name what was run: "'NAME' (PROFILE)", or "the 3 seeds of 'NAME' (PROFILE)".</summary>
    string Subject { get; }

    /// <summary>The same snapshot with <paramref name="kernels"/> as its kernel spread.</summary>
    TSelf WithKernels(KernelEnvelope? kernels);

    string Render();

    /// <param name="source">The file (or description) named in a parse error.</param>
    static abstract TSelf Parse(string text, string source);

    /// <summary>Every field in which <paramref name="received"/> is not bit for bit <paramref name="approved"/>.</summary>
    static abstract SnapshotComparison CompareExactly(TSelf approved, TSelf received);
}
