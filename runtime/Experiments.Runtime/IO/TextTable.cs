using System.Text;

namespace Experiments.Runtime.IO;

/// <summary>
/// Aligned plain-text tables (snapshots, `diff`, `list`): columns two spaces apart, each padded to its widest cell,
/// left-aligned names and right-aligned numbers, no trailing spaces, "\n" line ends.
/// </summary>
public static class TextTable
{
    /// <param name="rows">The header first, then the rows; every row has the same number of cells.</param>
    /// <param name="leftAligned">How many leading columns are left-aligned (names); the rest are right-aligned (numbers).</param>
    /// <param name="indent">Put before every line.</param>
    public static string Render(IReadOnlyList<IReadOnlyList<string>> rows, int leftAligned = 1, string indent = "")
    {
        int columns = rows[0].Count;
        int[] widths = Enumerable.Range(0, columns).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (IReadOnlyList<string> row in rows)
        {
            var line = new StringBuilder(indent);
            for (int c = 0; c < columns; c++)
            {
                if (c > 0)
                {
                    line.Append("  ");
                }

                line.Append(c < leftAligned ? row[c].PadRight(widths[c]) : row[c].PadLeft(widths[c]));
            }

            text.Append(line.ToString().TrimEnd()).Append('\n');
        }

        return text.ToString();
    }
}
