using Experiments.Runtime.Training;

namespace Experiments.Runtime.Tests;

/// <summary>The identity of a made-up CPU run of experiment "tiny", for comparison tests that build snapshots by hand.</summary>
internal static class TestIdentities
{
    public static RunIdentity Cpu(string cpu, int epochs, int trainExamples, int testExamples) => new(
        "tiny",
        new RunDefinition
        {
            Fingerprint = "0123456789abcdef", Dataset = "mnist", Seed = 1, Profile = "smoke", Settings = "s", Epochs = epochs,
            TrainExamples = trainExamples, ValidationExamples = 0, TestExamples = testExamples, Initialisers = "keras",
        },
        Environment(cpu));

    public static RunEnvironment Environment(string cpu) => new()
    {
        Device = "cpu", DeviceName = cpu, Threads = 2, Backend = "cpu", TorchSharp = "0.107.0", LibTorch = "libtorch-cpu-linux-x64 2.10.0",
        DotNet = ".NET 10", Os = "linux-x64", Deterministic = true, Tf32 = false, Allocator = "zero",
    };
}
