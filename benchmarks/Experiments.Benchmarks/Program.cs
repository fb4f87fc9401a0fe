using Experiments.Runtime.IO;
using System.Diagnostics;
using System.Globalization;
using Experiments.Catalog;
using Experiments.Runtime;
using Experiments.Runtime.Data;
using Experiments.Runtime.Results;
using Experiments.Runtime.Training;

// Benchmarks print figures; they are not tests. Usage:
//   dotnet run -c Release --project benchmarks/Experiments.Benchmarks -- matmul [--threads 2] [--cold]
//   dotnet run -c Release --project benchmarks/Experiments.Benchmarks -- convolutions [--threads 2] [--batch 100]
//   dotnet run -c Release --project benchmarks/Experiments.Benchmarks -- weightgrads [--threads 2] [--batch 100]
//   dotnet run -c Release --project benchmarks/Experiments.Benchmarks -- kernel-bits [--kernels portable] [--threads 2]
//   dotnet run -c Release --project benchmarks/Experiments.Benchmarks -- memory [--epochs 50] [--train 6000] [--threads 2]
//   dotnet run -c Release --project benchmarks/Experiments.Benchmarks -- speed [--experiments 'mnist-*'] [--train 12000] [--device cpu] [--threads 2] [--layout flat|per-parameter] [--plan-out DIR]
return args.FirstOrDefault() switch
{
    "memory" => Memory.Run(args[1..]),
    "speed" => Speed.Run(args[1..]),
    "matmul" => Matmul.Run(args[1..]),
    "convolutions" => Convolutions.Run(args[1..]),
    "weightgrads" => Convolutions.WeightGradients(args[1..]),
    "kernel-bits" => KernelBits.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: memory [--epochs N] [--train N] [--threads N] [--experiment NAME]");
    Console.Error.WriteLine("       matmul [--threads N] [--cold]");
    Console.Error.WriteLine("       convolutions [--threads N] [--batch N]");
    Console.Error.WriteLine("       weightgrads [--threads N] [--batch N]");
    Console.Error.WriteLine("       kernel-bits [--kernels portable|native|NAME] [--threads N]");
    Console.Error.WriteLine("       speed [--experiments GLOBS] [--train N] [--device cpu|cuda] [--threads N] [--layout flat|per-parameter] [--plan-out DIR] [--no-onednn]");
    return 2;
}

/// <summary>
/// Throughput per catalog model: training and evaluation images per second, seconds per epoch and peak resident
/// memory. Each model trains --epochs epochs (default 3) on a seeded subset; the fastest epoch after the first is reported
/// (the first pays for allocator
/// warm-up and, on CUDA, kernel selection). Every model runs in this process one after the other, so the figures
/// compare models on the same machine state; the PyTorch reference (benchmarks/pytorch/reference.py) runs beside it.
/// </summary>
internal static class Speed
{
    /// <summary>Every catalog architecture that trains in minutes on a CPU (seed 002's variants share model 2's shape; fashion-cnn-bn needs a GPU).</summary>
    private const string DefaultModels =
        "mnist-mlp-512-rmsprop,mnist-cnn-16-36,mnist-lstm-128-adam,mnist-mlp-50-sgd,mnist-cnn-16-16,mnist-cnn-32-48,mnist-lstm-50-sgd,mnist-lstm-256,mnist-branches-2,fashion-mlp-bn";

    private const int TestLimit = 2000;

