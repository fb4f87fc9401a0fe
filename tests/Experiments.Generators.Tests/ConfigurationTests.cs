using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace Experiments.Generators.Tests;

/// <summary>experiments.yaml reaches the generator as an additional file; overriding an undeclared experiment is EXP0015.</summary>
public sealed class ConfigurationTests
{
    private sealed class FileText(string path, string text) : AdditionalText
    {
        public override string Path => path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }

    private static ImmutableArray<Diagnostic> Run(string yaml, string path = "/project/experiments.yaml")
    {
        GeneratorDriver driver = GeneratorHarness.Driver().AddAdditionalTexts([new FileText(path, yaml)]);
        driver.RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compilation(DiagnosticTests.Declaration(DiagnosticTests.Good)), out _, out ImmutableArray<Diagnostic> diagnostics);
        return diagnostics;
    }

    [Fact]
    public void An_override_of_an_undeclared_experiment_is_reported_at_its_line()
    {
        const string yaml = """
            # overrides
            output: results
            experiments:
              demo:
                epochs: 2
              "demo-typo":   # not declared
                learning_rate: 0.1
            profiles:
              smoke:
                max_epochs: 1
            """;
        Diagnostic diagnostic = Assert.Single(Run(yaml));
        Assert.Equal("EXP0015", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Contains("overrides 'demo-typo', but no [Experiment] has that name", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Contains("(declared: demo)", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        FileLinePositionSpan span = diagnostic.Location.GetLineSpan();
        Assert.Equal("/project/experiments.yaml", span.Path);
        Assert.Equal(5, span.StartLinePosition.Line);
        Assert.Equal(2, span.StartLinePosition.Character);
    }

    [Fact]
    public void Declared_names_and_other_yaml_files_are_fine()
    {
        Assert.Empty(Run("experiments:\n  demo:\n    seed: 3\n"));
        Assert.Empty(Run("experiments:\n  nothing-declared:\n    seed: 3\n", "/project/other.yaml"));
    }
}
