using System.Diagnostics;
using Experiments.Runtime.Hosting;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>Interrupted runs resume exactly; divergence, locks and changed runs give clear errors. Real processes, real signals.</summary>
public sealed class ResilienceTests
{
    private const string Name = "mnist-mlp-512-rmsprop";

    private static readonly string[] Run = ["run", Name, "--profile", "smoke", "--epochs", "4", "--threads", "2"];

    private static readonly Lazy<string> Uninterrupted = new(() =>
    {
        string folder = TestEnvironment.TempDirectory("uninterrupted");
        var run = ProcessDeterminismTests.Cli([.. Run, "--out", folder]);
        Assert.True(run.ExitCode == 0, run.Output);
        return File.ReadAllText(Path.Combine(folder, Name, "metrics.json"));
    });

    private static Process Start(string folder, params string[] extra)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in (string[])[TestEnvironment.Metadata("CatalogExecutable"), .. Run, "--out", folder, .. extra])
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    private static void WaitForCheckpoint(string folder, Process process)
    {
        string checkpoint = Path.Combine(folder, ".checkpoints", Name + ".ckpt");
        var clock = Stopwatch.StartNew();
        while (!File.Exists(checkpoint))
        {
            Assert.False(process.HasExited, "the run ended before writing its first checkpoint");
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), "no checkpoint after 3 minutes");
            Thread.Sleep(50);
        }
    }

    [Fact]
    public void A_run_killed_mid_epoch_resumes_to_the_same_bits()
    {
        string folder = TestEnvironment.TempDirectory("killed");
        using Process first = Start(folder);
        WaitForCheckpoint(folder, first);
        Thread.Sleep(300);
        first.Kill();
        first.WaitForExit();
        Assert.False(File.Exists(Path.Combine(folder, Name, "metrics.json")), "the killed run must not have finished");

        var resumed = ProcessDeterminismTests.Cli([.. Run, "--out", folder, "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Output);
        Assert.Contains("resuming", resumed.Output, StringComparison.Ordinal);
        // metrics.json holds every metric, both confusion matrices and the SHA-256 of the final weights.
        Assert.Equal(Uninterrupted.Value, File.ReadAllText(Path.Combine(folder, Name, "metrics.json")));
        Assert.False(File.Exists(Path.Combine(folder, ".checkpoints", Name + ".ckpt")), "a finished run removes its checkpoint");
    }

    [Fact]
    public async Task Sigint_stops_at_a_batch_boundary_saves_and_resumes_exactly()
    {
        string folder = TestEnvironment.TempDirectory("sigint");
        using Process first = Start(folder);
        Task<string> stderr = first.StandardError.ReadToEndAsync();
        Task<string> stdout = first.StandardOutput.ReadToEndAsync();
        WaitForCheckpoint(folder, first);
        Thread.Sleep(200);
        using (Process signal = Process.Start("kill", ["-INT", first.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            signal.WaitForExit();
        }

        await first.WaitForExitAsync();
        string output = await stdout + await stderr;
        if (first.ExitCode == 0)
        {
            // The signal arrived after the last batch: nothing to resume, and the result is complete.
            Assert.Equal(Uninterrupted.Value, File.ReadAllText(Path.Combine(folder, Name, "metrics.json")));
            return;
        }

        Assert.True(first.ExitCode == ExperimentsCli.Interrupted, output);
        Assert.Contains($"{Name} stopped at epoch", output, StringComparison.Ordinal);
        Assert.Contains("continue with run --resume", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(folder, Name)), "an interrupted run writes no result folder");

        var resumed = ProcessDeterminismTests.Cli([.. Run, "--out", folder, "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Output);
        Assert.Equal(Uninterrupted.Value, File.ReadAllText(Path.Combine(folder, Name, "metrics.json")));
    }

    [Fact]
    public void Resuming_a_checkpoint_of_another_configuration_is_refused()
    {
        string folder = TestEnvironment.TempDirectory("mismatch");
        using Process first = Start(folder);
        WaitForCheckpoint(folder, first);
        first.Kill();
        first.WaitForExit();

        var resumed = ProcessDeterminismTests.Cli([.. Run, "--out", folder, "--resume", "--set", $"experiments.{Name}.learning_rate=0.002"]);
        Assert.Equal(2, resumed.ExitCode);
        Assert.Contains("belongs to a different run", resumed.Output, StringComparison.Ordinal);
        Assert.Contains("lr=0.002", resumed.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(folder, ".checkpoints", Name + ".ckpt")), "a refused resume keeps the checkpoint");
    }

    [Fact]
    public void A_second_run_on_the_same_output_folder_is_refused()
    {
        string folder = TestEnvironment.TempDirectory("locked");
        using (OutputLock.Acquire(folder))
        {
            var second = ProcessDeterminismTests.Cli("run", "mnist-mlp-50-sgd", "--profile", "smoke", "--out", folder);
            Assert.Equal(2, second.ExitCode);
            Assert.Contains("Another run is writing to", second.Output, StringComparison.Ordinal);
        }

        Assert.Equal(0, ProcessDeterminismTests.Cli("run", "mnist-mlp-50-sgd", "--profile", "smoke", "--threads", "2", "--out", folder).ExitCode);
    }

    [Fact]
    public void Divergence_names_epoch_and_batch_or_is_recorded_on_request()
    {
        string folder = TestEnvironment.TempDirectory("diverged");
        string[] explode = ["run", "mnist-mlp-50-sgd", "--profile", "smoke", "--threads", "2", "--out", folder, "--set", "experiments.mnist-mlp-50-sgd.learning_rate=1e30"];

        var failed = ProcessDeterminismTests.Cli(explode);
        Assert.Equal(1, failed.ExitCode);
        Assert.Matches(@"mnist-mlp-50-sgd diverged: the training loss of epoch 1, batch \d+ is (NaN|∞|-∞|Infinity)", failed.Output);
        Assert.Contains("learning rate too large", failed.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(folder, "mnist-mlp-50-sgd")));

        var recorded = ProcessDeterminismTests.Cli([.. explode, "--record-divergence"]);
        Assert.True(recorded.ExitCode == 0, recorded.Output);
        Assert.Contains("\"diverged\"", File.ReadAllText(Path.Combine(folder, "mnist-mlp-50-sgd", "metrics.json")), StringComparison.Ordinal);
        Assert.Contains("diverged: epoch 1, batch", File.ReadAllText(Path.Combine(folder, "mnist-mlp-50-sgd", "snapshot.txt")), StringComparison.Ordinal);
    }
}
