using Experiments.Build;

namespace Experiments.Runtime.Native;

/// <summary>
/// Explains why TorchSharp's native library did not load. TorchSharp itself says the application lacks a
/// reference to libtorch-cpu-linux-x64 even when the package is there and the real cause is a libstdc++ that is
/// too old (Debian 12 and Ubuntu 22.04 ship GLIBCXX_3.4.30, the library needs 3.4.32); this looks at the actual ELF files to say what is wrong.
/// </summary>
public static class NativeLoadDiagnosis
{
    public static string Explain(string applicationDirectory, string? hostLibStdCxx)
    {
        string[] candidates = Directory.Exists(applicationDirectory)
            ? Directory.GetFiles(applicationDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories)
            : [];
        if (candidates.Length == 0)
        {
            return $"libLibTorchSharp.so is not in {applicationDirectory}. Build with the TorchSharp package (TorchBackend=cpu, cuda-linux or external).";
        }

        var problems = new List<string>();
        foreach (string library in candidates)
        {
            ElfSymbolVersions elf = ElfSymbolVersions.Read(library);
            if (hostLibStdCxx is null)
            {
                problems.Add($"no libstdc++.so.6 was found on this machine; {library} needs one (install libstdc++6).");
                continue;
            }

            ElfSymbolVersions host = ElfSymbolVersions.Read(hostLibStdCxx);
            List<ElfVersionNeed> missing = elf.Needs
                .Where(n => n.File == "libstdc++.so.6" && !n.IsWeak && !host.Definitions.Contains(n.Version, StringComparer.Ordinal))
                .ToList();
            if (missing.Count > 0)
            {
                string newest = host.Definitions.Where(d => d.StartsWith("GLIBCXX_", StringComparison.Ordinal))
                    .OrderBy(d => new Version(d["GLIBCXX_".Length..])).LastOrDefault() ?? "none";
                problems.Add(
                    $"{library} needs {string.Join(", ", missing.Select(m => m.Version))} from libstdc++.so.6, but {hostLibStdCxx} provides versions only up to {newest}. " +
                    "The Experiments build marks that requirement weak in the output copy after build and publish; this copy was not patched " +
                    "(built with ExperimentsPatchLibTorchSharp=false, or copied from elsewhere). Rebuild with `dotnet build`, or install a libstdc++ from GCC 13 or newer.");
            }
        }

        return problems.Count > 0
            ? string.Join(Environment.NewLine, problems)
            : "libLibTorchSharp.so's libstdc++ requirements are met; LibTorch itself is probably missing. For TorchBackend=external, put a PyTorch install's torch/lib on LD_LIBRARY_PATH; otherwise rebuild so that libtorch-cpu-* is copied to the output.";
    }
}
