namespace Experiments.Runtime.Training;

/// <summary>Counts of (true class, predicted class): rows are the true classes, columns the predictions.</summary>
public sealed class ConfusionMatrix
{
    private readonly int[][] _counts;

    public ConfusionMatrix(IReadOnlyList<string> classNames, int[][] counts)
    {
        if (counts.Length != classNames.Count || counts.Any(r => r.Length != classNames.Count))
        {
            throw new ArgumentException($"A confusion matrix for {classNames.Count} classes must be {classNames.Count}x{classNames.Count}.", nameof(counts));
        }

        ClassNames = classNames;
        _counts = counts;
    }

    public IReadOnlyList<string> ClassNames { get; }

    public int this[int actual, int predicted] => _counts[actual][predicted];

    public int Total => _counts.Sum(r => r.Sum());

    /// <summary>
    /// The share of this matrix's examples whose (true, predicted) cell differs in <paramref name="other"/>: half the
    /// summed absolute cell differences over the example count. Matrices of different classes differ entirely (1).
    /// </summary>
    public double ShareMoved(ConfusionMatrix other)
    {
        if (!ClassNames.SequenceEqual(other.ClassNames))
        {
            return 1;
        }

        long moved = 0;
        for (int t = 0; t < ClassNames.Count; t++)
        {
            for (int p = 0; p < ClassNames.Count; p++)
            {
                moved += Math.Abs(other[t, p] - this[t, p]);
            }
        }

        return moved / 2.0 / Math.Max(1, Total);
    }

    /// <summary>
    /// The cells whose counts differ in <paramref name="received"/>, row by row (true class, then prediction): the one
    /// place every view (test message, diff, review) gets them from. Matrices of different classes have none in common.
    /// </summary>
    public IReadOnlyList<MovedCell> MovedCells(ConfusionMatrix received)
    {
        if (!ClassNames.SequenceEqual(received.ClassNames))
        {
            throw new ArgumentException($"The matrices' classes differ ({string.Join(", ", ClassNames)} vs {string.Join(", ", received.ClassNames)}); compare the class names first.", nameof(received));
        }

        var cells = new List<MovedCell>();
        for (int t = 0; t < ClassNames.Count; t++)
        {
            for (int p = 0; p < ClassNames.Count; p++)
            {
                if (received[t, p] != this[t, p])
                {
                    cells.Add(new MovedCell(ClassNames[t], ClassNames[p], this[t, p], received[t, p]));
                }
            }
        }

        return cells;
    }

    public int Correct => Enumerable.Range(0, _counts.Length).Sum(i => _counts[i][i]);

    public IReadOnlyList<IReadOnlyList<int>> Rows => _counts;

    public static ConfusionMatrix From(IReadOnlyList<string> classNames, IReadOnlyList<byte> actual, IReadOnlyList<int> predicted)
    {
        if (actual.Count != predicted.Count)
        {
            throw new ArgumentException($"{actual.Count} labels but {predicted.Count} predictions.", nameof(predicted));
        }

        int classes = classNames.Count;
        int[][] counts = Enumerable.Range(0, classes).Select(_ => new int[classes]).ToArray();
        for (int i = 0; i < actual.Count; i++)
        {
            counts[actual[i]][predicted[i]]++;
        }

        return new ConfusionMatrix(classNames, counts);
    }
}

/// <summary>One confusion cell whose count moved: examples of class <see cref="True"/> predicted as <see cref="Predicted"/>.</summary>
public sealed record MovedCell(string True, string Predicted, int Approved, int Received)
{
    public int Change => Received - Approved;
}
