using System.Diagnostics;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>Trains the same experiment in two separate processes through the real command line and compares bytes.</summary>
public sealed class ProcessDeterminismTests
{
    internal static (int ExitCode, string Output) Cli(params string[] arguments) => CliIn(null, arguments);

    /// <summary>The catalog executable run in <paramref name="folder"/> (null: this process's folder), where it finds experiments.yaml first.</summary>
    internal static (int ExitCode, string Output) CliIn(string? folder, params string[] arguments) => CliIn(folder, null, arguments);

    /// <param name="environment">Variables set in the child (a scheduler's, say).</param>
    internal static (int ExitCode, string Output) CliIn(string? folder, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        ProcessStartInfo start = TestEnvironment.ChildProcess("dotnet");
        start.WorkingDirectory = folder ?? "";
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        start.ArgumentList.Add(TestEnvironment.Metadata("CatalogExecutable"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }

    [Fact]
    public void Two_processes_write_byte_identical_metrics()
    {
        string a = TestEnvironment.TempDirectory("run-a");
        string b = TestEnvironment.TempDirectory("run-b");
        var first = Cli("run", "mnist-mlp-512-rmsprop", "--profile", "smoke", "--threads", "2", "--out", a);
        var second = Cli("run", "mnist-mlp-512-rmsprop", "--profile", "smoke", "--threads", "2", "--out", b);
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.True(second.ExitCode == 0, second.Output);
        foreach (string file in new[] { "metrics.json", "misclassified.json" })
        {
            byte[] left = File.ReadAllBytes(Path.Combine(a, "mnist-mlp-512-rmsprop", file));
            byte[] right = File.ReadAllBytes(Path.Combine(b, "mnist-mlp-512-rmsprop", file));
            Assert.Equal(left, right);
        }

        Assert.Empty(Directory.GetDirectories(a, ".*"));
    }

    [Fact]
    public void Unknown_experiment_is_a_usage_error_listing_the_known_ones()
    {
        var (exitCode, output) = Cli("run", "no-such-*", "--out", TestEnvironment.TempDirectory("none"));
        Assert.Equal(2, exitCode);
        Assert.Contains("No experiment matches 'no-such-*'", output, StringComparison.Ordinal);
        Assert.Contains("mnist-mlp-512-rmsprop", output, StringComparison.Ordinal);
    }

    [WithoutCudaFact]
    public void Cuda_on_a_machine_without_it_exits_with_the_device_error_code()
    {
        var (exitCode, output) = Cli("run", "mnist-mlp-512-rmsprop", "--profile", "smoke", "--device", "cuda", "--out", TestEnvironment.TempDirectory("cuda"));
        Assert.Equal(4, exitCode);
        Assert.Contains("CUDA is not available", output, StringComparison.Ordinal);
    }
}

/// <summary>Approval through the real command line: the repeat runs in a child process of the catalog executable.</summary>
public sealed class AcceptCommandTests
{
    /// <summary>
    /// A snapshot made under the portable kernel set (as `dotnet test` makes them) is repeated under that set: a repeat
    /// with this CPU's own kernels would give other bits and be refused. Without --kernels no envelope is measured.
    /// </summary>
    [Fact]
    public void Accept_repeats_a_run_under_the_kernel_set_it_was_made_with()
    {
        string folder = TestEnvironment.TempDirectory("accept-portable");
        string received = Path.Combine(folder, "mnist-branches-1.received.txt");
        string[] sizes = ["--set", "experiments.mnist-branches-1.profiles.smoke.train_examples=1000"];
        var run = ProcessDeterminismTests.Cli(["run", "mnist-branches-1", "--profile", "smoke", "--threads", "2", "--pin-kernels", "portable", .. sizes, "--out", Path.Combine(folder, "results"), "--snapshot", received]);
        Assert.True(run.ExitCode == 0, run.Output);
        var native = ProcessDeterminismTests.Cli(["run", "mnist-branches-1", "--profile", "smoke", "--threads", "2", .. sizes, "--out", Path.Combine(folder, "native"), "--snapshot", Path.Combine(folder, "native.txt")]);
        Assert.True(native.ExitCode == 0, native.Output);
        Assert.NotEqual(Final(File.ReadAllText(received)), Final(File.ReadAllText(Path.Combine(folder, "native.txt"))));

        // The repeat needs the same sizes: the approval runs `run NAME --profile smoke`, so they go in experiments.yaml.
        File.WriteAllText(Path.Combine(folder, "experiments.yaml"), "experiments:\n  mnist-branches-1:\n    profiles:\n      smoke: { train_examples: 1000 }\n");
        var accept = ProcessDeterminismTests.CliIn(folder, "accept", folder);
        Assert.True(accept.ExitCode == 0, accept.Output);
        Assert.Contains("kernel set portable", accept.Output, StringComparison.Ordinal);
        string verified = Path.Combine(folder, "mnist-branches-1.verified.txt");
        Assert.Null(Experiments.Runtime.Snapshots.SnapshotDocument.Parse(File.ReadAllText(verified), verified).Kernels);
    }

    private static string Final(string snapshot) => snapshot[snapshot.IndexOf("final:", StringComparison.Ordinal)..];

    [Fact]
    public void Accept_approves_a_repeatable_run_and_refuses_a_tampered_one()
    {
        string folder = TestEnvironment.TempDirectory("accept");
        string good = Path.Combine(folder, "good", "mnist-mlp-50-sgd.received.txt");
        string tampered = Path.Combine(folder, "tampered", "mnist-mlp-50-sgd.received.txt");
        var run = ProcessDeterminismTests.Cli("run", "mnist-mlp-50-sgd", "--profile", "smoke", "--threads", "2", "--out", Path.Combine(folder, "results"), "--snapshot", good);
        Assert.True(run.ExitCode == 0, run.Output);
        Directory.CreateDirectory(Path.GetDirectoryName(tampered)!);
        string text = File.ReadAllText(good);
        int at = text.IndexOf("test_accuracy: ", StringComparison.Ordinal) + "test_accuracy: ".Length;
        File.WriteAllText(tampered, text[..at] + "0.999" + text[text.IndexOf('\n', at)..]);

        var accept = ProcessDeterminismTests.Cli("accept", folder, "--kernels", "all");

        Assert.Equal(1, accept.ExitCode);
        Assert.Contains("1 approved, 1 refused", accept.Output, StringComparison.Ordinal);
        // The approved file is the received run plus the kernel envelope measured under every set this CPU can run.
        string verifiedPath = Path.Combine(folder, "good", "mnist-mlp-50-sgd.verified.txt");
        var verified = Experiments.Runtime.Snapshots.SnapshotDocument.Parse(File.ReadAllText(verifiedPath), verifiedPath);
        Assert.Equal(text, (verified with { Kernels = null }).Render());
        Assert.Equal(
            Experiments.Runtime.Native.KernelSet.Available().Where(k => k.Variables.Count > 0).Select(k => k.Name),
            verified.Kernels!.Runs.Select(r => r.Set));
        Assert.Contains("Kernel envelope over", accept.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(good));
        Assert.True(File.Exists(tampered));
        Assert.False(File.Exists(Path.Combine(folder, "tampered", "mnist-mlp-50-sgd.verified.txt")));
        Assert.Contains("-  test_accuracy: 0.999", accept.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Accept_approves_from_a_repeat_made_elsewhere_and_names_the_fields_of_one_that_differs()
    {
        // Two separate runs stand for the two runs a GPU machine makes; this machine must not re-run them.
        string folder = TestEnvironment.TempDirectory("elsewhere");
        string received = Path.Combine(folder, "same", "mnist-mlp-50-sgd.received.txt");
        string different = Path.Combine(folder, "different", "mnist-mlp-50-sgd.received.txt");
        foreach (string snapshot in (string[])[received, received[..^".received.txt".Length] + ".repeat.txt"])
        {
            var run = ProcessDeterminismTests.Cli("run", "mnist-mlp-50-sgd", "--profile", "smoke", "--threads", "2", "--out", Path.Combine(folder, "results"), "--snapshot", snapshot);
            Assert.True(run.ExitCode == 0, run.Output);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(different)!);
        string text = File.ReadAllText(received);
        File.WriteAllText(different, text);
        int at = text.IndexOf("train_loss: ", StringComparison.Ordinal) + "train_loss: ".Length;
        File.WriteAllText(different[..^".received.txt".Length] + ".repeat.txt", text[..at] + "0.5" + text[text.IndexOf('\n', at)..]);

        var accept = ProcessDeterminismTests.Cli("accept", folder, "--repeated-elsewhere");

        Assert.Equal(1, accept.ExitCode);
        Assert.Contains("1 approved, 1 refused", accept.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("repeating in a separate process", accept.Output, StringComparison.Ordinal);
        Assert.Equal(text, File.ReadAllText(Path.Combine(folder, "same", "mnist-mlp-50-sgd.verified.txt")));
        Assert.False(File.Exists(Path.Combine(folder, "same", "mnist-mlp-50-sgd.repeat.txt")), "an approved repeat is removed with the received file");
        Assert.Contains("final.train_loss: approved", accept.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(different));
    }
}
