using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Tensor = TorchSharp.torch.Tensor;

namespace Experiments.Tests.Shared;

/// <summary>
/// The other runtimes an export must agree with: ONNX Runtime (in process) and Debian's PyTorch (python3-torch,
/// through tests/export/check.py). Shared by the generator tests (every layer family) and the runtime tests (the
/// export command end to end).
/// </summary>
internal static class ExportChecks
{
    /// <summary>
    /// The largest difference ONNX Runtime's and PyTorch's logits may have from TorchSharp's: 1e-5 of the largest
    /// logit's size, at least 1e-5. Float32 sums in another order differ by a few units in the last place of the sums'
    /// size (a model with logits near 200 differs by about 1e-4 in absolute terms, 6e-7 relative).
    /// </summary>
    public const float RelativeTolerance = 1e-5f;

    public static float Tolerance(float[] logits) => RelativeTolerance * MathF.Max(1f, logits.Max(MathF.Abs));

    /// <summary>ONNX Runtime's logits for <paramref name="inputs"/> (float32, the model's input shape with the batch first).</summary>
    public static float[] OnnxRuntimeLogits(string onnxPath, Tensor inputs)
    {
        using var session = new InferenceSession(onnxPath);
        using Tensor host = inputs.cpu().contiguous();
        var input = new DenseTensor<float>(host.data<float>().ToArray(), host.shape.Select(d => (int)d).ToArray());
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> outputs = session.Run([NamedOnnxValue.CreateFromTensor("input", input)], ["logits"]);
        return outputs.Single().AsTensor<float>().ToArray();
    }

    /// <summary>The largest absolute difference between two equally long arrays.</summary>
    public static float LargestDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        return a.Zip(b, (x, y) => MathF.Abs(x - y)).Max();
    }

    /// <summary>
    /// tests/export/check.py on an export folder with reference.pt, where /usr/bin/python3 has torch and onnx (CI
    /// installs Debian's python3-torch and python3-onnx and sets EXPERIMENTS_REQUIRE_PYTHON_TORCH=1, which makes
    /// their absence a failure). Returns its output, or null where they are not installed.
    /// </summary>
    public static string? PythonCheck(string repositoryRoot, string exportFolder)
    {
        const string python = "/usr/bin/python3";
        bool available = File.Exists(python) && Run(python, ["-c", "import torch, onnx"]).ExitCode == 0;
        if (!available)
        {
            Assert.True(Environment.GetEnvironmentVariable("EXPERIMENTS_REQUIRE_PYTHON_TORCH") is null, "python3 with torch and onnx is required here (apt-get install python3-torch python3-onnx)");
            return null;
        }

        (int exitCode, string output) = Run(python, [Path.Combine(repositoryRoot, "tests", "export", "check.py"), exportFolder, "--tolerance", RelativeTolerance.ToString("R", System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(exitCode == 0, output);
        return output;
    }

    private static (int ExitCode, string Output) Run(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        arguments.ToList().ForEach(start.ArgumentList.Add);
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }
}
