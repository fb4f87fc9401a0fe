// Shared by the MSBuild task below (compiled by RoslynCodeTaskFactory, netstandard2.0 API only)
// and by Experiments.Runtime (linked with EXPERIMENTS_NO_MSBUILD_TASK) to explain native-load failures.
//
// Hand-written ELF reading: no ELF library is served by our NuGet feed (ELFSharp and LibObjectFile
// are not), and the job needs only the GNU symbol-versioning sections.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace Experiments.Build
{
    /// <summary>One version an ELF library needs from one of its dependencies (an entry of .gnu.version_r).</summary>
    public sealed class ElfVersionNeed
    {
        public ElfVersionNeed(string file, string version, ushort index, ushort flags, long flagsOffset)
        {
            File = file;
            Version = version;
            Index = index;
            Flags = flags;
            FlagsOffset = flagsOffset;
        }

        /// <summary>The dependency's soname, e.g. libstdc++.so.6.</summary>
        public string File { get; }

        /// <summary>The version name, e.g. GLIBCXX_3.4.32.</summary>
        public string Version { get; }

        /// <summary>The version index symbols refer to from .gnu.version.</summary>
        public ushort Index { get; }

        public ushort Flags { get; }

        public bool IsWeak => (Flags & ElfSymbolVersions.VerFlagWeak) != 0;

        /// <summary>File offset of vna_flags, the two bytes that mark the requirement weak.</summary>
        public long FlagsOffset { get; }
    }

    /// <summary>The symbol-versioning facts of one ELF64 little-endian shared library.</summary>
    public sealed class ElfSymbolVersions
    {
        public const ushort VerFlagWeak = 0x2;
        private const uint ShtDynsym = 11;
        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const uint ShtGnuVersym = 0x6fffffff;

        private ElfSymbolVersions(
            string path,
            IReadOnlyList<ElfVersionNeed> needs,
            IReadOnlyList<string> definitions,
            IReadOnlyList<KeyValuePair<string, ushort>> symbolVersions)
        {
            Path = path;
            Needs = needs;
            Definitions = definitions;
            SymbolVersions = symbolVersions;
        }

        public string Path { get; }

        /// <summary>Versions this library needs from its dependencies (.gnu.version_r).</summary>
        public IReadOnlyList<ElfVersionNeed> Needs { get; }

        /// <summary>Versions this library defines (.gnu.version_d), e.g. GLIBCXX_3.4.30 in libstdc++.</summary>
        public IReadOnlyList<string> Definitions { get; }

        /// <summary>Every dynamic symbol with its version index (hidden bit cleared).</summary>
        public IReadOnlyList<KeyValuePair<string, ushort>> SymbolVersions { get; }

        /// <summary>The dynamic symbols bound to one needed version.</summary>
        public IReadOnlyList<string> SymbolsBoundTo(ElfVersionNeed need) =>
            SymbolVersions.Where(s => s.Value == need.Index).Select(s => s.Key).ToList();

        public static ElfSymbolVersions Read(string path)
        {
            byte[] elf = File.ReadAllBytes(path);
            return Parse(path, elf);
        }

        public static ElfSymbolVersions Parse(string path, byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            {
                throw new InvalidDataException($"{path}: not an ELF file (bad magic number).");
            }

            if (elf[4] != 2 || elf[5] != 1)
            {
                throw new InvalidDataException($"{path}: only 64-bit little-endian ELF files are supported (class {elf[4]}, data {elf[5]}).");
            }

            var reader = new ElfReader(path, elf);
            long sectionTable = (long)reader.U64(0x28);
            int sectionSize = reader.U16(0x3a);
            int sectionCount = reader.U16(0x3c);
            var sections = new List<Section>();
            for (int i = 0; i < sectionCount; i++)
            {
                long at = sectionTable + ((long)i * sectionSize);
                sections.Add(new Section(
                    type: reader.U32(at + 4),
                    offset: (long)reader.U64(at + 0x18),
                    size: (long)reader.U64(at + 0x20),
                    link: reader.U32(at + 0x28)));
            }

            var needs = new List<ElfVersionNeed>();
            var definitions = new List<string>();
            var symbols = new List<KeyValuePair<string, ushort>>();

            foreach (Section verneed in sections.Where(s => s.Type == ShtGnuVerneed))
            {
                Section strings = reader.SectionAt(sections, verneed.Link);
                long entry = verneed.Offset;
                while (true)
                {
                    int count = reader.U16(entry + 2);
                    string file = reader.String(strings, reader.U32(entry + 4));
                    long aux = entry + reader.U32(entry + 8);
                    for (int i = 0; i < count; i++)
                    {
                        needs.Add(new ElfVersionNeed(
                            file,
                            reader.String(strings, reader.U32(aux + 8)),
                            (ushort)(reader.U16(aux + 6) & 0x7fff),
                            (ushort)reader.U16(aux + 4),
                            aux + 4));
                        uint nextAux = reader.U32(aux + 12);
                        if (nextAux == 0)
                        {
                            break;
                        }

                        aux += nextAux;
                    }

                    uint next = reader.U32(entry + 12);
                    if (next == 0)
                    {
                        break;
                    }

                    entry += next;
                }
            }

            foreach (Section verdef in sections.Where(s => s.Type == ShtGnuVerdef))
            {
                Section strings = reader.SectionAt(sections, verdef.Link);
                long entry = verdef.Offset;
                while (true)
                {
                    long aux = entry + reader.U32(entry + 12);
                    definitions.Add(reader.String(strings, reader.U32(aux)));
                    uint next = reader.U32(entry + 16);
                    if (next == 0)
                    {
                        break;
                    }

                    entry += next;
                }
            }

            Section? dynsym = sections.FirstOrDefault(s => s.Type == ShtDynsym);
            Section? versym = sections.FirstOrDefault(s => s.Type == ShtGnuVersym);
            if (dynsym != null && versym != null)
            {
                Section strings = reader.SectionAt(sections, dynsym.Link);
                long count = dynsym.Size / 24;
                for (long i = 0; i < count; i++)
                {
                    string name = reader.String(strings, reader.U32(dynsym.Offset + (i * 24)));
                    ushort version = (ushort)(reader.U16(versym.Offset + (i * 2)) & 0x7fff);
                    symbols.Add(new KeyValuePair<string, ushort>(name, version));
                }
            }

            return new ElfSymbolVersions(path, needs, definitions, symbols);
        }

        private sealed class Section
        {
            public Section(uint type, long offset, long size, uint link)
            {
                Type = type;
                Offset = offset;
                Size = size;
                Link = link;
            }

            public uint Type { get; }

            public long Offset { get; }

            public long Size { get; }

            public uint Link { get; }
        }

        private sealed class ElfReader
        {
            private readonly string _path;
            private readonly byte[] _bytes;

            public ElfReader(string path, byte[] bytes)
            {
                _path = path;
                _bytes = bytes;
            }

            public int U16(long at)
            {
                Check(at, 2);
                return _bytes[at] | (_bytes[at + 1] << 8);
            }

            public uint U32(long at)
            {
                Check(at, 4);
                return BitConverter.ToUInt32(_bytes, (int)at);
            }

            public ulong U64(long at)
            {
                Check(at, 8);
                return BitConverter.ToUInt64(_bytes, (int)at);
            }

            public Section SectionAt(List<Section> sections, uint index)
            {
                if (index >= sections.Count)
                {
                    throw new InvalidDataException($"{_path}: section link {index} is out of range; the ELF file is corrupt.");
                }

                return sections[(int)index];
            }

            public string String(Section table, uint offset)
            {
                long start = table.Offset + offset;
                long end = start;
                while (end < _bytes.Length && _bytes[end] != 0)
                {
                    end++;
                }

                Check(start, (int)(end - start) + 1);
                return Encoding.ASCII.GetString(_bytes, (int)start, (int)(end - start));
            }

            private void Check(long at, int length)
            {
                if (at < 0 || at + length > _bytes.Length)
                {
                    throw new InvalidDataException($"{_path}: truncated ELF file (read of {length} bytes at offset {at} is past its end, {_bytes.Length} bytes).");
                }
            }
        }
    }

    /// <summary>
    /// Makes the NuGet build of libLibTorchSharp.so load on hosts whose libstdc++ is older than the one it was
    /// linked against (Debian 12, Ubuntu 22.04: GLIBCXX_3.4.30 where 3.4.32 is required).
    /// </summary>
    /// <remarks>
    /// The single symbol bound to GLIBCXX_3.4.32 is _ZSt21ios_base_library_initv, which the library never calls
    /// (checked by loading it and training MLP, CNN and LSTM models with the requirement marked weak). Marking that one requirement weak (VER_FLG_WEAK) lets the dynamic
    /// loader accept the older libstdc++. Anything else bound to the version would be a real missing symbol, so
    /// the patch refuses and says what it found.
    /// </remarks>
    public static class LibStdCxxCompat
    {
        public const string Version = "GLIBCXX_3.4.32";
        public const string OnlyAllowedSymbol = "_ZSt21ios_base_library_initv";

        /// <summary>What <see cref="Apply"/> did.</summary>
        public enum Outcome
        {
            NotNeeded,
            AlreadyWeak,
            Patched,
        }

        /// <summary>The host's libstdc++.so.6, found where the dynamic loader looks on the common distributions.</summary>
        public static string? FindHostLibStdCxx()
        {
            var directories = new List<string>();
            string? ldPath = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ldPath))
            {
                directories.AddRange(ldPath!.Split(':').Where(d => d.Length > 0));
            }

            directories.AddRange(new[]
            {
                "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib/x86_64-linux-gnu",
                "/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib",
            });
            return directories.Select(d => System.IO.Path.Combine(d, "libstdc++.so.6")).FirstOrDefault(File.Exists);
        }

        /// <summary>Whether a libstdc++ defines the version a library needs.</summary>
        public static bool Provides(string libStdCxxPath, string version) =>
            ElfSymbolVersions.Read(libStdCxxPath).Definitions.Contains(version, StringComparer.Ordinal);

        /// <summary>
        /// Marks the GLIBCXX_3.4.32 requirement of <paramref name="libraryPath"/> weak, in place.
        /// Throws <see cref="InvalidOperationException"/> when any symbol other than the allowed one needs it.
        /// </summary>
        public static Outcome Apply(string libraryPath)
        {
            byte[] bytes = File.ReadAllBytes(libraryPath);
            ElfSymbolVersions elf = ElfSymbolVersions.Parse(libraryPath, bytes);
            ElfVersionNeed? need = elf.Needs.FirstOrDefault(n => n.Version == Version);
            if (need == null)
            {
                return Outcome.NotNeeded;
            }

            if (need.IsWeak)
            {
                return Outcome.AlreadyWeak;
            }

            IReadOnlyList<string> bound = elf.SymbolsBoundTo(need);
            List<string> unexpected = bound.Where(s => s != OnlyAllowedSymbol).ToList();
            if (unexpected.Count > 0)
            {
                throw new InvalidOperationException(
                    $"{libraryPath}: {Version} is needed by {string.Join(", ", unexpected)} besides {OnlyAllowedSymbol}; " +
                    "marking the version weak would hide a real missing symbol. Install a libstdc++ from GCC 13 or newer, " +
                    "or build with TorchBackend=external against a LibTorch built for this system.");
            }

            ushort flags = (ushort)(need.Flags | ElfSymbolVersions.VerFlagWeak);
            bytes[need.FlagsOffset] = (byte)(flags & 0xff);
            bytes[need.FlagsOffset + 1] = (byte)(flags >> 8);

            // Write beside, then rename: an interrupted build never leaves a half-written library.
            string temp = libraryPath + ".patching";
            // File.Replace renames over the target, which also never writes through a hard link into the NuGet cache.
            File.WriteAllBytes(temp, bytes);
            File.Replace(temp, libraryPath, destinationBackupFileName: null);
            return Outcome.Patched;
        }
    }

