using System;
using System.IO;
using Experiments.Generators.Models;
using Microsoft.CodeAnalysis;

namespace Experiments.Generators;

/// <summary>Turns every [Experiment] class into a TorchSharp model, a Keras-style summary and a registration.</summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class ExperimentGenerator : IIncrementalGenerator
{
    public const string AttributeName = "Experiments.ExperimentAttribute";

    /// <summary>Tracking names the incremental-caching tests look for.</summary>
    public static class TrackingNames
    {
        public const string Experiments = nameof(Experiments);
        public const string Models = nameof(Models);
        public const string RootNamespace = nameof(RootNamespace);
        public const string Configuration = nameof(Configuration);
        public const string HelpLinks = nameof(HelpLinks);
    }

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // Stage 1: find [Experiment] classes and read each into a value-only spec (no symbols, no syntax): arguments
        // over those of its bases, layers with spread blocks resolved, sweep points.
        IncrementalValuesProvider<ExperimentSpec> experiments = context.SyntaxProvider
            .ForAttributeWithMetadataName(AttributeName, static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.TypeDeclarationSyntax, Parser.Parse)
            .WithTrackingName(TrackingNames.Experiments);

        // Stage 1b, cached: check and plan each spec into the model the emitter prints (shapes, modules, forward pass,
        // summary, fingerprint, diagnostics). Runs again only for a spec that changed.
        IncrementalValuesProvider<ExperimentModel> models = experiments
            .Select(static (spec, _) => Planner.Plan(spec))
            .WithTrackingName(TrackingNames.Models);

        // Stage 2: the project's root namespace from MSBuild (CompilerVisibleProperty) names the registry's namespace.
        IncrementalValueProvider<string> rootNamespace = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) => options.GlobalOptions.TryGetValue("build_property.RootNamespace", out string? value) && value.Length > 0 ? value : "Experiments.Generated")
            .WithTrackingName(TrackingNames.RootNamespace);

        // Stage 3: where diagnostics' help links point (ExperimentsHelpLinkBase, set by the build targets to the docs beside them).
        IncrementalValueProvider<string> helpLinks = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) => options.GlobalOptions.TryGetValue("build_property.ExperimentsHelpLinkBase", out string? value) && value.Length > 0 ? value : DiagnosticDescriptors.DefaultHelpLinkBase)
            .WithTrackingName(TrackingNames.HelpLinks);

        // Stage 4: one source file per experiment: the model, its summary and its settings, or its diagnostics.
        context.RegisterSourceOutput(models.Combine(helpLinks), static (spc, pair) => Emitter.EmitExperiment(spc, pair.Left, pair.Right));

        // Stage 5: the registry of every experiment, and the duplicate-name check that needs them all.
        context.RegisterSourceOutput(models.Collect().Combine(rootNamespace).Combine(helpLinks), static (spc, pair) => Emitter.EmitRegistry(spc, pair.Left.Left, pair.Left.Right, pair.Right));

        // Stage 6: experiments.yaml (an AdditionalFiles item the runtime's build targets add) may only override declared experiments.
        IncrementalValuesProvider<EquatableArray<ConfiguredName>> configured = context.AdditionalTextsProvider
            .Where(static text => string.Equals(Path.GetFileName(text.Path), ConfigurationFileName, StringComparison.OrdinalIgnoreCase))
            .Select(static (text, cancellationToken) => ConfigurationNames.Read(text.Path, text.GetText(cancellationToken)))
            .WithTrackingName(TrackingNames.Configuration);
        context.RegisterSourceOutput(configured.Collect().Combine(models.Collect()).Combine(helpLinks), static (spc, pair) => ConfigurationNames.Check(spc, pair.Left.Left, pair.Left.Right, pair.Right));
    }
}
