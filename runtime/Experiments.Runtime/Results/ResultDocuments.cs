using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Experiments.Runtime.Results;

// The JSON files of a result as records, serialised by System.Text.Json's source generator (ResultJsonContext): member
// order is file order, snake_case names come from the naming policy, absent optional members are left out, and a
// non-finite number is written as the string "NaN", "Infinity" or "-Infinity" (JSON has no such numbers).

/// <summary>metrics.json: what is deterministic about a result (two runs compare byte for byte).</summary>
public sealed record MetricsDocument(
    JsonObject Identity,
    long Parameters,
    string WeightsSha256,
    DivergedDocument? Diverged,
    EarlyStoppingDocument? EarlyStopping,
    EvaluationDocument Train,
    EvaluationDocument Test,
    IReadOnlyList<EpochDocument> History,
    ConfusionDocument Confusion,
    IReadOnlyList<string> ClassNames);

/// <summary>Where a run's loss stopped being finite; the loss as its shortest round-trip text.</summary>
public sealed record DivergedDocument(int Epoch, int Batch, string Loss);

public sealed record EarlyStoppingDocument(int? StoppedAfterEpoch, int? RestoredEpoch, double Best);

public sealed record EvaluationDocument(double Accuracy, double Loss, int Examples);

public sealed record EpochDocument(int Epoch, double Loss, double Accuracy, double? ValLoss, double? ValAccuracy, double? LearningRate);

public sealed record ConfusionDocument(
    [property: JsonConverter(typeof(MatrixRowsConverter))] IReadOnlyList<IReadOnlyList<int>> Train,
    [property: JsonConverter(typeof(MatrixRowsConverter))] IReadOnlyList<IReadOnlyList<int>> Test);

/// <summary>`predict`'s answer for one image file: its classes, most probable first (`predict --json` prints a list of them).</summary>
public sealed record Prediction(string File, IReadOnlyList<ClassProbability> Top);

/// <summary>A class and the model's probability for it (the softmax of its logits).</summary>
public sealed record ClassProbability(string Class, double Probability);

/// <summary>timing.json: wall-clock seconds, kept out of metrics.json because they differ from run to run.</summary>
public sealed record TimingDocument(IReadOnlyList<EpochSecondsDocument> Epochs, double TotalSeconds);

public sealed record EpochSecondsDocument(int Epoch, double Seconds);

/// <summary>misclassified.json's entry: a test index the model gets wrong and the class it predicts.</summary>
public sealed record MisclassifiedDocument(int Index, string Predicted);

/// <summary>aggregate.json: the statistics over the seeds of a multi-seed result.</summary>
public sealed record AggregateDocument(
    string Experiment,
    IReadOnlyList<long> Seeds,
    IntervalsDocument Intervals,
    IReadOnlyDictionary<string, SummaryDocument> Final,
    IReadOnlyList<EpochSummaryDocument> History,
    double[][] ConfusionTestMean,
    ReportedDocument? Reported);

/// <summary>How each interval was computed, in words.</summary>
public sealed record IntervalsDocument(string StudentT, string Bootstrap);

public sealed record SummaryDocument(
    int N,
    double Mean,
    double Sd,
    double Min,
    double Max,
    [property: JsonPropertyName("student_t_95")] double[] StudentT95,
    [property: JsonPropertyName("bootstrap_95")] double[] Bootstrap95,
    IReadOnlyList<double>? Values)
{
    public static SummaryDocument Of(SeedSummary s, IReadOnlyList<double>? values = null) =>
        new(s.Count, s.Mean, s.StandardDeviation, s.Min, s.Max, [s.StudentT.Low, s.StudentT.High], [s.Bootstrap.Low, s.Bootstrap.High], values);
}

public sealed record EpochSummaryDocument(int Epoch, SummaryDocument Loss, SummaryDocument Accuracy, SummaryDocument? ValLoss, SummaryDocument? ValAccuracy);

public sealed record ReportedDocument(
    double TestAccuracy,
    double Percentile,
    [property: JsonConverter(typeof(SignedInfinityConverter))] double ZScore,
    [property: JsonPropertyName("prediction_95")] double[] Prediction95,
    string Verdict);

[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(MetricsDocument))]
[JsonSerializable(typeof(TimingDocument))]
[JsonSerializable(typeof(Dictionary<string, List<MisclassifiedDocument>>))]
[JsonSerializable(typeof(AggregateDocument))]
[JsonSerializable(typeof(List<Prediction>))]
public sealed partial class ResultJsonContext : JsonSerializerContext
{
    /// <summary>The document as its file holds it: the serialiser's text and a final newline.</summary>
    public static string Text<T>(T document, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        JsonSerializer.Serialize(document, type) + "\n";
}

/// <summary>
/// A confusion matrix one row per line, so that a moved cell is a one-line diff; the indented serialiser would put every
/// count on its own line. Hand-written because no serialiser option lays out nested arrays this way.
/// </summary>
public sealed class MatrixRowsConverter : JsonConverter<IReadOnlyList<IReadOnlyList<int>>>
{
    public override IReadOnlyList<IReadOnlyList<int>> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("metrics.json is read with JsonDocument.");

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<IReadOnlyList<int>> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (IReadOnlyList<int> row in value)
        {
            writer.WriteRawValue("\n      [" + string.Join(", ", row.Select(c => c.ToString(CultureInfo.InvariantCulture).PadLeft(4))) + "]");
        }

        writer.WriteEndArray();
    }
}

/// <summary>aggregate.json's z-score: where every seed gave the same figure the score is infinite, written "+inf" or "-inf".</summary>
public sealed class SignedInfinityConverter : JsonConverter<double>
{
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String ? (reader.GetString() == "+inf" ? double.PositiveInfinity : double.NegativeInfinity) : reader.GetDouble();

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(value > 0 ? "+inf" : "-inf");
        }
    }
}
