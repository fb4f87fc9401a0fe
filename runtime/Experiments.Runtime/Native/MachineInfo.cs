namespace Experiments.Runtime.Native;

/// <summary>Facts about the machine that belong in a result's identity.</summary>
public static class MachineInfo
{
    private const string CpuInfoPath = "/proc/cpuinfo";

    /// <summary>Environment variables that pin the CPU kernels LibTorch, oneMKL and oneDNN choose (see README, reproducibility).</summary>
    public static readonly IReadOnlyList<string> KernelSelectionVariables = ["ATEN_CPU_CAPABILITY", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS", "DNNL_MAX_CPU_ISA", KernelSet.OneDnnVariable];

    /// <summary>
    /// The CPU as far as kernel choice is concerned: model name, family/model/stepping (virtual machines often show only
    /// "AMD EPYC"), the vector instruction tier LibTorch dispatches to, and any variable that pins kernel selection.
    /// </summary>
    public static string CpuIdentity()
    {
        IReadOnlyDictionary<string, string> cpu = FirstProcessor();
        string name = cpu.TryGetValue("model name", out string? model) ? model : System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
        string generation = cpu.TryGetValue("cpu family", out string? family) && cpu.TryGetValue("model", out string? number)
            ? $" (family {family} model {number}{(cpu.TryGetValue("stepping", out string? stepping) ? $" stepping {stepping}" : "")})"
            : "";
        string pinned = string.Concat(KernelSelectionVariables
            .Select(v => (Name: v, Value: Environment.GetEnvironmentVariable(v)))
            .Where(v => !string.IsNullOrEmpty(v.Value))
            .Select(v => $", {v.Name}={v.Value}"));
        return $"{name}{generation}, isa {AtenCpuCapability(cpu)}{pinned}";
    }

    /// <summary>
    /// The kernel tier ATen dispatches to: ATEN_CPU_CAPABILITY when set, else the best the CPU supports
    /// (avx512 needs AVX-512 F/BW/VL/DQ, avx2 needs AVX2 and FMA).
    /// </summary>
    private static string AtenCpuCapability(IReadOnlyDictionary<string, string> cpu)
    {
        if (Environment.GetEnvironmentVariable("ATEN_CPU_CAPABILITY") is { Length: > 0 } forced)
        {
            return forced;
        }

        if (!cpu.TryGetValue("flags", out string? flagText))
        {
            return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        }

        var flags = new HashSet<string>(flagText.Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
        return new[] { "avx512f", "avx512bw", "avx512vl", "avx512dq" }.All(flags.Contains) ? "avx512"
            : flags.Contains("avx2") && flags.Contains("fma") ? "avx2"
            : "default";
    }

    /// <summary>The CPU's feature flags (/proc/cpuinfo), or null where they cannot be read.</summary>
    public static IReadOnlySet<string>? CpuFlags() =>
        FirstProcessor().TryGetValue("flags", out string? flagText)
            ? new HashSet<string>(flagText.Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal)
            : null;

    private static Dictionary<string, string> FirstProcessor()
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(CpuInfoPath))
        {
            return fields;
        }

        foreach (string line in File.ReadLines(CpuInfoPath))
        {
            if (line.Length == 0 && fields.Count > 0)
            {
                break;
            }

            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                fields.TryAdd(line[..colon].Trim(), line[(colon + 1)..].Trim());
            }
        }

        return fields;
    }
}