    public static int Run(string[] args)
    {
        int epochCount = int.Parse(Value(args, "--epochs") ?? "3", CultureInfo.InvariantCulture);
        if (epochCount < 2)
        {
            throw new ArgumentException("--epochs: use at least 2 (the first is warm-up and not measured).");
        }

        string[] patterns = (Value(args, "--experiments") ?? DefaultModels).Split(',');
        int train = int.Parse(Value(args, "--train") ?? "12000", CultureInfo.InvariantCulture);
        int threads = int.Parse(Value(args, "--threads") ?? "2", CultureInfo.InvariantCulture);
        string device = Value(args, "--device") ?? "cpu";
        ParameterLayoutKind layout = Value(args, "--layout") switch
        {
            null or "flat" => ParameterLayoutKind.Flat,
            "per-parameter" => ParameterLayoutKind.PerParameter,
            string other => throw new ArgumentException($"--layout {other}: use flat or per-parameter."),
        };
        IReadOnlyList<IExperiment> chosen = Experiments.Runtime.Hosting.ExperimentSelector.Select(ExperimentRegistry.All, patterns);
        Console.WriteLine(FormattableString.Invariant($"{device}, {threads} threads, {train} training images, fastest of epochs 2-{epochCount}, {layout} parameters; {Experiments.Runtime.Native.MachineInfo.CpuIdentity()}"));
        Console.WriteLine($"{"experiment",-26} {"batch",5} {"train img/s",11} {"eval img/s",10} {"s/epoch",8} {"peak MB",8}");
        string? planFolder = Value(args, "--plan-out");
        if (args.Contains("--no-onednn"))
        {
            Environment.SetEnvironmentVariable(Experiments.Runtime.Native.KernelSet.OneDnnVariable, "off");
            Experiments.Runtime.Native.TorchRuntime.Initialize(threads);
            Console.WriteLine("oneDNN convolutions off (diagnostic: other kernels, other bits)");
        }

        foreach (IExperiment experiment in chosen)
        {
            if (planFolder is not null)
            {
                WritePlan(planFolder, experiment, train, epochCount);
            }

            var epochs = new List<EpochMetrics>();
            var options = new RunOptions
            {
                Device = device,
                Threads = threads,
                Profile = "speed-benchmark",
                TrainLimit = train,
                TestLimit = TestLimit,
                Overrides = s => s.With(epochs: epochCount),
                ParameterLayout = layout,
            };
            RunIdentity identity = ExperimentRunner.Run(experiment, options, epochs.Add).Identity;
            EpochMetrics measured = epochs.Skip(1).MinBy(e => e.TrainSeconds)!;
            double evalSeconds = epochs.Skip(1).Min(e => e.Seconds - e.TrainSeconds);
            bool validates = measured.ValidationLoss is not null;
            int evaluated = identity.Run.ValidationExamples > 0 ? identity.Run.ValidationExamples : identity.Run.TestExamples;
            string eval = validates ? (evaluated / evalSeconds).ToString("F0", CultureInfo.InvariantCulture) : "-";
            using var self = Process.GetCurrentProcess();
            Console.WriteLine(FormattableString.Invariant(
                $"{experiment.Info.Name,-26} {experiment.Settings.BatchSize,5} {identity.Run.TrainExamples / measured.TrainSeconds,11:F0} {eval,10} {measured.TrainSeconds,8:F2} {self.PeakWorkingSet64 / 1048576.0,8:F0}"));
        }

        return 0;
    }

    /// <summary>
    /// The examples and batch order this benchmark trains each model on (from the framework's <see cref="DataPlan"/>), as
    /// JSON for benchmarks/pytorch/reference.py --plan: same subset, same order, same validation examples.
    /// </summary>
    /// <summary>Each dataset read once for all the plans (most models share MNIST).</summary>
    private static readonly Dictionary<string, ImageDataset> LoadedDatasets = [];

    private static void WritePlan(string folder, IExperiment experiment, int train, int epochs)
    {
        DatasetSpec spec = DatasetSpec.For(experiment.Info.Dataset);
        if (!LoadedDatasets.TryGetValue(spec.Key, out ImageDataset? dataset))
        {
            dataset = ImageDataset.Load(spec, new DatasetProvisioner());
            LoadedDatasets[spec.Key] = dataset;
        }

        DataPlan plan = DataPlan.Create(dataset.Train.Labels, dataset.Test.Labels, experiment.Settings.Validation, experiment.Settings.Seed, train, TestLimit);
        var document = new
        {
            dataset = spec.Key,
            batch = experiment.Settings.BatchSize,
            train = plan.Train,
            validation = plan.ValidationIsTestSet ? null : plan.Validation,
            validation_is_test = plan.ValidationIsTestSet,
            test = plan.Test,
            epochs = Enumerable.Range(0, epochs).Select(plan.EpochOrder).ToArray(),
        };
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, experiment.Info.Name + ".json"), System.Text.Json.JsonSerializer.Serialize(document));
    }

    private static string? Value(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}

/// <summary>
/// Long-run memory: trains seed 003's MLP (BatchNorm, dropout, Adam) for many epochs and prints the process's resident
/// set after every epoch. A leak shows as steady growth after the second epoch (the first two allocate caches, pools
/// and the optimizer's state); the target is under 5%.
/// </summary>
internal static class Memory
{
    public static int Run(string[] args)
    {
        int epochs = Option(args, "--epochs", 50);
        int train = Option(args, "--train", 6000);
        int threads = Option(args, "--threads", 2);
        string name = args.SkipWhile(a => a != "--experiment").Skip(1).FirstOrDefault() ?? "fashion-mlp-bn";
        IExperiment experiment = ExperimentRegistry.All.Single(e => e.Info.Name == name);
        var options = new RunOptions
        {
            Threads = threads,
            Profile = "memory-benchmark",
            TrainLimit = train,
            TestLimit = 1000,
            Overrides = s => s.With(epochs: epochs),
        };

        Console.WriteLine(FormattableString.Invariant($"{name}: {epochs} epochs on {train} training images, {threads} threads; RSS after each epoch"));
        Console.WriteLine("epoch  rss_mb  managed_mb  vs_epoch_2");
        var rss = new List<double>();
        var clock = Stopwatch.StartNew();
        ExperimentRunner.Run(experiment, options, epoch =>
        {
            using var process = Process.GetCurrentProcess();
            double mb = process.WorkingSet64 / 1048576.0;
            rss.Add(mb);
            string growth = rss.Count >= 2 ? FormattableString.Invariant($"{(mb / rss[1] - 1) * 100:+0.0;-0.0}%") : "";
            Console.WriteLine(FormattableString.Invariant($"{epoch.Epoch,5}  {mb,6:F0}  {GC.GetTotalMemory(false) / 1048576.0,10:F1}  {growth,10}"));
        });

        double final = (rss[^1] / rss[Math.Min(1, rss.Count - 1)] - 1) * 100;
        double peak = (rss.Skip(1).Max() / rss[Math.Min(1, rss.Count - 1)] - 1) * 100;
        Console.WriteLine(FormattableString.Invariant(
            $"growth after epoch 2: final {final:+0.0;-0.0}%, peak {peak:+0.0;-0.0}% (target < 5%): {(peak < 5 ? "PASS" : "FAIL")}; {clock.Elapsed.TotalSeconds:F0} s"));
        return peak < 5 ? 0 : 1;
    }

