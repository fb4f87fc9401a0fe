using System.Text.RegularExpressions;

namespace Experiments.Runtime.Snapshots;

/// <summary>
/// Approved snapshots for one CPU model alone, as Verify keeps snapshots unique to a runtime or an OS. A smoke snapshot
/// approved under the portable kernel set holds on every CPU model whose bits equal the approving one's; where a CPU
/// model is measured to give other bits (a library rounds differently there), its own approved snapshot lives in
/// <c>cpu-models/VENDOR-FAMILY-MODEL/NAME.verified.txt</c> beside the main one. On that model the run is compared with
/// that file, exactly; everywhere else with the main file. A variant exists only because someone approved it with
/// <c>accept --cpu-model</c>, so a pull request shows it as a new file to review.
/// </summary>
public static partial class CpuModelSnapshots
{
    /// <summary>The folder, beside the main snapshots, that holds one folder per CPU model.</summary>
    public const string FolderName = "cpu-models";

    /// <summary>
    /// The CPU model's key in a recorded CPU identity (<c>Intel(R) Xeon(R) Processor (family 6 model 207 stepping 2), isa
    /// default, ...</c> is <c>intel-6-207</c>); null where the identity names no x86 family and model (a GPU, another
    /// architecture), which has no variants.
    /// </summary>
    public static string? Key(string deviceName)
    {
        Match match = Identity().Match(deviceName);
        if (!match.Success)
        {
            return null;
        }

        string vendor = new string(match.Groups["vendor"].Value.Replace("(R)", "", StringComparison.Ordinal).Where(char.IsAsciiLetterOrDigit).ToArray()).ToLowerInvariant();
        return vendor.Length == 0 ? null : $"{vendor}-{match.Groups["family"].Value}-{match.Groups["model"].Value}";
    }

    /// <summary>The folder of <paramref name="key"/>'s snapshots under the folder of the main ones.</summary>
    public static string Folder(string directory, string key) => Path.Combine(directory, FolderName, key);

    /// <summary>
    /// Where a run recorded on <paramref name="deviceName"/> is verified: the CPU model's folder when it holds an approved
    /// snapshot of <paramref name="experiment"/>, else <paramref name="directory"/> itself.
    /// </summary>
    public static string DirectoryFor(string directory, string experiment, string device, string deviceName)
    {
        string? key = device == "cpu" ? Key(deviceName) : null;
        return key is not null && File.Exists(SnapshotVerifier.VerifiedPath(Folder(directory, key), experiment))
            ? Folder(directory, key)
            : directory;
    }

    /// <summary>True for a path inside a CPU model's folder.</summary>
    public static bool IsVariant(string path) =>
        Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(path)))) == FolderName;

    [GeneratedRegex(@"^(?<vendor>\S+).*?\(family (?<family>\d+) model (?<model>\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex Identity();
}
