using System.Text.RegularExpressions;
using Xunit;

namespace Experiments.Generators.Tests;

/// <summary>TF32 is opt-in per experiment: it reaches the settings and the fingerprint only when asked for.</summary>
public sealed class Tf32Tests
{
    private static string Declaration(string extra) => GeneratorHarness.Usings + $$"""
        namespace Tf;
        [Experiment("tf", Dataset.Mnist, Input.Image, Seed = 3{{extra}})]
        public sealed partial class Tf
        {
            private static readonly Layer[] Layers = [new Conv2D(4, 3), new Flatten(), new Dense(10, Activation.Softmax)];
        }
        """;

    private static (string Source, string Fingerprint) Generate(string extra)
    {
        var (generator, sources, compiler) = GeneratorHarness.Run(Declaration(extra));
        Assert.Empty(generator);
        Assert.Empty(compiler);
        string source = sources.Single(s => s.HintName == "Tf.Tf.g.cs").SourceText.ToString();
        Match fingerprint = Regex.Match(source, @"Dataset\.Mnist,\s*""([0-9a-f]+)""");
        Assert.True(fingerprint.Success, source);
        return (source, fingerprint.Groups[1].Value);
    }

    [Fact]
    public void Asking_for_tf32_sets_it_and_changes_the_fingerprint()
    {
        (string plain, string plainFingerprint) = Generate("");
        (string asked, string askedFingerprint) = Generate(", Tf32 = true");
        (string off, string offFingerprint) = Generate(", Tf32 = false");

        Assert.DoesNotContain("tf32", plain, StringComparison.Ordinal);
        Assert.Contains("seed: 3,\n        tf32: true);", asked.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.NotEqual(plainFingerprint, askedFingerprint);
        Assert.Equal(plainFingerprint, offFingerprint);
        Assert.Equal(plain, off);
    }
}