    internal static int Option(string[] args, string name, int fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }
}

/// <summary>
/// The matrix products of one training step of seed 004's MLP (784-512-512-10, batch 32): forward, input gradient and
/// weight gradient of each layer, as LibTorch runs them (torch.mm on row-major tensors), and an eval-sized forward.
/// Prints microseconds per call and GFLOP/s; benchmarks/pytorch/reference.py --matmul prints the same for PyTorch, so
/// that LibTorch's oneMKL and Debian PyTorch's OpenBLAS can be compared shape by shape.
/// </summary>
internal static class Matmul
{
    /// <summary>C[M,N] = A[M,K] B[K,N]; a transposed operand is a transposed view, as nn.Linear's weight (stored [out, in]) and autograd give.</summary>
    public static readonly (string Name, int M, int K, int N, bool TransposeA, bool TransposeB)[] Shapes =
    [
        ("fc1 forward     x W1'  [32,784]x[784,512]", 32, 784, 512, false, true),
        ("fc1 weight grad g' x   [512,32]x[32,784]", 512, 32, 784, true, false),
        ("fc2 forward     h W2'  [32,512]x[512,512]", 32, 512, 512, false, true),
        ("fc2 input grad  g W2   [32,512]x[512,512]", 32, 512, 512, false, false),
        ("fc2 weight grad g' h   [512,32]x[32,512]", 512, 32, 512, true, false),
        ("fc3 forward     h W3'  [32,512]x[512,10]", 32, 512, 10, false, true),
        ("eval fc1        x W1'  [1000,784]x[784,512]", 1000, 784, 512, false, true),
    ];

    public static int Run(string[] args)
    {
        int at = Array.IndexOf(args, "--threads");
        int threads = at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : 2;
        bool cold = args.Contains("--cold");
        Experiments.Runtime.Native.TorchRuntime.Initialize(threads);
        Console.WriteLine(FormattableString.Invariant(
            $"libtorch {Experiments.Runtime.Native.TorchRuntime.LibTorchPackage}, {threads} threads, {(cold ? "cold caches (32 MB written between calls; only the product timed)" : "warm caches")}; MKL_ENABLE_INSTRUCTIONS={Environment.GetEnvironmentVariable("MKL_ENABLE_INSTRUCTIONS") ?? "(unset)"}"));
        using var sweep = TorchSharp.torch.zeros(8L << 20);
        Console.WriteLine($"{"product",-44} {"us/call",8} {"GFLOP/s",8}");
        TorchSharp.torch.manual_seed(0);
        foreach ((string name, int m, int k, int n, bool transposeA, bool transposeB) in Shapes)
        {
            using var aStored = transposeA ? TorchSharp.torch.rand(k, m) : TorchSharp.torch.rand(m, k);
            using var bStored = transposeB ? TorchSharp.torch.rand(n, k) : TorchSharp.torch.rand(k, n);
            using var a = transposeA ? aStored.t() : aStored.alias();
            using var b = transposeB ? bStored.t() : bStored.alias();
            int calls = Math.Max(20, (int)(2e9 / (2.0 * m * n * k)));
            double best = double.MaxValue;
            for (int round = 0; round < 5; round++)
            {
                double seconds = 0;
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < calls; i++)
                {
                    if (cold)
                    {
                        sweep.add_(1);
                        clock.Restart();
                    }

                    a.mm(b).Dispose();
                    if (cold)
                    {
                        seconds += clock.Elapsed.TotalSeconds;
                    }
                }

                best = Math.Min(best, (cold ? seconds : clock.Elapsed.TotalSeconds) / calls);
            }

            Console.WriteLine(FormattableString.Invariant($"{name,-44} {best * 1e6,8:F1} {2.0 * m * n * k / best / 1e9,8:F1}"));
        }

        return 0;
    }
}
