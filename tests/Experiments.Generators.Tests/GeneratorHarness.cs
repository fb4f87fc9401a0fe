using System.Collections.Immutable;
using Experiments.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

namespace Experiments.Generators.Tests;

/// <summary>Runs the real generator over source text, against the real runtime and TorchSharp assemblies.</summary>
internal static class GeneratorHarness
{
    private static readonly ImmutableArray<MetadataReference> References = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
        .Split(Path.PathSeparator)
        .Where(p => p.EndsWith(".dll", StringComparison.Ordinal))
        .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
        .ToImmutableArray();

    public const string Usings = "using Experiments;\nusing Experiments.Layers;\nusing static TorchSharp.torch;\n";

    public static CSharpCompilation Compilation(params string[] sources) => CSharpCompilation.Create(
        "UserExperiments",
        sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, new CSharpParseOptions(LanguageVersion.Latest), path: $"Experiment{i}.cs")),
        References,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver Driver() => CSharpGeneratorDriver.Create(
        [new ExperimentGenerator().AsSourceGenerator()],
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Generator diagnostics, generated sources, and the compiler's errors on the result.</summary>
    public static (ImmutableArray<Diagnostic> Generator, ImmutableArray<GeneratedSourceResult> Sources, ImmutableArray<Diagnostic> Compiler) Run(params string[] sources)
    {
        GeneratorDriver driver = Driver().RunGeneratorsAndUpdateCompilation(Compilation(sources), out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        ImmutableArray<Diagnostic> errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToImmutableArray();
        return (diagnostics, result.GeneratedSources, errors);
    }

    /// <summary>Compiles the generated code into an assembly and reads its registry, as the runtime does.</summary>
    public static IReadOnlyList<Experiments.Runtime.IExperiment> Registry(string source)
    {
        var (generator, _, compiler) = Run(source);
        Xunit.Assert.Empty(generator);
        Xunit.Assert.Empty(compiler);
        Driver().RunGeneratorsAndUpdateCompilation(Compilation(source), out Compilation output, out _);
        using var image = new MemoryStream();
        Xunit.Assert.True(output.Emit(image).Success);
        System.Reflection.Assembly assembly = new System.Runtime.Loader.AssemblyLoadContext("registry-" + Guid.NewGuid(), isCollectible: true).LoadFromStream(new MemoryStream(image.ToArray()));
        return (IReadOnlyList<Experiments.Runtime.IExperiment>)assembly.GetType("Experiments.Generated.ExperimentRegistry")!.GetProperty("All")!.GetValue(null)!;
    }
}
