using System;
using System.Collections.Generic;
using System.Linq;
using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Experiments.Generators.Models;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Experiments.Generators;

/// <summary>An experiment name under experiments.yaml's 'experiments:' key, with where it is written.</summary>
public sealed record ConfiguredName(string Name, LocationInfo Location);

public sealed partial class ExperimentGenerator
{
    public const string ConfigurationFileName = "experiments.yaml";

    /// <summary>
    /// Reads the experiment names under the top-level 'experiments:' mapping of experiments.yaml. A line scanner, not a
    /// YAML library: an analyzer cannot load YamlDotNet without shipping it beside the generator, and block-style keys
    /// are all the check needs (the runtime parses the whole file with YamlDotNet and reports anything else).
    /// </summary>
    internal static class ConfigurationNames
    {
        private static readonly Regex Key = new(@"^(?<indent>[ ]*)(?<key>[^\s#:][^:#]*?)\s*:(\s|$)");

        public static EquatableArray<ConfiguredName> Read(string path, SourceText? text)
        {
            var names = ImmutableArray.CreateBuilder<ConfiguredName>();
            if (text is null)
            {
                return new EquatableArray<ConfiguredName>(names);
            }

            bool inExperiments = false;
            int childIndent = -1;
            foreach (TextLine line in text.Lines)
            {
                string content = line.ToString();
                if (content.Trim().Length == 0 || content.TrimStart().StartsWith("#", StringComparison.Ordinal))
                {
                    continue;
                }

                Match match = Key.Match(content);
                int indent = content.Length - content.TrimStart(' ').Length;
                if (indent == 0)
                {
                    inExperiments = match.Success && match.Groups["key"].Value == "experiments";
                    childIndent = -1;
                    continue;
                }

                if (!inExperiments || !match.Success)
                {
                    continue;
                }

                childIndent = childIndent < 0 ? indent : childIndent;
                if (indent == childIndent)
                {
                    Group key = match.Groups["key"];
                    string name = key.Value.Trim('"', '\'');
                    var span = new TextSpan(line.Start + key.Index, key.Length);
                    LinePositionSpan position = text.Lines.GetLinePositionSpan(span);
                    names.Add(new ConfiguredName(name, new LocationInfo(
                        path, span.Start, span.Length, position.Start.Line, position.Start.Character, position.End.Line, position.End.Character)));
                }
            }

            return new EquatableArray<ConfiguredName>(names);
        }

        public static void Check(SourceProductionContext context, ImmutableArray<EquatableArray<ConfiguredName>> files, ImmutableArray<ExperimentModel> models, string helpLinks)
        {
            // A sweep's name configures all its points; each point's own name configures that point.
            var known = new HashSet<string>(models.Select(m => m.Name).Concat(models.SelectMany(m => m.Experiments.Select(e => e.Name))), StringComparer.Ordinal);
            string knownList = string.Join(", ", known.OrderBy(n => n, StringComparer.Ordinal));
            foreach (ConfiguredName configured in files.SelectMany(f => f).Where(c => !known.Contains(c.Name)))
            {
                context.ReportDiagnostic(Emitter.ToDiagnostic(new DiagnosticInfo(
                    DiagnosticDescriptors.UnknownConfiguredExperiment, configured.Location, new EquatableArray<string>([configured.Name, knownList.Length == 0 ? "none" : knownList])), helpLinks));
            }
        }
    }
}
