using Experiments.Build;
using Experiments.Runtime.Native;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>The GLIBCXX patch on real ELF files: TorchSharp's NuGet libLibTorchSharp.so and the host's libstdc++.</summary>
public sealed class LibStdCxxCompatTests
{
    private static string FreshCopy()
    {
        string source = TestEnvironment.Metadata("NuGetLibTorchSharp");
        string dir = TestEnvironment.TempDirectory("elf");
        string copy = Path.Combine(dir, "libLibTorchSharp.so");
        File.Copy(source, copy);
        return copy;
    }

    [Fact]
    public void The_nuget_library_needs_glibcxx_3_4_32_for_one_symbol_only()
    {
        ElfSymbolVersions elf = ElfSymbolVersions.Read(FreshCopy());
        ElfVersionNeed need = Assert.Single(elf.Needs, n => n.Version == LibStdCxxCompat.Version);
        Assert.Equal("libstdc++.so.6", need.File);
        Assert.False(need.IsWeak);
        Assert.Equal([LibStdCxxCompat.OnlyAllowedSymbol], elf.SymbolsBoundTo(need));
    }

    [Fact]
    public void Patching_flips_exactly_the_weak_flag_and_is_idempotent()
    {
        string copy = FreshCopy();
        byte[] before = File.ReadAllBytes(copy);
        Assert.Equal(LibStdCxxCompat.Outcome.Patched, LibStdCxxCompat.Apply(copy));
        byte[] after = File.ReadAllBytes(copy);
        Assert.Equal(before.Length, after.Length);
        int[] changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToArray();
        Assert.Single(changed);
        Assert.True(ElfSymbolVersions.Read(copy).Needs.Single(n => n.Version == LibStdCxxCompat.Version).IsWeak);
        Assert.Equal(LibStdCxxCompat.Outcome.AlreadyWeak, LibStdCxxCompat.Apply(copy));
    }

    [Fact]
    public void Another_symbol_bound_to_the_version_refuses_the_patch_and_names_it()
    {
        string copy = FreshCopy();
        byte[] bytes = File.ReadAllBytes(copy);
        ElfSymbolVersions elf = ElfSymbolVersions.Parse(copy, bytes);
        ElfVersionNeed need = elf.Needs.Single(n => n.Version == LibStdCxxCompat.Version);

        // Rebind a second real dynamic symbol to GLIBCXX_3.4.32 in .gnu.version (one 16-bit entry per symbol).
        int victim = elf.SymbolVersions.ToList().FindIndex(s => s.Value > 1 && s.Value != need.Index);
        string victimName = elf.SymbolVersions[victim].Key;
        long versym = FindVersymOffset(bytes);
        bytes[versym + (victim * 2)] = (byte)need.Index;
        bytes[versym + (victim * 2) + 1] = (byte)(need.Index >> 8);
        File.WriteAllBytes(copy, bytes);

        var e = Assert.Throws<InvalidOperationException>(() => LibStdCxxCompat.Apply(copy));
        Assert.Contains(victimName, e.Message, StringComparison.Ordinal);
        Assert.Equal(bytes, File.ReadAllBytes(copy));
    }

    [Fact]
    public void A_truncated_library_is_reported_with_its_path()
    {
        string copy = FreshCopy();
        byte[] bytes = File.ReadAllBytes(copy);
        File.WriteAllBytes(copy, bytes.AsSpan(0, 4096).ToArray());
        var e = Assert.Throws<InvalidDataException>(() => ElfSymbolVersions.Read(copy));
        Assert.Contains(copy, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_host_libstdcxx_definitions_are_read()
    {
        string? host = LibStdCxxCompat.FindHostLibStdCxx();
        Assert.NotNull(host);
        IReadOnlyList<string> definitions = ElfSymbolVersions.Read(host).Definitions;
        Assert.Contains("GLIBCXX_3.4", definitions);
        Assert.Contains("CXXABI_1.3", definitions);
    }

    [Fact]
    public void The_load_diagnosis_names_the_missing_version_when_the_host_lacks_it()
    {
        string copy = FreshCopy();
        string host = LibStdCxxCompat.FindHostLibStdCxx()!;
        string message = NativeLoadDiagnosis.Explain(Path.GetDirectoryName(copy)!, host);
        if (LibStdCxxCompat.Provides(host, LibStdCxxCompat.Version))
        {
            Assert.Contains("LibTorch itself is probably missing", message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("needs GLIBCXX_3.4.32 from libstdc++.so.6", message, StringComparison.Ordinal);
            Assert.Contains(host, message, StringComparison.Ordinal);
            LibStdCxxCompat.Apply(copy);
            Assert.Contains("LibTorch itself is probably missing", NativeLoadDiagnosis.Explain(Path.GetDirectoryName(copy)!, host), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_build_output_copy_was_patched_and_the_nuget_cache_was_not()
    {
        string host = LibStdCxxCompat.FindHostLibStdCxx()!;
        string output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        bool hostHasIt = LibStdCxxCompat.Provides(host, LibStdCxxCompat.Version);
        Assert.Equal(!hostHasIt, ElfSymbolVersions.Read(output).Needs.Single(n => n.Version == LibStdCxxCompat.Version).IsWeak);
        Assert.False(ElfSymbolVersions.Read(TestEnvironment.Metadata("NuGetLibTorchSharp")).Needs.Single(n => n.Version == LibStdCxxCompat.Version).IsWeak);
    }

    private static long FindVersymOffset(byte[] elf)
    {
        long table = BitConverter.ToInt64(elf, 0x28);
        int size = BitConverter.ToUInt16(elf, 0x3a);
        int count = BitConverter.ToUInt16(elf, 0x3c);
        for (int i = 0; i < count; i++)
        {
            long at = table + (i * size);
            if (BitConverter.ToUInt32(elf, (int)at + 4) == 0x6fffffff)
            {
                return BitConverter.ToInt64(elf, (int)at + 0x18);
            }
        }

        throw new InvalidDataException("no .gnu.version section");
    }
}
