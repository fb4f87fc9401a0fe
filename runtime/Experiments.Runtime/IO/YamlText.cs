using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Experiments.Runtime.IO;

/// <summary>
/// YAML as this runtime writes it (snapshots, config.yaml, job files): one block-style document, two-space indent, no
/// line wrapping, "\n" line ends on every OS, no anchors, and no "..." end marker (a single-document file reads better
/// without it). Byte-stable, so files that hold the same values are the same bytes.
/// </summary>
public static class YamlText
{
    /// <summary>Records as YAML by YamlDotNet's serializer: members in declaration order, names snake_case (or as <paramref name="naming"/> says), null members left out.</summary>
    public static string Serialize(object document, INamingConvention? naming = null)
    {
        ISerializer serializer = new SerializerBuilder()
            .WithNamingConvention(naming ?? UnderscoredNamingConvention.Instance)
            .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull)
            .DisableAliases()
            .WithTypeConverter(new DoubleQuotedConverter())
            .Build();
        return Write(emitter => serializer.Serialize(emitter, document));
    }

    /// <summary>A node tree as YAML: for documents whose scalars keep the style they were given (literal tables, plain text).</summary>
    public static string Emit(YamlNode root) =>
        Write(emitter => new YamlStream(new YamlDocument(root)).Save(emitter, assignAnchors: false));

    private static string Write(Action<IEmitter> body)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        body(new Emitter(writer, new EmitterSettings(2, int.MaxValue, false, 1024, false, false, "\n")));
        string text = writer.ToString();
        return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
    }

    /// <summary>A string written double-quoted whatever it holds: command words, which YAML 1.1 readers (kubectl) would otherwise take as flags or numbers.</summary>
    public sealed record DoubleQuoted(string Text);

    /// <summary>Writes <see cref="DoubleQuoted"/> as its text in double quotes; the serializer has no per-item style for a list's strings.</summary>
    private sealed class DoubleQuotedConverter : IYamlTypeConverter
    {
        public bool Accepts(Type type) => type == typeof(DoubleQuoted);

        public object? ReadYaml(IParser parser, Type type, ObjectDeserializer rootDeserializer) =>
            new DoubleQuoted(parser.Consume<Scalar>().Value);

        public void WriteYaml(IEmitter emitter, object? value, Type type, ObjectSerializer serializer) =>
            emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, ((DoubleQuoted)value!).Text, ScalarStyle.DoubleQuoted, false, true));
    }
}
