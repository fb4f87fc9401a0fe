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
        // The application's own copy is the shallowest: when loading fails, TorchSharp's fallback copies the NuGet
        // cache's (unpatched) natives into a folder below it, which says nothing about why the app's copy failed.
        string? library = Directory.Exists(applicationDirectory)
            ? Directory.GetFiles(applicationDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories)
                .OrderBy(f => f.Count(c => c == Path.DirectorySeparatorChar)).ThenBy(f => f, StringComparer.Ordinal).FirstOrDefault()
            : null;
        if (library is null)
        {
            return $"libLibTorchSharp.so is not in {applicationDirectory}. Build with the TorchSharp package (TorchBackend=cpu, cuda-linux or external).";
        }

        ElfSymbolVersions elf = ElfSymbolVersions.Read(library);
        if (hostLibStdCxx is null)
        {
            return $"no libstdc++.so.6 was found on this machine; {library} needs one (install libstdc++6).";
        }

        ElfSymbolVersions host = ElfSymbolVersions.Read(hostLibStdCxx);
        List<ElfVersionNeed> missing = elf.Needs
            .Where(n => n.File == "libstdc++.so.6" && !n.IsWeak && !host.Definitions.Contains(n.Version, StringComparer.Ordinal))
            .ToList();
        if (missing.Count > 0)
        {
            string newest = host.Definitions.Where(d => d.StartsWith("GLIBCXX_", StringComparison.Ordinal))
                .OrderBy(d => new Version(d["GLIBCXX_".Length..])).LastOrDefault() ?? "none";
            return $"{library} needs {string.Join(", ", missing.Select(m => m.Version))} from libstdc++.so.6, but {hostLibStdCxx} provides versions only up to {newest}. " +
                "The Experiments build marks that requirement weak in the output copy after build and publish; this copy was not patched " +
                "(built with ExperimentsPatchLibTorchSharp=false, or copied from elsewhere). Rebuild with `dotnet build`, or install a libstdc++ from GCC 13 or newer.";
        }

        // The requirements this file states are met: the dynamic loader's own message says what else is wrong.
        string? loader = LoaderError(library);
        if (loader is not null && loader.Contains("undefined symbol", StringComparison.Ordinal))
        {
            string? found = FindOnLibraryPath("libtorch_cpu.so");
            string where = found is null ? "the LibTorch on the library path" : $"the LibTorch it found ({found}{(ResolveLinks(found) is { } target && target != found ? $" -> {target}" : "")})";
            return $"{library} cannot use {where}: {loader}. LibTorch's C++ interface changes with every release, and this TorchSharp " +
                $"({TorchRuntime.TorchSharpVersion}) is built against LibTorch {TorchRuntime.ExpectedLibTorchVersion}: put that version's " +
                "torch/lib (PyTorch of the same version) on LD_LIBRARY_PATH, or build with TorchBackend=cpu.";
        }

        return "libLibTorchSharp.so's libstdc++ requirements are met; LibTorch itself is probably missing" +
            (loader is null ? "." : $" ({loader}).") +
            " For TorchBackend=external, put a PyTorch install's torch/lib on LD_LIBRARY_PATH; otherwise rebuild so that libtorch-cpu-* is copied to the output.";
    }

    /// <summary>What dlopen says about the file (undefined symbols, a dependency not found), or null if it loads.</summary>
    private static string? LoaderError(string library)
    {
        try
        {
            System.Runtime.InteropServices.NativeLibrary.Free(System.Runtime.InteropServices.NativeLibrary.Load(library));
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            // .NET prefixes dlerror's text with its own sentence; dlerror's part starts with the path.
            int at = e.Message.IndexOf(library + ":", StringComparison.Ordinal);
            return (at >= 0 ? e.Message[(at + library.Length + 1)..] : e.Message).Trim().TrimEnd('.');
        }
    }

    private static string? FindOnLibraryPath(string file) =>
        (Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, file)).FirstOrDefault(File.Exists);

    private static string? ResolveLinks(string path) => new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
}
