using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Experiments.Runtime.IO;

/// <summary>
/// YAML as this runtime writes it (snapshots, config.yaml): one block-style document, two-space indent, no line
/// wrapping, "\n" line ends on every OS, no anchors, and no "..." end marker (a single-document file reads better
/// without it). Byte-stable, so files that hold the same values are the same bytes.
/// </summary>
public static class YamlText
{
    public static string Emit(YamlNode root)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var emitter = new Emitter(writer, new EmitterSettings(2, int.MaxValue, false, 1024, false, false, "\n"));
        new YamlStream(new YamlDocument(root)).Save(emitter, assignAnchors: false);
        string text = writer.ToString();
        return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
    }
}
