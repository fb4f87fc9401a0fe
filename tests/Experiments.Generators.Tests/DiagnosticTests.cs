using Microsoft.CodeAnalysis;
using Xunit;

namespace Experiments.Generators.Tests;

/// <summary>One case per EXP diagnostic: it fires on the bad declaration, at the right place, with a message that says the fix.</summary>
public sealed class DiagnosticTests
{
    internal static string Declaration(string layers, string settings = "", string name = "demo", string modifiers = "public sealed partial", string extra = "", string input = "Input.Flat") =>
        GeneratorHarness.Usings + $$"""
        namespace Demo;
        [Experiment("{{name}}", Dataset.Mnist, {{input}}{{settings}})]
        {{modifiers}} class Demo
        {
            private static readonly Layer[] Layers = [{{layers}}];
            {{extra}}
        }
        """;

    internal const string Good = "new Dense(10, Activation.Softmax)";

    public static TheoryData<string, string, string, string> Cases => new()
    {
        { "EXP0001", Declaration(Good, modifiers: "public sealed"), "must be declared 'partial'", "Demo" },
        { "EXP0002", Declaration("new Dense(Width, Activation.Softmax)", extra: "private static int Width = 10;"), "argument 'Units' is not a compile-time constant", "Width" },
        { "EXP0003", Declaration(Good).Replace("Dataset.Mnist", "(Dataset)7", StringComparison.Ordinal), "dataset value 7 is not a known dataset", "Demo" },
        { "EXP0005", Declaration("new Flatten(), new Conv2D(8, 3), new Flatten(), " + Good, input: "Input.Image"), "layer 2 (Conv2D) needs a 3-D (height, width, channels) input but gets (None, 784) (rank 1)", "new Conv2D(8, 3)" },
        { "EXP0005", Declaration("new Lstm(8), " + Good, input: "Input.Image"), "layer 1 (Lstm) needs a 2-D (steps, features) input but gets (None, 28, 28, 1)", "new Lstm(8)" },
        { "EXP0006", Declaration("new Conv2D(4, 30), new Flatten(), " + Good, input: "Input.Image"), "window 30x30 is larger than its input (None, 28, 28, 1)", "new Conv2D(4, 30)" },
        { "EXP0007", Declaration("new MaxPool2D(8), new MaxPool2D(8), new Flatten(), " + Good, input: "Input.Image"), "layer 2 (MaxPooling2D): output size (None, 0, 0, 1) has a zero dimension", "new MaxPool2D(8)" },
        { "EXP0008", Declaration("new Concatenate(new Conv2D(2, 3, Padding: Padding.Same), new Conv2D(2, 3)), new Flatten(), " + Good, input: "Input.Image"), "branch 2 gives (None, 26, 26, 2) but branch 1 gives (None, 28, 28, 2)", "new Concatenate(" },
        { "EXP0009", Declaration("new Dense(9, Activation.Softmax)"), "the last layer gives (None, 9) outputs but MNIST has 10 classes", "new Dense(9, Activation.Softmax)" },
        { "EXP0010", Declaration("new Function(nameof(Scale)), " + Good, extra: "public static int Scale(int x) => x;"), "'Demo.Scale' must be static, take one Tensor and return a Tensor", "new Function(nameof(Scale))" },
        { "EXP0010", Declaration("new Function(\"Missing\"), " + Good), "'Demo' has no method 'Missing'", "new Function(\"Missing\")" },
        { "EXP0011", Declaration(""), "'Layers' is empty or not an array of layers", "[]" },
        { "EXP0012", Declaration("new Dense(10, Activation.Relu)"), "the last layer (Dense) does not end in softmax", "new Dense(10, Activation.Relu)" },
        { "EXP0013", Declaration(Good, settings: ", BatchSize = 0"), "BatchSize: 0 is out of range; use at least 1", "Demo" },
        { "EXP0013", Declaration(Good, settings: ", Seeds = 0"), "Seeds: 0 is out of range; use at least 1 (1 runs the declared Seed once)", "Demo" },
        { "EXP0013", Declaration("new Dropout(1.0), " + Good), "layer 1 (Dropout): rate 1 is out of range", "new Dropout(1.0)" },
        { "EXP0013", Declaration(Good, settings: ", Validation = Validation.KerasTail, ValidationFraction = 1.5"), "ValidationFraction: 1.5 is out of range", "Demo" },
        { "EXP0013", Declaration(Good, modifiers: "[Tolerance(Metric.TestLoss, -0.5)]\npublic sealed partial"), "[Tolerance(TestLoss)]: tolerance -0.5 is out of range; a tolerance is a finite absolute difference >= 0", "Tolerance(Metric.TestLoss, -0.5)" },
        { "EXP0013", Declaration(Good, modifiers: "[SeedTolerance(Metric.EpochLoss)]\npublic sealed partial"), "[SeedTolerance]: metric EpochLoss is out of range; seed distributions are compared on the final metrics: Metric.TestAccuracy", "SeedTolerance(Metric.EpochLoss)" },
        { "EXP0013", Declaration(Good, modifiers: "[SeedTolerance(Metric.TestAccuracy, Level = 1)]\npublic sealed partial"), "[SeedTolerance(TestAccuracy)]: Level 1 is out of range; a confidence level lies strictly between 0 and 1", "SeedTolerance(Metric.TestAccuracy, Level = 1)" },
        { "EXP0013", Declaration(Good, modifiers: "[Reported(98.6)]\npublic sealed partial"), "[Reported]: accuracy 98.6 is out of range; a reported accuracy is a fraction between 0 and 1 (98.6% is 0.986)", "Reported(98.6)" },
        { "EXP0013", Declaration(Good, modifiers: "[Reported(0.986, Margin = -0.01)]\npublic sealed partial"), "[Reported]: Margin -0.01 is out of range", "Reported(0.986, Margin = -0.01)" },
        { "EXP0014", Declaration(Good, name: "My Experiment"), "'My Experiment' must be lower-case letters", "Demo" },
        { "EXP0016", Declaration(Good, settings: ", Loss = (Loss)5"), "Experiment 'demo', Loss: 5 is not a defined Loss value; use one of Loss.CategoricalCrossEntropy, Loss.MeanSquaredError", "Demo" },
        { "EXP0016", Declaration(Good, settings: ", Optimizer = (Optimizer)(-1)"), "Optimizer: -1 is not a defined Optimizer value; use one of Optimizer.Sgd, Optimizer.Adam, Optimizer.RmsProp", "Demo" },
        { "EXP0016", Declaration(Good, settings: ", Validation = (Validation)9"), "Validation: 9 is not a defined Validation value", "Demo" },
        { "EXP0016", Declaration(Good).Replace("Input.Flat", "(Input)3", StringComparison.Ordinal), "Input: 3 is not a defined Input value; use one of Input.Flat, Input.Image, Input.Sequence", "Demo" },
        { "EXP0016", Declaration("new Dense(10, (Activation)90)"), "layer 1 (Dense), Activation: 90 is not a defined Activation value; use one of Activation.None, Activation.Relu", "(Activation)90" },
        { "EXP0016", Declaration("new Conv2D(4, 3, Padding: (Padding)2), new Flatten(), " + Good, input: "Input.Image"), "layer 1 (Conv2D), Padding: 2 is not a defined Padding value; use one of Padding.Valid, Padding.Same", "Padding: (Padding)2" },
        { "EXP0016", Declaration(Good, modifiers: "[Tolerance((Metric)42, 0.1)]\npublic sealed partial"), "[Tolerance] Metric: 42 is not a defined Metric value; use one of Metric.TestAccuracy", "Tolerance((Metric)42, 0.1)" },
        { "EXP0016", Declaration(Good, modifiers: "[SeedTolerance(Metric.TestLoss, Direction = (Direction)7)]\npublic sealed partial"), "[SeedTolerance(TestLoss)] Direction: 7 is not a defined Direction value", "SeedTolerance(Metric.TestLoss, Direction = (Direction)7)" },
        { "EXP0021", Declaration(Good, modifiers: "[Tolerance(Metric.TestLoss, 0.1)]\n[Tolerance(Metric.TestLoss, 0.2)]\npublic sealed partial"), "Experiment 'demo': [Tolerance(TestLoss, ...)] is declared more than once; give each metric one [Tolerance]", "Tolerance(Metric.TestLoss, 0.2)" },
        { "EXP0021", Declaration(Good, modifiers: "[SeedTolerance(Metric.TestAccuracy)]\n[SeedTolerance(Metric.TestAccuracy, Level = 0.5)]\npublic sealed partial"), "[SeedTolerance(TestAccuracy)] is declared more than once", "SeedTolerance(Metric.TestAccuracy, Level = 0.5)" },
        { "EXP0013", Declaration(Good, settings: ", Loss = Loss.MeanSquaredError, LabelSmoothing = 0.1"), "LabelSmoothing: 0.1 is out of range; label smoothing applies to Loss.CategoricalCrossEntropy", "Demo" },
        { "EXP0013", Declaration(Good, settings: ", Optimizer = Optimizer.Adam, WeightDecay = 0.01"), "WeightDecay: 0.01 is out of range; decoupled weight decay is AdamW's", "Demo" },
        { "EXP0013", Declaration(Good, settings: ", Optimizer = Optimizer.Sgd, Nesterov = true"), "Nesterov: true is out of range; Nesterov momentum is SGD's and needs Momentum above 0", "Demo" },
        { "EXP0013", Declaration(Good, modifiers: "[LearningRateSchedule(Schedule.Exponential, DecayRate = 0.9)]\npublic sealed partial"), "[LearningRateSchedule] DecaySteps: 0 is out of range; an exponential schedule needs DecaySteps of at least 1", "LearningRateSchedule(Schedule.Exponential" },
        { "EXP0013", Declaration(Good, modifiers: "[LearningRateSchedule(Schedule.Piecewise, Boundaries = new[] { 20, 10 }, Values = new[] { 0.1, 0.01, 0.001 })]\npublic sealed partial"), "[LearningRateSchedule] Boundaries: [20, 10] is out of range; boundaries are increasing", "LearningRateSchedule(Schedule.Piecewise" },
        { "EXP0013", Declaration(Good, settings: ", Validation = Validation.TestSet", modifiers: "[ReduceLearningRateOnPlateau(Metric.ValidationLoss, Factor = 1.5)]\npublic sealed partial"), "[ReduceLearningRateOnPlateau] Factor: 1.5 is out of range", "ReduceLearningRateOnPlateau(" },
        { "EXP0013", Declaration(Good, modifiers: "[EarlyStopping(Metric.TestAccuracy)]\npublic sealed partial"), "[EarlyStopping] monitor: Metric.TestAccuracy is out of range; a control monitors an epoch metric: Metric.ValidationLoss", "EarlyStopping(Metric.TestAccuracy)" },
        { "EXP0022", Declaration(Good, settings: ", Validation = Validation.TestSet", modifiers: "[LearningRateSchedule(Schedule.Step, StepEpochs = 2)]\n[ReduceLearningRateOnPlateau(Metric.ValidationLoss)]\npublic sealed partial"), "[LearningRateSchedule] and [ReduceLearningRateOnPlateau] both set the learning rate; declare one of them", "LearningRateSchedule(Schedule.Step" },
        { "EXP0022", Declaration(Good, modifiers: "[EarlyStopping(Metric.ValidationLoss, Patience = 2)]\npublic sealed partial"), "[EarlyStopping] monitors Metric.ValidationLoss but the experiment has no validation data; declare Validation = Validation.Seeded", "Demo" },
        { "EXP0022", Declaration(Good, settings: ", Epochs = 3", modifiers: "[LearningRateSchedule(Schedule.Cosine, WarmupEpochs = 3)]\npublic sealed partial"), "[LearningRateSchedule] warms up for 3 of 3 epochs", "Demo" },
        { "EXP0025", Declaration(Good, settings: ", DataPath = \"d\"").Replace("Dataset.Mnist", "Dataset.ImageFolder", StringComparison.Ordinal), "Dataset.ImageFolder needs the images' size (ImageHeight 0, ImageWidth 0); set ImageHeight and ImageWidth", "Demo" },
        { "EXP0025", Declaration(Good, settings: ", ImageHeight = 8, ImageWidth = 8").Replace("Dataset.Mnist", "Dataset.ImageFolder", StringComparison.Ordinal), "Dataset.ImageFolder needs DataPath; set DataPath", "Demo" },
        { "EXP0025", Declaration(Good, settings: ", DataPath = \"d\", ImageHeight = 8, ImageWidth = 8, Channels = 2").Replace("Dataset.Mnist", "Dataset.ImageFolder", StringComparison.Ordinal), "Channels 2 is neither 1 (grayscale) nor 3 (RGB)", "Demo" },
        { "EXP0025", Declaration(Good, settings: ", DataPath = \"d\", ImageHeight = 8, ImageWidth = 8, TestFraction = 1.0").Replace("Dataset.Mnist", "Dataset.ImageFolder", StringComparison.Ordinal), "TestFraction 1 is outside [0, 1)", "Demo" },
        { "EXP0025", Declaration(Good, settings: ", DataPath = \"d\", Resize = true"), "DataPath, Resize are set but Dataset.Mnist does not take them; remove them, or use Dataset.ImageFolder or Dataset.Csv for your own data", "Demo" },
        { "EXP0025", Declaration("new Flatten(), new Dense(3, Activation.Softmax)", input: "Input.Image").Replace("Dataset.Mnist", "Dataset.Iris", StringComparison.Ordinal), "Dataset.Iris gives a row of four numbers, not Input.Image; use Input.Flat", "Demo" },
        { "EXP0009", Declaration(Good).Replace("Dataset.Mnist", "Dataset.Iris", StringComparison.Ordinal), "the last layer gives (None, 10) outputs but Iris has 3 classes; end with Dense(3, Activation.Softmax)", "new Dense(10, Activation.Softmax)" },
        { "EXP0006", Declaration("new Conv2D(4, 9), new Flatten(), " + Good, input: "Input.Image").Replace("Dataset.Mnist", "Dataset.Digits", StringComparison.Ordinal), "window 9x9 is larger than its input (None, 8, 8, 1)", "new Conv2D(4, 9)" },
        { "EXP0025", Declaration(Good, settings: ", DataPath = \"t.csv\"").Replace("Dataset.Mnist", "Dataset.Csv", StringComparison.Ordinal), "Dataset.Csv needs the number of feature columns (Features 0); set Features", "Demo" },
        { "EXP0025", Declaration("new Flatten(), " + Good, settings: ", DataPath = \"t.csv\", Features = 4", input: "Input.Image").Replace("Dataset.Mnist", "Dataset.Csv", StringComparison.Ordinal), "Dataset.Csv gives a row of numbers, not Input.Image; use Input.Flat", "Demo" },
        { "EXP0025", Declaration(Good, settings: ", DataPath = \"t.csv\", Features = 4, ImageHeight = 8").Replace("Dataset.Mnist", "Dataset.Csv", StringComparison.Ordinal), "ImageHeight is set but Dataset.Csv does not take it; remove it", "Demo" },
        { "EXP0017", Declaration(Good).Replace("class Demo", "record Demo", StringComparison.Ordinal), "Experiment 'demo': 'Demo' is a record", "Demo" },
        { "EXP0017", Declaration(Good).Replace("class Demo", "class Demo<T>", StringComparison.Ordinal), "'Demo' is generic", "Demo" },
        { "EXP0017", Declaration(Good).Replace("public sealed partial class Demo", "public static partial class Outer { [Experiment(\"inner\", Dataset.Mnist, Input.Flat)] public sealed partial class Demo { private static readonly Layer[] Layers = [" + Good + "]; } }\npublic sealed partial class Unused", StringComparison.Ordinal), "'Demo' is nested in 'Outer'", "Demo" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bad_declaration_gets_its_diagnostic_at_the_offending_code(string id, string source, string message, string locatedAt)
    {
        var (generator, sources, _) = GeneratorHarness.Run(source);
        Diagnostic diagnostic = Assert.Single(generator, d => d.Id == id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Contains(message, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        string located = source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length);
        Assert.StartsWith(locatedAt, located, StringComparison.Ordinal);
        Assert.EndsWith($"docs/diagnostics/{id}.md", diagnostic.Descriptor.HelpLinkUri, StringComparison.Ordinal);
        Assert.DoesNotContain(sources, s => s.HintName == "Demo.Demo.g.cs");
    }

    [Fact]
    public void Every_problem_of_a_declaration_is_reported_at_once()
    {
        // A missing method, a bad setting, a bad layer argument after it and a bad check value: four errors, one build.
        string source = Declaration("new Function(\"Missing\"), new Dense(32, Activation.Relu), new Dropout(1.5), new Dense(9, Activation.Softmax)", settings: ", BatchSize = 0",
            modifiers: "[Tolerance(Metric.TestLoss, -1)]\npublic sealed partial");
        var (generator, sources, _) = GeneratorHarness.Run(source);
        string[] messages = generator.Select(d => $"{d.Id} {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}").ToArray();
        string[] expected =
        [
            "EXP0010 Experiment 'demo', layer 1 (Function): 'Demo' has no method 'Missing'",
            "EXP0013 Experiment 'demo', BatchSize: 0 is out of range",
            "EXP0013 Experiment 'demo', layer 3 (Dropout): rate 1.5 is out of range",
            "EXP0009 Experiment 'demo': the last layer gives (None, 9) outputs",
            "EXP0013 Experiment 'demo', [Tolerance(TestLoss)]: tolerance -1 is out of range",
        ];
        Assert.Equal(expected.Length, messages.Length);
        Assert.All(expected, e => Assert.Single(messages, m => m.StartsWith(e, StringComparison.Ordinal)));
        Assert.DoesNotContain(sources, s => s.HintName == "Demo.Demo.g.cs");
    }

    [Fact]
    public void An_out_of_range_enum_fails_its_own_experiment_only()
    {
        string bad = Declaration(Good, settings: ", Loss = (Loss)5", name: "bad");
        string good = Declaration(Good, name: "good").Replace("class Demo", "class Fine", StringComparison.Ordinal);
        var (generator, sources, compiler) = GeneratorHarness.Run(bad, good);
        Assert.DoesNotContain(generator, d => d.Id is "CS8784" or "CS8785");
        Assert.Equal("EXP0016", Assert.Single(generator).Id);
        Assert.Empty(compiler);
        string registry = sources.Single(s => s.HintName == "ExperimentRegistry.g.cs").SourceText.ToString();
        Assert.Contains("new global::Demo.Fine()", registry, StringComparison.Ordinal);
        Assert.DoesNotContain("global::Demo.Demo", registry, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_links_follow_the_ExperimentsHelpLinkBase_property()
    {
        var options = new OptionsProvider(new Dictionary<string, string> { ["build_property.ExperimentsHelpLinkBase"] = "https://docs.example.org/experiments/diagnostics" });
        GeneratorDriver driver = Microsoft.CodeAnalysis.CSharp.CSharpGeneratorDriver.Create([new ExperimentGenerator().AsSourceGenerator()], optionsProvider: options);
        driver = driver.RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compilation(Declaration(Good, settings: ", BatchSize = 0")), out _, out var diagnostics);
        Assert.Equal("https://docs.example.org/experiments/diagnostics/EXP0013.md", Assert.Single(diagnostics).Descriptor.HelpLinkUri);
    }

    private sealed class OptionsProvider(Dictionary<string, string> values) : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptionsProvider
    {
        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GlobalOptions { get; } = new Options(values);

        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options([]);

        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(AdditionalText textFile) => new Options([]);

        private sealed class Options(Dictionary<string, string> values) : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions
        {
            public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
        }
    }

    [Fact]
    public void Duplicate_names_are_reported_on_the_second_class()
    {
        string first = Declaration(Good, name: "same");
        string second = first.Replace("class Demo", "class Other", StringComparison.Ordinal);
        var (generator, _, _) = GeneratorHarness.Run(first, second);
        Diagnostic diagnostic = Assert.Single(generator, d => d.Id == "EXP0004");
        Assert.Contains("'same' is used by both global::Demo.Demo and global::Demo.Other", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Equal("Experiment1.cs", diagnostic.Location.GetLineSpan().Path);
    }

    [Fact]
    public void A_good_declaration_has_no_diagnostics_and_compiles()
    {
        var (generator, sources, compiler) = GeneratorHarness.Run(Declaration("new Dense(32, Activation.Relu), new Dropout(0.5), " + Good, settings: ", Validation = Validation.Seeded, ValidationFraction = 0.1"));
        Assert.Empty(generator);
        Assert.Empty(compiler);
        Assert.Contains(sources, s => s.HintName == "Demo.Demo.g.cs");
    }

    [Fact]
    public void A_description_with_control_characters_quotes_and_other_scripts_is_emitted_as_a_valid_literal()
    {
        // A bare carriage return or tab inside the emitted string literal would not compile (or would change the text).
        var (generator, sources, compiler) = GeneratorHarness.Run(Declaration(Good, settings: """
            , Description = "line one\r\nline two\tcolumn \"quoted\" back\\slash 数字 é"
            """));
        Assert.Empty(generator);
        Assert.Empty(compiler);
        string generated = sources.Single(s => s.HintName == "Demo.Demo.g.cs").SourceText.ToString();
        Assert.Contains("""
            "line one\r\nline two\tcolumn \"quoted\" back\\slash 数字 é"
            """, generated, StringComparison.Ordinal);
    }
}
