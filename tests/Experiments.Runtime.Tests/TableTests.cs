using System.Text.Json;
using Experiments.Runtime.Data;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>
/// The user's CSV files: the catalog's my-table (1,500 MNIST digits as 8x8 blocks, labels spelled as words) trained and
/// predicted through the command line, and small files for the parsing rules and their errors.
/// </summary>
public sealed class TableTests
{
    private static string Write(string text, string name = "table.csv")
    {
        string path = Path.Combine(TestEnvironment.TempDirectory("table"), name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Ten rows per class, two features each, the classes apart from each other.</summary>
    private static string Rows(Func<int, string> label, string header = "width,height,kind\n") =>
        header + string.Concat(Enumerable.Range(0, 30).Select(i => $"{i % 3}.{i % 10},{(i % 3) * 2 + 0.5},{label(i % 3)}\n"));

    [Fact]
    public void Names_are_classes_in_ordinal_order_and_whole_numbers_are_the_classes_as_given()
    {
        ImageDataset named = Table.Load(new TableSource(Write(Rows(c => new[] { "rose", "iris", "tulip" }[c])), 2, "kind", true, 0.2, 3));
        Assert.Equal(["iris", "rose", "tulip"], named.ClassNames);
        Assert.Equal((24, 6), (named.Train.Count, named.Test.Count));
        Assert.Equal(2, named.Test.Labels.Count(l => l == 0)); // stratified: a fifth of each class
        Assert.True(named.Train.IsTable);

        ImageDataset numbered = Table.Load(new TableSource(Write(Rows(c => (2 - c).ToString(System.Globalization.CultureInfo.InvariantCulture), header: "")), 2, "", false, 0.2, 3));
        Assert.Equal(["0", "1", "2"], numbered.ClassNames);

        // The label column by index, the features as written (not scaled).
        ImageDataset byIndex = Table.Load(new TableSource(Write("kind,a,b\nx,1.5,-2\ny,3,4e1\nx,5,6\ny,7,8\nx,9,10\ny,11,12\nx,13,14\ny,15,16\nx,17,18\ny,19,20\n"), 2, "0", true, 0.2, 2));
        float[] all = byIndex.Train.Values!.Concat(byIndex.Test.Values!).Order().ToArray();
        Assert.Equal([-2f, 1.5f, 3f, 5f, 6f], all.Take(5));
        Assert.Contains(40f, all);
    }

    [Fact]
    public void The_identity_is_the_numbers_not_their_spelling()
    {
        string text = Rows(c => "abc"[c].ToString());
        string a = Table.Load(new TableSource(Write(text), 2, "kind", true, 0.2, 3)).ContentSha256!;
        string b = Table.Load(new TableSource(Write(text.Replace(",0.5,", ",0.50,", StringComparison.Ordinal)), 2, "kind", true, 0.2, 3)).ContentSha256!;
        string c = Table.Load(new TableSource(Write(text.Replace(",0.5,", ",0.51,", StringComparison.Ordinal)), 2, "kind", true, 0.2, 3)).ContentSha256!;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    public static TheoryData<string, string, int, string, string> BadTables => new()
    {
        { "w,h,k\n1,2,a\n1,x,b\n", "k", 2, "line 3, column 2 ('h'): 'x' is not a number", "features must be numbers" },
        { "w,h,k\n1,2,a\n1,,b\n", "k", 2, "line 3, column 2 ('h'): the cell is empty", "features must be numbers" },
        { "w,h,k\n1,2,a\n1,2\n", "k", 2, "line 3: 2 columns, but the first row has 3", "every row needs the same columns" },
        { "w,h,k\n1,2,a\n1,2,b\n", "kind", 2, "has no column 'kind' (its columns: w, h, k)", "fix LabelColumn" },
        { "w,h,k\n1,2,a\n1,2,b\n", "k", 3, "has 2 feature columns besides the label, but the declaration says Features = 3", "declare Features = 2" },
        { "w,h,k\n", "k", 2, "has no rows after its header line", "add one row per example" },
    };

    [Theory]
    [MemberData(nameof(BadTables))]
    public void A_bad_table_is_an_error_naming_the_line_and_column_and_the_fix(string text, string label, int features, string problem, string fix)
    {
        string path = Write(text);
        DatasetException error = Assert.Throws<DatasetException>(() => Table.Load(new TableSource(path, features, label, true, 0.2, 2)));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Contains(fix, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void My_table_trains_from_its_csv_file_and_predict_classifies_rows_with_or_without_their_label()
    {
        string results = TestEnvironment.TempDirectory("table-results");
        var run = ProcessDeterminismTests.Cli("run", "my-table", "--epochs", "3", "--threads", "1", "--out", results);
        Assert.True(run.ExitCode == 0, run.Output);
        using JsonDocument metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(results, "my-table", "metrics.json")));
        JsonElement identity = metrics.RootElement.GetProperty("identity");
        Assert.Equal((1200, 300), (identity.GetProperty("train_examples").GetInt32(), identity.GetProperty("test_examples").GetInt32()));
        Assert.Matches("^[0-9a-f]{64}$", identity.GetProperty("dataset_sha256").GetString());
        Assert.Equal(["eight", "five", "four", "nine", "one", "seven", "six", "three", "two", "zero"], metrics.RootElement.GetProperty("class_names").EnumerateArray().Select(e => e.GetString()));
        Assert.True(metrics.RootElement.GetProperty("test").GetProperty("accuracy").GetDouble() > 0.5, metrics.RootElement.ToString());
        Assert.False(File.Exists(Path.Combine(results, "my-table", "misclassified.png")), "a table has no images to show");

        // The first five rows of the file, with their label column and without it: the same classes.
        string[] lines = File.ReadLines(Path.Combine(TestEnvironment.RepositoryRoot, "data", "digits-8x8.csv")).Take(6).ToArray();
        string withLabel = Write(string.Join('\n', lines) + "\n", "with-label.csv");
        string withoutLabel = Write(string.Join('\n', lines.Select(l => l[..l.LastIndexOf(',')])) + "\n", "without-label.csv");
        var first = ProcessDeterminismTests.Cli("predict", Path.Combine(results, "my-table"), "--csv", withLabel, "--top", "1");
        var second = ProcessDeterminismTests.Cli("predict", Path.Combine(results, "my-table"), "--csv", withoutLabel, "--top", "1");
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.True(second.ExitCode == 0, second.Output);
        string[] a = first.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith(withLabel, StringComparison.Ordinal)).ToArray();
        string[] b = second.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith(withoutLabel, StringComparison.Ordinal)).ToArray();
        Assert.Equal(5, a.Length);
        Assert.Equal(a.Select(l => l[withLabel.Length..]), b.Select(l => l[withoutLabel.Length..]));
        Assert.StartsWith($"{withLabel}:2: ", a[0], StringComparison.Ordinal);

        // Image files for a table's model are a usage error that says what to give instead.
        var images = ProcessDeterminismTests.Cli("predict", Path.Combine(results, "my-table"), withLabel);
        Assert.Equal(2, images.ExitCode);
        Assert.Contains("give its rows with --csv FILE", images.Output, StringComparison.Ordinal);
    }
}