#if !EXPERIMENTS_NO_MSBUILD_TASK
    /// <summary>MSBuild task: patch every libLibTorchSharp.so copy under a folder when the host needs it.</summary>
    public sealed class PatchLibTorchSharpForHost : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public string Directory { get; set; } = "";

        public override bool Execute()
        {
            if (!System.IO.Directory.Exists(Directory))
            {
                return true;
            }

            string[] libraries = System.IO.Directory.GetFiles(Directory, "libLibTorchSharp.so", SearchOption.AllDirectories);
            if (libraries.Length == 0)
            {
                return true;
            }

            string? host = LibStdCxxCompat.FindHostLibStdCxx();
            if (host == null)
            {
                Log.LogWarning("Experiments: no libstdc++.so.6 found on this host; libLibTorchSharp.so left as restored.");
                return true;
            }

            if (LibStdCxxCompat.Provides(host, LibStdCxxCompat.Version))
            {
                return true;
            }

            foreach (string library in libraries)
            {
                try
                {
                    LibStdCxxCompat.Outcome outcome = LibStdCxxCompat.Apply(library);
                    if (outcome == LibStdCxxCompat.Outcome.Patched)
                    {
                        Log.LogMessage(
                            Microsoft.Build.Framework.MessageImportance.High,
                            $"Experiments: {host} lacks {LibStdCxxCompat.Version}; marked that requirement weak in {library} (only {LibStdCxxCompat.OnlyAllowedSymbol} uses it).");
                    }
                }
                catch (Exception e) when (e is InvalidOperationException || e is InvalidDataException || e is IOException)
                {
                    Log.LogError($"Experiments: cannot make libLibTorchSharp.so load on this host: {e.Message}");
                }
            }

            return !Log.HasLoggedErrors;
        }
    }
#endif
}
