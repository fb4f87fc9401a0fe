using System.Security.Cryptography;
using Experiments.Runtime.Native;
using static TorchSharp.torch;

/// <summary>
/// The bits of each primitive the catalog's training runs are made of, one SHA-256 prefix per operation, so that two
/// CPU models can be compared operation by operation instead of run by run: `diff` of two outputs names the first
/// operation whose bits differ. Inputs are computed in C# from an integer hash (no LibTorch generator), so they are the
/// same bits everywhere; each operation runs at a shape the catalog uses. The kernel set is pinned before LibTorch
/// loads (default portable, as `dotnet test` runs). Usage: kernel-bits [--kernels portable|native|NAME] [--threads 2].
/// </summary>
internal static class KernelBits
{
    public static int Run(string[] args)
    {
        int at = Array.IndexOf(args, "--kernels");
        string kernels = at >= 0 && at + 1 < args.Length ? args[at + 1] : KernelSet.PortableName;
        int threads = Memory.Option(args, "--threads", 2);
        KernelSet.Find(kernels).Pin();
        TorchRuntime.Initialize(threads);
        Console.WriteLine($"# kernel-bits: {MachineInfo.CpuIdentity()}, {threads} threads, oneDNN {(DeterministicAlgorithms.OneDnnEnabled ? "on" : "off")}");
        foreach ((string name, Func<Tensor[]> operation) in Operations())
        {
            using var scope = NewDisposeScope();
            Console.WriteLine($"{name,-44} {Digest(operation())}");
        }

        using (var scope = NewDisposeScope())
        {
            Console.WriteLine($"# sqrt not correctly rounded: {SqrtMisses(ScalarType.Float32)} of {1 << 21} in float32, {SqrtMisses(ScalarType.Float64)} through float64");
            Console.WriteLine($"# sqrt depending on position: {SqrtShifted()} of {(1 << 21) - 1} values differ when the same inputs start one element later");
        }

        return 0;
    }

    private static IEnumerable<(string, Func<Tensor[]>)> Operations()
    {
        // Dense layers (oneMKL SGEMM): the MLP's first layer at batch 128, forward and both gradients.
        yield return ("linear 128x784 -> 512", () => Linear(128, 784, 512));
        yield return ("linear 64x512 -> 256", () => Linear(64, 512, 256));
        yield return ("linear 48x256 -> 10 (partial batch)", () => Linear(48, 256, 10));

        // Elementwise functions LibTorch hands to oneMKL's vector maths or computes itself.
        yield return ("sqrt (0, 1e-3], 2M", () => [SqrtInputs().sqrt()]);
        yield return ("sqrt correctly rounded (optimizers)", () => [Experiments.Runtime.Training.KerasOptimizer.CorrectlyRoundedSqrt(SqrtInputs())]);
        yield return ("exp [-8, 8], 2M", () => [Values(1 << 21, 2, 16).exp()]);
        yield return ("log (0, 8], 2M", () => [Values(1 << 21, 3, 8).abs().add(1e-6f).log()]);
        yield return ("tanh [-8, 8], 2M", () => [Values(1 << 21, 4, 16).tanh()]);
        yield return ("sigmoid [-8, 8], 2M", () => [Values(1 << 21, 5, 16).sigmoid()]);
        yield return ("pow 0.5 (0, 1e-3], 2M", () => [SqrtInputs().pow(0.5)]);

        // Reductions and the loss.
        yield return ("sum of 1,048,576", () => [Values(1 << 20, 6, 2).sum()]);
        yield return ("mean over rows 4000x10", () => [Values(40000, 7, 2).view(4000, 10).mean([0])]);
        yield return ("log_softmax + nll 128x10, backward", () => Loss(128));

        // BatchNormalization in training (batch statistics), forward and backward.
        yield return ("batch_norm 64x512 train, backward", () => BatchNorm([64, 512]));
        yield return ("batch_norm 64x128x26x26 train, backward", () => BatchNorm([64, 128, 26, 26]));

        // Convolutions (oneDNN unless switched off) and pooling: seed 001's CNN and seed 002's branch kernels.
        (string Shape, Func<Tensor[]> Run)[] convolutions =
        [
            ("128x1x28x28 16 3x3", () => Convolution(128, 1, 28, 16, 3, 3)),
            ("128x16x26x26 36 3x3", () => Convolution(128, 16, 26, 36, 3, 3)),
            ("100x1x31x43 2 4x16", () => Convolution(100, 1, 31, 2, 4, 16, width: 43)),
            ("100x6x29x17 4 16x4", () => Convolution(100, 6, 29, 4, 16, 4, width: 17)),
            ("100x12x14x14 8 8x8", () => Convolution(100, 12, 14, 8, 8, 8)),
        ];
        foreach ((string shape, Func<Tensor[]> convolution) in convolutions)
        {
            yield return ($"conv2d {shape}, backward", convolution);
        }

        // The same five, pass by pass (output, input gradient, weight gradient, bias gradient), to name the pass that parts.
        foreach ((string shape, Func<Tensor[]> convolution) in convolutions)
        {
            string[] passes = ["forward", "input gradient", "weight gradient", "bias gradient"];
            for (int pass = 0; pass < passes.Length; pass++)
            {
                int chosen = pass;
                yield return ($"  {shape}: {passes[pass]}", () => [convolution()[chosen]]);
            }
        }

        yield return ("max_pool2d 128x36x24x24 2x2, backward", () => Pool(128, 36, 24));

        // A recurrent layer (ATen's cell-by-cell LSTM, as the generated code runs it).
        yield return ("lstm 64x28x28 -> 128, backward", () => Lstm(64, 28, 28, 128));
    }

