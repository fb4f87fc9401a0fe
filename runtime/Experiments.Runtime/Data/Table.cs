using System.Collections.Concurrent;
using System.Globalization;
using CsvHelper;

namespace Experiments.Runtime.Data;

/// <summary>
/// A declaration's CSV file (Dataset.Csv), as the generator emits it: where it is, how many feature columns it has,
/// which column holds the label ("" the last; a header name or a 0-based index), whether it has a header line, the
/// held-out test share, and how many classes the model tells apart.
/// </summary>
public sealed record TableSource(string Path, int Features, string LabelColumn, bool Header, double TestFraction, int classes)
{
    /// <summary>The model's outputs per example; the file must have as many classes.</summary>
    public int Classes { get; } = classes;
}

/// <summary>
/// Reads a CSV file of numbers (CsvHelper, invariant culture: '.' decimals, ',' separators, quoted fields allowed) into
/// a dataset: every column but the label is a feature, parsed as a number; a missing or non-numeric cell is an error
/// with its line and column. Labels that are all whole numbers 0..k-1 are the classes as given; other labels are class
/// names in ordinal order. A stratified TestFraction is held out as the test set, seeded by the content.
/// </summary>
public static class Table
{
    private static readonly ConcurrentDictionary<string, ImageDataset> Loaded = new(StringComparer.Ordinal);

    public static ImageDataset Load(TableSource source, string? start = null)
    {
        string path = Datasets.Resolve(source.Path, directory: false, "write the table there (one row per example, a label column)", start);
        var file = new FileInfo(path);
        string key = $"{file.FullName}:{file.Length}:{file.LastWriteTimeUtc.Ticks}|{source}";
        return Loaded.GetOrAdd(key, _ => Read(source, path));
    }

    private static ImageDataset Read(TableSource source, string path)
    {
        (float[] values, string[] labelTexts) = Parse(path, source.Header, source.Features, source.LabelColumn);
        (string[] classNames, byte[] labels) = Classes(labelTexts, path);
        if (source.Classes != classNames.Length)
        {
            throw new DatasetException($"The model gives {source.Classes} outputs but {path} has {classNames.Length} classes ({string.Join(", ", classNames.Take(12))}); end the model with Dense({classNames.Length}, Activation.Softmax).");
        }

        var all = new ImageSet([], labels, 1, source.Features) { Values = values };
        (ImageSet train, ImageSet test) = ImageDataset.HoldOut(classNames, all, source.TestFraction, path);
        return new ImageDataset($"csv:{source.Path} ({source.Features} features, test {source.TestFraction} held out)", classNames, train, test)
        {
            ContentSha256 = ImageDataset.ContentHash(classNames, train, test),
        };
    }

