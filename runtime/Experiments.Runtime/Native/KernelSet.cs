namespace Experiments.Runtime.Native;

/// <summary>
/// One choice of CPU kernels: the environment variables that make ATen (ATEN_CPU_CAPABILITY), oneMKL (MKL_CBWR) and
/// oneDNN (DNNL_MAX_CPU_ISA) run the kernels another CPU would. They are read when each library initialises, so a
/// set applies to a whole process: `run --kernels all` starts one process per set, `run --kernels NAME` pins one.
/// </summary>
/// <param name="Requires">CPU flags (/proc/cpuinfo) the set needs; a set this CPU cannot run is left out.</param>
public sealed record KernelSet(string Name, string Description, IReadOnlyDictionary<string, string> Variables, IReadOnlyList<string> Requires)
{
    /// <summary>EXPERIMENTS_ONEDNN=off: LibTorch runs no oneDNN kernel (its own im2col + oneMKL convolutions, cell-by-cell recurrent layers); recorded in the CPU identity.</summary>
    public const string OneDnnVariable = "EXPERIMENTS_ONEDNN";

    /// <summary>
    /// The set `dotnet test` pins for the smoke profile, so that a snapshot approved on one CPU model is reproduced on
    /// another: ATen's default tier is plain compiled C++, oneMKL's compatible path is documented to give the same
    /// results on every x86-64 CPU, and oneDNN at SSE4.1 gave the same bits on two CPU models in 15 of 19 smoke runs
    /// and last-digit differences in the other 4 (docs/reproducibility.md). Turning oneDNN off instead
    /// (EXPERIMENTS_ONEDNN=off) made seed 002's smoke run 5 times slower here (im2col convolutions), for no measured gain.
    /// </summary>
    public const string PortableName = "portable";

    /// <summary>What this CPU picks by itself (no variable set).</summary>
    public static KernelSet Native { get; } = new("native", "what this CPU picks by itself", new Dictionary<string, string>(), []);

    /// <summary>
    /// The sets a result is measured under. Each forces one library a tier down (what a CPU without AVX-512 runs),
    /// `avx2` forces all three (a typical x86-64 CPU of the last decade), `portable` the lowest tier of each.
    /// </summary>
    public static IReadOnlyList<KernelSet> All { get; } =
    [
        Native,
        new("aten-avx2", "ATen's elementwise and reduction kernels at AVX2", Vars(("ATEN_CPU_CAPABILITY", "avx2")), ["avx2", "fma"]),
        new("aten-default", "ATen's kernels without vector instructions", Vars(("ATEN_CPU_CAPABILITY", "default")), []),
        new("mkl-compatible", "oneMKL's matrix products in its compatible (SSE2) code path", Vars(("MKL_CBWR", "COMPATIBLE")), []),
        new("dnnl-avx2", "oneDNN's convolutions at AVX2", Vars(("DNNL_MAX_CPU_ISA", "AVX2")), ["avx2", "fma"]),
        new("avx2", "all three libraries at AVX2", Vars(("ATEN_CPU_CAPABILITY", "avx2"), ("MKL_CBWR", "AVX2"), ("DNNL_MAX_CPU_ISA", "AVX2")), ["avx2", "fma"]),
        new(PortableName, "all three at their most portable tier", Vars(("ATEN_CPU_CAPABILITY", "default"), ("MKL_CBWR", "COMPATIBLE"), ("DNNL_MAX_CPU_ISA", "SSE41")), ["sse4_1"]),
    ];

    /// <summary>The sets this machine can run (every one, where the CPU's flags cannot be read).</summary>
    public static IReadOnlyList<KernelSet> Available()
    {
        IReadOnlySet<string>? flags = MachineInfo.CpuFlags();
        return All.Where(set => flags is null || set.Requires.All(flags.Contains)).ToList();
    }

    /// <summary>`all`, or comma-separated set names.</summary>
    public static IReadOnlyList<KernelSet> Parse(string text)
    {
        if (text.Trim() == "all")
        {
            return Available();
        }

        return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Find).ToList();
    }

    /// <summary>
    /// The set whose variables a recorded CPU identity (<see cref="MachineInfo.CpuIdentity"/>) shows pinned, exactly and
    /// no others; <see cref="Native"/> when none is pinned; null for a combination that is no set.
    /// </summary>
    public static KernelSet? PinnedIn(string cpuIdentity)
    {
        Dictionary<string, string> pinned = PinnedVariables(cpuIdentity);
        return All.FirstOrDefault(set => set.Variables.Count == pinned.Count && set.Variables.All(v => pinned.GetValueOrDefault(v.Key) == v.Value));
    }

    /// <summary>A recorded CPU identity without its pinned variables and ATen tier: the CPU model alone.</summary>
    public static string CpuModelOf(string cpuIdentity)
    {
        int isa = cpuIdentity.IndexOf(", isa ", StringComparison.Ordinal);
        return isa < 0 ? cpuIdentity : cpuIdentity[..isa];
    }

    private static Dictionary<string, string> PinnedVariables(string cpuIdentity) => cpuIdentity
        .Split(", ", StringSplitOptions.TrimEntries)
        .Select(part => part.Split('=', 2))
        .Where(pair => pair.Length == 2 && MachineInfo.KernelSelectionVariables.Contains(pair[0]))
        .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);

    public static KernelSet Find(string name) => All.FirstOrDefault(s => s.Name == name)
        ?? throw new ArgumentException($"Unknown kernel set '{name}'. Known: all, {string.Join(", ", All.Select(s => s.Name))}.");

    /// <summary>
    /// Pins this set for the current process: in .NET's environment (recorded in the result's identity) and in the
    /// native one, before LibTorch loads. A variable the user already set is a conflict, not something to overwrite.
    /// </summary>
    public void Pin()
    {
        foreach ((string name, string value) in Variables)
        {
            string? existing = Environment.GetEnvironmentVariable(name);
            if (existing is { Length: > 0 } && existing != value)
            {
                throw new ArgumentException($"Kernel set '{Name}' sets {name}={value}, but the environment already has {name}={existing}; unset it or pick another set.");
            }

            // The libraries read these once, when they initialise: a set pinned later would be recorded but not run.
            if (existing != value && TorchRuntime.IsLoaded && name != OneDnnVariable)
            {
                throw new InvalidOperationException($"Kernel set '{Name}' must be pinned before LibTorch loads in this process ({name} is read only then); pin it first or run it in a separate process.");
            }

            Environment.SetEnvironmentVariable(name, value);
            TorchRuntime.SetNativeEnvironment(name, value, overwrite: true);
        }
    }

    public override string ToString() =>
        Variables.Count == 0 ? Name : $"{Name} ({string.Join(" ", Variables.Select(v => $"{v.Key}={v.Value}"))})";

    private static Dictionary<string, string> Vars(params (string Name, string Value)[] variables) =>
        variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
}
