using System.Text.RegularExpressions;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>
/// The runtime's folders form layers without cycles: each uses only the foundations (IO, Randomness, Native) and the
/// folders before it in this order: Data, Training, Results, Snapshots, Reports, Configuration, Export, Hosting.
/// (The declarations users write live in Experiments.Abstractions, below them all.) Read from the real source files: every `using Experiments.Runtime.X` and every namespace-qualified `X.Type`.
/// </summary>
public sealed partial class LayeringTests
{
    private static readonly Dictionary<string, int> Rank = new(StringComparer.Ordinal)
    {
        ["IO"] = 0, ["Randomness"] = 0, ["Native"] = 0,
        ["Data"] = 2, ["Training"] = 3, ["Results"] = 4,
        ["Snapshots"] = 5, ["Reports"] = 6, ["Configuration"] = 7, ["Export"] = 8, ["Hosting"] = 9,
    };

    [GeneratedRegex(@"Experiments\.Runtime\.(?<layer>[A-Z]\w*)|(?<![\w.])(?<layer>[A-Z]\w*)\.[A-Z]\w*")]
    private static partial Regex Reference();

    [GeneratedRegex(@"//.*$|""(?:[^""\\]|\\.)*""", RegexOptions.Multiline)]
    private static partial Regex CommentsAndStrings();

    [Fact]
    public void Each_folder_uses_only_the_foundations_and_the_folders_before_it()
    {
        string root = TestEnvironment.Metadata("RuntimeSource");
        var violations = new List<string>();
        var folders = Directory.GetDirectories(root).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj" or "build")).ToList();
        Assert.Equal(Rank.Keys.Order(StringComparer.Ordinal), folders.Order(StringComparer.Ordinal)!);
        foreach (string folder in folders!)
        {
            foreach (string file in Directory.GetFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
            {
                string code = CommentsAndStrings().Replace(File.ReadAllText(file), "");
                foreach (string layer in Reference().Matches(code).Select(m => m.Groups["layer"].Value).Distinct())
                {
                    if (Rank.TryGetValue(layer, out int rank) && layer != folder && rank >= Rank[folder])
                    {
                        violations.Add($"{folder}/{Path.GetFileName(file)} uses {layer}");
                    }
                }
            }
        }

        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    [Fact]
    public void The_check_sees_a_reference_against_the_order()
    {
        // The rule must be able to fail: a Training file that names a Results type is a violation.
        string code = CommentsAndStrings().Replace("using Experiments.Runtime.Results; // Reports.X\nvar s = \"Hosting.Y\"; Results.MetricsJson.Metrics(r);", "");
        Assert.Equal(["Results"], Reference().Matches(code).Select(m => m.Groups["layer"].Value).Where(Rank.ContainsKey).Distinct());
    }

    /// <summary>
    /// The generator's stages, in pipeline order: the value models (and the diagnostics' descriptors), the parser that
    /// reads symbols into specs, the planner that checks and plans them, the emitter that prints C#, and the pipeline
    /// that wires them. A stage may use the stages before it only: the parser decides nothing the planner decides, and
    /// the planner prints no C#.
    /// </summary>
    private static int GeneratorStage(string file) => Path.GetFileName(file) switch
    {
        _ when file.Contains($"{Path.DirectorySeparatorChar}Models{Path.DirectorySeparatorChar}", StringComparison.Ordinal) => 0,
        "DiagnosticDescriptors.cs" => 0,
        string name when name.StartsWith("ExperimentGenerator.Parser", StringComparison.Ordinal) => 1,
        "ExperimentGenerator.Planner.cs" or "ExperimentGenerator.ModelWalk.cs" or "ExperimentGenerator.ModelWalk.Layers.cs" => 2,
        "ExperimentGenerator.Emitter.cs" or "ExperimentGenerator.Emitter.Settings.cs" or "ExperimentGenerator.Emitter.Export.cs" => 3,
        "ExperimentGenerator.cs" or "ExperimentGenerator.Configuration.cs" => 4,
        string name => throw new Xunit.Sdk.XunitException($"{name}: a generator file of no known stage; add it to {nameof(GeneratorStage)}."),
    };

    [GeneratedRegex(@"(?<![\w.])(?<stage>Parser|Planner|ModelWalk|SummaryRow|Emitter)\b")]
    private static partial Regex StageReference();

    private static readonly Dictionary<string, int> StageOf = new(StringComparer.Ordinal)
    {
        ["Parser"] = 1, ["Planner"] = 2, ["ModelWalk"] = 2, ["SummaryRow"] = 2, ["Emitter"] = 3,
    };

    [Fact]
    public void Each_generator_stage_uses_only_the_stages_before_it()
    {
        string root = TestEnvironment.Metadata("GeneratorSource");
        var violations = new List<string>();
        string[] files = Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj")).ToArray();
        Assert.Contains(files, f => GeneratorStage(f) == 3);
        foreach (string file in files)
        {
            int stage = GeneratorStage(file);
            string code = CommentsAndStrings().Replace(File.ReadAllText(file), "");
            foreach (string used in StageReference().Matches(code).Select(m => m.Groups["stage"].Value).Distinct())
            {
                if (StageOf[used] > stage)
                {
                    violations.Add($"{Path.GetFileName(file)} (stage {stage}) uses {used} (stage {StageOf[used]})");
                }
            }
        }

        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }
}
