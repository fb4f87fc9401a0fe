using System.Text;

namespace Experiments.Runtime.Reports;

/// <summary>
/// GitHub-flavoured Markdown tables that render as tables: a blank line before and after (cmark-gfm otherwise reads a
/// table right under a list item as that item's text), pipes in cells escaped, the first column left-aligned and the
/// others right-aligned unless told otherwise.
/// </summary>
public static class MarkdownTable
{
    /// <param name="leftAligned">How many leading columns are left-aligned (text); the rest are numbers.</param>
    public static string Render(IReadOnlyList<IReadOnlyList<string>> rows, int leftAligned = 1)
    {
        var text = new StringBuilder("\n");
        text.Append("| ").Append(string.Join(" | ", rows[0].Select(Cell))).Append(" |\n");
        text.Append('|').Append(string.Join('|', rows[0].Select((_, i) => i < leftAligned ? "---" : "---:"))).Append("|\n");
        foreach (IReadOnlyList<string> row in rows.Skip(1))
        {
            text.Append("| ").Append(string.Join(" | ", row.Select(Cell))).Append(" |\n");
        }

        return text.Append('\n').ToString();
    }

    /// <summary>A collapsible block (GitHub renders &lt;details&gt;); the blank lines let Markdown inside it render.</summary>
    public static string Details(string summary, string body) => $"<details><summary>{System.Net.WebUtility.HtmlEncode(summary)}</summary>\n\n{body.Trim('\n')}\n\n</details>\n\n";

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
