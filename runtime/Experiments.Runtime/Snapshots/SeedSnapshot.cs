using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Experiments.Runtime.IO;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Experiments.Runtime.Snapshots;

/// <summary>One seed's row of a multi-seed snapshot: its final metrics and the digest of its whole single-seed snapshot.</summary>
/// <param name="Digest">SHA-256 (first 16 hex digits) of the seed's single-run snapshot text: history and confusion matrices included.</param>
public sealed record SeedRow(long Seed, double TestAccuracy, double TestLoss, double TrainAccuracy, double TrainLoss, string Digest)
{
    public double this[Metric metric] => metric switch
    {
        Metric.TestAccuracy => TestAccuracy,
        Metric.TestLoss => TestLoss,
        Metric.TrainAccuracy => TrainAccuracy,
        Metric.TrainLoss => TrainLoss,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "A seed row holds the four final metrics."),
    };
}

/// <summary>
/// The approved (or received) result of one experiment over several seeds, as a reviewer reads it: what was run and
/// where (as in a single-seed snapshot, less the seed), one row per seed with the final metrics and the digest of that
/// seed's full snapshot, and, when approval measured it, the first seed repeated under other CPU kernel sets. Under a
/// matching identity every row must repeat exactly; otherwise the rows are compared as distributions
/// (<see cref="SeedSnapshotComparison"/>).
/// </summary>
public sealed record SeedSnapshot : IResultSnapshot<SeedSnapshot>
{
    /// <summary>NAME.seeds.verified.txt and NAME.seeds.received.txt: beside the single-seed snapshots, never confused with them.</summary>
    public const string Infix = ".seeds";

    public static readonly IReadOnlyList<Metric> FinalMetrics = [Metric.TestAccuracy, Metric.TestLoss, Metric.TrainAccuracy, Metric.TrainLoss];

    private static readonly string[] SeedHeader = ["seed", "test_accuracy", "test_loss", "train_accuracy", "train_loss", "snapshot_sha256"];

    public required string Experiment { get; init; }

    /// <summary>The run keys of <see cref="SnapshotDocument.RunKeys"/> except the seed (the same for every seed).</summary>
    public required IReadOnlyDictionary<string, string> Run { get; init; }

    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    public required long Parameters { get; init; }

    public required IReadOnlyList<SeedRow> Seeds { get; init; }

    /// <summary>The first seed under other CPU kernel sets (final metrics only); null when approval measured none.</summary>
    public KernelEnvelope? Kernels { get; init; }

    public string Profile => Run["profile"];

    public string Subject => $"the {Seeds.Count} seeds of '{Experiment}' ({Profile})";

    public SeedSnapshot WithKernels(KernelEnvelope? kernels) => this with { Kernels = kernels };

    public static SnapshotComparison CompareExactly(SeedSnapshot approved, SeedSnapshot received) =>
        SeedSnapshotComparison.Compare(approved, received, SeedCheck.Default, ComparisonMode.Exact);

    public IReadOnlyList<double> Values(Metric metric) => Seeds.Select(s => s[metric]).ToList();

    /// <summary>The experiment's file name stem: NAME.seeds.</summary>
    public static string Stem(string experiment) => experiment + Infix;

    /// <summary>True for NAME.seeds.received.txt / NAME.seeds.verified.txt paths.</summary>
    public static bool IsSeedSnapshotPath(string path) =>
        Path.GetFileName(path) is var name && (name.EndsWith(Infix + SnapshotVerifier.ReceivedSuffix, StringComparison.Ordinal) || name.EndsWith(Infix + SnapshotVerifier.VerifiedSuffix, StringComparison.Ordinal));