    /// <summary><paramref name="count"/> values in [-scale/2, scale/2) from an integer hash of (stream, index): the same floats on every machine.</summary>
    private static Tensor Values(int count, int stream, float scale)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            uint h = unchecked(((uint)i * 2654435761u) ^ ((uint)stream * 2246822519u));
            h ^= h >> 15;
            h = unchecked(h * 2246822519u);
            h ^= h >> 13;
            values[i] = (((h >> 8) / 16777216f) - 0.5f) * scale;
        }

        return tensor(values);
    }

    /// <summary>
    /// How many of the sqrt line's values LibTorch's sqrt (computed in <paramref name="type"/>, rounded to float32)
    /// gives other than the correctly rounded square root. The reference is .NET's Math.Sqrt in double, rounded to
    /// float: double has more than 2 x 24 + 2 bits, so that double rounding is exact for a square root.
    /// </summary>
    private static int SqrtMisses(ScalarType type)
    {
        Tensor input = SqrtInputs();
        float[] x = input.data<float>().ToArray();
        float[] y = input.to_type(type).sqrt().to_type(ScalarType.Float32).data<float>().ToArray();
        return Enumerable.Range(0, x.Length).Count(i => y[i] != (float)Math.Sqrt(x[i]));
    }

    /// <summary>How many roots change when the same values sit one element later in memory (a vector loop's main part against its tail, or another alignment).</summary>
    private static int SqrtShifted()
    {
        Tensor input = SqrtInputs();
        float[] whole = input.sqrt().data<float>().ToArray();
        float[] shifted = cat([zeros(1), input]).narrow(0, 1, 1 << 21).contiguous().sqrt().data<float>().ToArray();
        float[] tail = input.narrow(0, 1, (1 << 21) - 1).clone().sqrt().data<float>().ToArray();
        return Enumerable.Range(1, (1 << 21) - 1).Count(i => whole[i] != tail[i - 1] || whole[i] != shifted[i]);
    }

    /// <summary>The square-root lines' inputs: 2M values in (0, 1e-3], where Adam's and RMSprop's second moments lie.</summary>
    private static Tensor SqrtInputs() => Values(1 << 21, 1, 1e-3f).abs().add(1e-12f);

    private static Tensor[] Linear(int batch, int inputs, int outputs)
    {
        Tensor x = Values(batch * inputs, 10, 2).view(batch, inputs).requires_grad_();
        Tensor w = Values(outputs * inputs, 11, 0.1f).view(outputs, inputs).requires_grad_();
        Tensor b = Values(outputs, 12, 0.1f).requires_grad_();
        Tensor y = nn.functional.linear(x, w, b);
        y.backward([Values(batch * outputs, 13, 2).view(batch, outputs)]);
        return [y, x.grad!, w.grad!, b.grad!];
    }

    private static Tensor[] Loss(int batch)
    {
        Tensor logits = Values(batch * 10, 20, 8).view(batch, 10).requires_grad_();
        Tensor labels = arange(batch, dtype: ScalarType.Int64).remainder(10);
        Tensor loss = nn.functional.nll_loss(nn.functional.log_softmax(logits, 1), labels);
        loss.backward();
        return [loss, logits.grad!];
    }

    private static Tensor[] BatchNorm(long[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        Tensor x = Values((int)count, 30, 4).view(shape).requires_grad_();
        Tensor gamma = Values((int)shape[1], 31, 1).add(1).requires_grad_();
        Tensor beta = Values((int)shape[1], 32, 1).requires_grad_();
        Tensor y = nn.functional.batch_norm(x, null, null, gamma, beta, training: true, momentum: 0.01, eps: 1e-3);
        y.backward([Values((int)count, 33, 2).view(shape)]);
        return [y, x.grad!, gamma.grad!, beta.grad!];
    }

    private static Tensor[] Convolution(int batch, int channels, int height, int filters, int kh, int kw, int? width = null)
    {
        int w = width ?? height;
        Tensor x = Values(batch * channels * height * w, 40, 2).view(batch, channels, height, w).requires_grad_();
        Tensor weight = Values(filters * channels * kh * kw, 41, 0.2f).view(filters, channels, kh, kw).requires_grad_();
        Tensor bias = Values(filters, 42, 0.2f).requires_grad_();
        Tensor y = nn.functional.conv2d(x, weight, bias);
        y.backward([Values((int)y.numel(), 43, 2).view(y.shape)]);
        return [y, x.grad!, weight.grad!, bias.grad!];
    }

    private static Tensor[] Pool(int batch, int channels, int size)
    {
        Tensor x = Values(batch * channels * size * size, 50, 2).view(batch, channels, size, size).requires_grad_();
        Tensor y = nn.functional.max_pool2d(x, 2);
        y.backward([Values((int)y.numel(), 51, 2).view(y.shape)]);
        return [y, x.grad!];
    }

    private static Tensor[] Lstm(int batch, int steps, int features, int units)
    {
        using var aten = Experiments.Runtime.Training.RecurrentKernels.Aten();
        var lstm = nn.LSTM(features, units, batchFirst: true);
        using (no_grad())
        {
            int stream = 62;
            foreach (var parameter in lstm.parameters())
            {
                parameter.copy_(Values((int)parameter.numel(), stream++, 0.2f).view(parameter.shape));
            }
        }

        Tensor x = Values(batch * steps * features, 60, 2).view(batch, steps, features).requires_grad_();
        Tensor y = lstm.call(x, null).Item1;
        y.backward([Values((int)y.numel(), 61, 2).view(y.shape)]);
        return [y, x.grad!, .. lstm.parameters().Select(p => p.grad!)];
    }

    private static string Digest(Tensor[] tensors)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (Tensor t in tensors)
        {
            float[] values = t.detach().contiguous().to_type(ScalarType.Float32).data<float>().ToArray();
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }
}