    /// <summary>
    /// scikit-learn's iris.csv (a first line of counts and names, then four measurements and the class number per row)
    /// or digits.csv (64 pixels 0 to 16 and the digit per row, no header), verified by the provisioner; a stratified
    /// <paramref name="testFraction"/> held out, seeded by the content. Digits become 8 x 8 images of those values.
    /// </summary>
    public static ImageDataset LoadBuiltIn(DatasetSpec spec, string path, double testFraction) =>
        Loaded.GetOrAdd($"{spec.Key}|{path}|{testFraction.ToString("R", CultureInfo.InvariantCulture)}", _ =>
        {
            bool digits = spec.Id == Dataset.Digits;
            int features = digits ? spec.ImageRows * spec.ImageCols : 4;
            (float[] values, string[] labelTexts) = Parse(path, header: !digits, features, labelColumn: "");
            byte[] labels = labelTexts.Select(t => byte.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out byte l) && l < spec.ClassNames.Count
                ? l : throw new DatasetException($"{path}: label '{t}' is not one of the {spec.ClassNames.Count} classes of {spec.DisplayName}.")).ToArray();
            ImageSet all = digits
                ? new ImageSet(values.Select(v => (byte)v).ToArray(), labels, spec.ImageRows, spec.ImageCols) { Levels = 16 }
                : new ImageSet([], labels, 1, features) { Values = values };
            (ImageSet train, ImageSet test) = ImageDataset.HoldOut(spec.ClassNames, all, testFraction, path);
            return new ImageDataset($"{spec.Key} (test {testFraction.ToString("R", CultureInfo.InvariantCulture)} held out)", spec.ClassNames, train, test);
        });

    /// <summary>Every row's <paramref name="features"/> numbers and its label text.</summary>
    private static (float[] Values, string[] Labels) Parse(string path, bool header, int features, string labelColumn)
    {
        (string[] names, List<(int Line, string[] Cells)> rows) = ReadCells(path, header);
        if (rows.Count == 0)
        {
            throw new DatasetException($"{path} has no rows{(header ? " after its header line" : "")}; add one row per example.");
        }

        int columns = rows[0].Cells.Length;
        int label = LabelIndex(labelColumn, names, columns, path);
        if (columns - 1 != features)
        {
            throw new DatasetException($"{path} has {columns - 1} feature columns besides the label, but the declaration says Features = {features}; declare Features = {columns - 1}.");
        }

        var values = new float[rows.Count * features];
        var labelTexts = new string[rows.Count];
        for (int r = 0; r < rows.Count; r++)
        {
            (int line, string[] cells) = rows[r];
            if (cells.Length != columns)
            {
                throw new DatasetException($"{path}, line {line}: {cells.Length} columns, but the first row has {columns}; every row needs the same columns.");
            }

            int feature = 0;
            for (int c = 0; c < columns; c++)
            {
                string cell = cells[c].Trim();
                if (c == label)
                {
                    labelTexts[r] = cell.Length > 0 ? cell : throw new DatasetException($"{path}, line {line}, column {c + 1}{Name(names, c)}: the label is missing.");
                    continue;
                }

                values[(r * features) + feature++] = Number(cell, path, line, c, names);
            }
        }

        return (values, labelTexts);
    }

    /// <summary>
    /// The feature rows of a CSV file to predict: each row has the declaration's feature columns, with or without its
    /// label column (which is then left out), and the header line the declaration says. Returns the numbers and each
    /// row's line.
    /// </summary>
    public static (float[] Values, int[] Lines) ReadFeatures(TableSource source, string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} does not exist.", path);
        }

        (string[] header, List<(int Line, string[] Cells)> rows) = ReadCells(path, source.Header);
        var values = new float[rows.Count * source.Features];
        for (int r = 0; r < rows.Count; r++)
        {
            (int line, string[] cells) = rows[r];
            int skip = cells.Length == source.Features + 1 ? LabelIndex(source.LabelColumn, header, cells.Length, path)
                : cells.Length == source.Features ? -1
                : throw new DatasetException($"{path}, line {line}: {cells.Length} columns; the model takes {source.Features} features (or the features and the label column).");
            int feature = 0;
            for (int c = 0; c < cells.Length; c++)
            {
                if (c != skip)
                {
                    values[(r * source.Features) + feature++] = Number(cells[c].Trim(), path, line, c, header);
                }
            }
        }

        return (values, rows.Select(r => r.Line).ToArray());
    }

    private static float Number(string cell, string path, int line, int column, string[] header) =>
        double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) && double.IsFinite(number)
            ? (float)number
            : throw new DatasetException(
                $"{path}, line {line}, column {column + 1}{Name(header, column)}: {(cell.Length == 0 ? "the cell is empty" : $"'{cell}' is not a number")}; features must be numbers (with '.' for decimals).");

    /// <summary>Every record's cells with its line number, and the header's names (empty without one).</summary>
    private static (string[] Header, List<(int Line, string[] Cells)> Rows) ReadCells(string path, bool header)
    {
        var options = new CsvReaderOptions { HasHeader = false, TrackLineNumbers = true, SkipEmptyLines = true, FormatProvider = CultureInfo.InvariantCulture };
        string[] names = [];
        var rows = new List<(int, string[])>();
        try
        {
            using CsvReader reader = CsvReader.FromFile(path, options);
            while (reader.Read())
            {
                string[] cells = Enumerable.Range(0, reader.FieldCount).Select(reader.GetString).ToArray();
                if (cells.All(c => c.Trim().Length == 0))
                {
                    continue; // a line of separators only
                }

                if (header && names.Length == 0 && rows.Count == 0)
                {
                    names = cells.Select(c => c.Trim()).ToArray();
                    continue;
                }

                rows.Add(((int)reader.LineNumber, cells));
            }
        }
        catch (Exception e) when (e is CsvFormatException or CsvValidationException)
        {
            throw new DatasetException($"{path} is not a readable CSV file: {e.Message}", e);
        }

        return (names, rows);
    }

    private static int LabelIndex(string labelColumn, string[] header, int columns, string path)
    {
        if (labelColumn.Length == 0)
        {
            return columns - 1;
        }

        int byName = Array.IndexOf(header, labelColumn);
        if (byName >= 0)
        {
            return byName;
        }

        if (int.TryParse(labelColumn, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < columns)
        {
            return index;
        }

        throw new DatasetException(
            $"{path} has no column '{labelColumn}' ({(header.Length > 0 ? "its columns: " + string.Join(", ", header) : $"no header line; give a 0-based index below {columns}")}); fix LabelColumn.");
    }

    /// <summary>Whole numbers 0..k-1 as given; otherwise the distinct texts in ordinal order.</summary>
    private static (string[] Names, byte[] Labels) Classes(string[] texts, string path)
    {
        bool numbered = texts.All(t => int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out _));
        string[] names = numbered
            ? Enumerable.Range(0, texts.Max(t => int.Parse(t, CultureInfo.InvariantCulture)) + 1).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray()
            : texts.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (names.Length > 256)
        {
            throw new DatasetException($"{path} has {names.Length} classes; at most 256 are supported.");
        }

        if (names.Length < 2)
        {
            throw new DatasetException($"{path} has {names.Length} class; a classifier needs at least two.");
        }

        var index = names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => (byte)p.i, StringComparer.Ordinal);
        return (names, texts.Select(t => index[numbered ? int.Parse(t, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture) : t]).ToArray());
    }

    private static string Name(string[] header, int column) => column < header.Length ? $" ('{header[column]}')" : "";
}