    /// <summary>The multi-seed snapshot of single-seed snapshots of one experiment, run with the same settings in the same environment.</summary>
    public static SeedSnapshot From(IReadOnlyList<SnapshotDocument> seeds)
    {
        if (seeds.Count < 2)
        {
            throw new ArgumentException($"A multi-seed snapshot needs two or more seeds; {seeds.Count} given.", nameof(seeds));
        }

        SnapshotDocument first = seeds[0];
        string[] runKeys = RunKeysOf(first);
        foreach (SnapshotDocument other in seeds.Skip(1))
        {
            string? differs = other.Experiment != first.Experiment ? "experiment"
                : runKeys.FirstOrDefault(k => RunValue(other, k) != RunValue(first, k)) is { } key ? "run." + key
                : SnapshotDocument.BitKeys.FirstOrDefault(k => other.Environment[k] != first.Environment[k]) is { } environment ? "environment." + environment
                : null;
            if (differs is not null)
            {
                throw new ArgumentException($"Seed {other.Run["seed"]} of '{first.Experiment}' differs from seed {first.Run["seed"]} in {differs}: one multi-seed snapshot holds one experiment run one way.", nameof(seeds));
            }
        }

        if (seeds.Select(s => s.Run["seed"]).Distinct().Count() != seeds.Count)
        {
            throw new ArgumentException($"'{first.Experiment}': a seed is listed twice.", nameof(seeds));
        }

        return new SeedSnapshot
        {
            Experiment = first.Experiment,
            Run = runKeys.ToDictionary(k => k, k => RunValue(first, k)!),
            Environment = first.Environment,
            Parameters = first.Parameters,
            Seeds = seeds
                .Select(s => new SeedRow(long.Parse(s.Run["seed"], CultureInfo.InvariantCulture), s.TestAccuracy, s.TestLoss, s.TrainAccuracy, s.TrainLoss, Digest(s)))
                .OrderBy(r => r.Seed)
                .ToList(),
        };
    }

    /// <summary>The digest a seed row records for a single-seed snapshot (its kernel section, if any, left out).</summary>
    public static string Digest(SnapshotDocument seed) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes((seed with { Kernels = null }).Render())))[..16];

    /// <summary>The document's text. Equal documents give equal text, byte for byte.</summary>
    public string Render()
    {
        var run = new YamlMappingNode();
        foreach (string key in Run.Keys)
        {
            run.Add(key, Run[key]);
        }

        var environment = new YamlMappingNode();
        foreach (string key in SnapshotDocument.EnvironmentKeys(Environment.ContainsKey))
        {
            environment.Add(key, Environment[key]);
        }

        var root = new YamlMappingNode
        {
            { "experiment", Experiment },
            { "seeds", string.Join(",", Seeds.Select(s => s.Seed.ToString(CultureInfo.InvariantCulture))) },
            { "run", run },
            { "environment", environment },
            { "parameters", Parameters.ToString(CultureInfo.InvariantCulture) },
            { "per_seed", Literal(SeedTable()) },
            { "aggregate", Literal(AggregateTable()) },
        };
        if (Kernels is not null)
        {
            root.Add("kernels", new YamlMappingNode { { "seed", Seeds[0].Seed.ToString(CultureInfo.InvariantCulture) }, { "final", Literal(Kernels.FinalTable()) } });
        }

        var text = new StringBuilder();
        text.Append("# Multi-seed snapshot of experiment '").Append(Experiment).Append("', profile ").Append(Profile).Append(", ")
            .Append(Seeds.Count.ToString(CultureInfo.InvariantCulture)).Append(" seeds\n");
        text.Append("# Compared seed by seed, exactly, when the environment matches (dotnet aside); otherwise the seeds are compared\n");
        text.Append("#   as a distribution with the approved ones (Welch's interval for the difference of means, per metric).\n");
        text.Append("# snapshot_sha256: digest of the seed's whole single-seed snapshot (history and confusion matrices included).\n");
        text.Append("# aggregate: computed from per_seed for the reader (mean, sample SD, range, Student t 95% interval of the mean).\n");
        if (Kernels is not null)
        {
            text.Append("# kernels: the first seed repeated by approval under other CPU kernel sets; their spread widens the comparison.\n");
        }

        text.Append(YamlText.Emit(root));
        return text.ToString();
    }

    /// <summary>Reads a multi-seed snapshot's text; errors name the file, line and field.</summary>
    public static SeedSnapshot Parse(string text, string path)
    {
        YamlMappingNode root = SnapshotDocument.Root(text, path, "experiment, seeds, run, environment, per_seed");

        var reader = new SnapshotDocument.Reader(path);
        YamlNode Node(YamlMappingNode map, string key) => reader.Node(map, key);
        YamlMappingNode Map(string key) => reader.Map(root, key);
        string Text(YamlMappingNode map, string key) => reader.Text(map, key);

        YamlMappingNode runNode = Map("run");
        YamlMappingNode environmentNode = Map("environment");
        var run = new Dictionary<string, string>();
        foreach (string key in SnapshotDocument.RunKeys.Where(k => k != "seed").Concat(SnapshotDocument.OptionalRunKeys.Where(k => runNode.Children.ContainsKey(new YamlScalarNode(k)))))
        {
            run[key] = Text(runNode, key);
        }

        int tableLine = (int)Node(root, "per_seed").Start.Line;
        var rows = new List<SeedRow>();
        foreach ((string line, int offset) in Text(root, "per_seed").Split('\n').Select((l, i) => (l, i + 1)).Skip(1).Where(r => r.l.Trim().Length > 0))
        {
            string[] cells = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (cells.Length != SeedHeader.Length || !long.TryParse(cells[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long seed))
            {
                throw new SnapshotFormatException(path, tableLine + offset, $"a per_seed row needs {SeedHeader.Length} columns: {string.Join(", ", SeedHeader)}");
            }

            double Number(int column) => double.TryParse(cells[column], NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
                ? value
                : throw new SnapshotFormatException(path, tableLine + offset, $"'{SeedHeader[column]}' is '{cells[column]}', not a number");
            rows.Add(new SeedRow(seed, Number(1), Number(2), Number(3), Number(4), cells[5]));
        }

        string listed = Text(root, "seeds");
        if (listed != string.Join(",", rows.Select(r => r.Seed.ToString(CultureInfo.InvariantCulture))))
        {
            throw new SnapshotFormatException(path, (int)Node(root, "seeds").Start.Line, $"'seeds' is '{listed}' but per_seed has rows for {string.Join(",", rows.Select(r => r.Seed))}");
        }

        if (rows.Count < 2)
        {
            throw new SnapshotFormatException(path, tableLine, "a multi-seed snapshot needs two or more per_seed rows");
        }

        KernelEnvelope? kernels = null;
        if (root.Children.ContainsKey(new YamlScalarNode("kernels")))
        {
            YamlMappingNode node = Map("kernels");
            kernels = KernelEnvelope.Parse(Text(node, "final"), "", problem => new SnapshotFormatException(path, (int)node.Start.Line, problem));
        }

        return new SeedSnapshot
        {
            Experiment = Text(root, "experiment"),
            Run = run,
            Environment = reader.Strings(environmentNode, SnapshotDocument.EnvironmentKeys(k => environmentNode.Children.ContainsKey(new YamlScalarNode(k)))),
            Parameters = long.TryParse(Text(root, "parameters"), NumberStyles.Integer, CultureInfo.InvariantCulture, out long parameters)
                ? parameters
                : throw new SnapshotFormatException(path, (int)Node(root, "parameters").Start.Line, "'parameters' must be a whole number"),
            Seeds = rows,
            Kernels = kernels,
        };
    }

    /// <summary>A run value the seeds share: the settings line ends with ", seed K", which is left out.</summary>
    private static string? RunValue(SnapshotDocument document, string key)
    {
        string? value = document.Run.GetValueOrDefault(key);
        string seedSuffix = ", seed " + document.Run["seed"];
        return key == "settings" && value is not null && value.EndsWith(seedSuffix, StringComparison.Ordinal) ? value[..^seedSuffix.Length] : value;
    }

    private static string[] RunKeysOf(SnapshotDocument document) =>
        [.. SnapshotDocument.RunKeys.Where(k => k != "seed"), .. SnapshotDocument.OptionalRunKeys.Where(document.Run.ContainsKey)];

    private string SeedTable() => TextTable.Render(
        [SeedHeader, .. Seeds.Select(s => new[]
        {
            s.Seed.ToString(CultureInfo.InvariantCulture), SnapshotDocument.Number(s.TestAccuracy), SnapshotDocument.Number(s.TestLoss),
            SnapshotDocument.Number(s.TrainAccuracy), SnapshotDocument.Number(s.TrainLoss), s.Digest,
        })],
        leftAligned: 0);

    private string AggregateTable() => TextTable.Render(
        [["metric", "n", "mean", "sd", "min", "max", "t95_low", "t95_high"], .. FinalMetrics.Select(metric =>
        {
            Results.SeedSummary summary = Results.SeedStatistics.Summarise(Values(metric));
            return new[]
            {
                SeedSnapshotComparison.Key(metric), summary.Count.ToString(CultureInfo.InvariantCulture), Round(summary.Mean), Round(summary.StandardDeviation),
                Round(summary.Min), Round(summary.Max), Round(summary.StudentT.Low), Round(summary.StudentT.High),
            };
        })],
        leftAligned: 1);

    private static string Round(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    private static YamlScalarNode Literal(string text) => new(text) { Style = ScalarStyle.Literal };
}
