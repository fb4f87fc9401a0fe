using System.Diagnostics;
using Experiments.Runtime.Hosting;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>Interrupted runs resume exactly; divergence, locks and changed runs give clear errors. Real processes, real signals.</summary>
public sealed class ResilienceTests
{
    private const string Name = "mnist-mlp-512-rmsprop";

    // 20,000 examples in batches of 32: 625 steps per epoch, about a second, so that a signal sent a quarter of a
    // second into the second epoch lands well inside it.
    private static readonly string[] Run = ["run", Name, "--profile", "smoke", "--epochs", "3", "--threads", "2", "--set", "profiles.smoke.train_examples=20000"];

    private static string CheckpointOf(string folder) => Path.Combine(folder, ".checkpoints", Name + ".ckpt");

    private static readonly Lazy<string> Uninterrupted = new(() =>
    {
        string folder = TestEnvironment.TempDirectory("uninterrupted");
        var run = ProcessDeterminismTests.Cli([.. Run, "--out", folder]);
        Assert.True(run.ExitCode == 0, run.Output);
        return File.ReadAllText(Path.Combine(folder, Name, "metrics.json"));
    });

    private static Process Start(string folder, System.Text.StringBuilder? output = null)
    {
        // As a terminal's Ctrl-C finds it: SIGINT at its default disposition. A test run started in the background of
        // a script inherits SIGINT ignored (and the runtime keeps an inherited SIG_IGN), so env resets it first.
        ProcessStartInfo start = TestEnvironment.ChildProcess("env");
        foreach (string argument in (string[])["--default-signal=INT", "dotnet", TestEnvironment.Metadata("CatalogExecutable"), .. Run, "--out", folder])
        {
            start.ArgumentList.Add(argument);
        }

        return output is null ? Process.Start(start)! : TestEnvironment.StartCapturing(start, output);
    }

    private static void WaitForCheckpoint(string folder, Process process)
    {
        string checkpoint = CheckpointOf(folder);
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

        // SIGKILL saves nothing: what is left is the last epoch's checkpoint, and the resume starts at its boundary.
        Experiments.Runtime.Training.CheckpointState left = Experiments.Runtime.Training.Checkpoint.ReadState(CheckpointOf(folder));
        Assert.False(left.Interrupted);
        Assert.Equal(0, left.NextBatch);
        Assert.InRange(left.Epoch, 1, 2);
        var resumed = ProcessDeterminismTests.Cli([.. Run, "--out", folder, "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Output);
        Assert.Contains($": epoch {left.Epoch + 1}, batch 1", resumed.Output, StringComparison.Ordinal);
        // metrics.json holds every metric, both confusion matrices and the SHA-256 of the final weights.
        Assert.Equal(Uninterrupted.Value, File.ReadAllText(Path.Combine(folder, Name, "metrics.json")));
        Assert.False(File.Exists(CheckpointOf(folder)), "a finished run removes its checkpoint");
    }

    [Fact]
    public void Sigint_stops_mid_epoch_saves_that_batch_and_resumes_from_it_exactly()
    {
        string folder = TestEnvironment.TempDirectory("sigint");
        var output = new System.Text.StringBuilder();
        using Process first = Start(folder, output);
        var clock = Stopwatch.StartNew();
        while (!TestEnvironment.Text(output).Contains("epoch 1:", StringComparison.Ordinal))
        {
            Assert.False(first.HasExited, "the run ended before its first epoch: " + TestEnvironment.Text(output));
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), "no epoch within 3 minutes: " + TestEnvironment.Text(output));
            Thread.Sleep(20);
        }

        // "epoch 1:" is printed before that epoch's checkpoint is written; a signal during the write would stop the run
        // at the next epoch's first batch boundary (batch 0), which is not the mid-epoch stop this test is about.
        WaitForCheckpoint(folder, first);
        Thread.Sleep(250);
        using (Process signal = Process.Start("kill", ["-INT", first.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            signal.WaitForExit();
        }

        Assert.True(first.WaitForExit(TimeSpan.FromMinutes(1)), "the run did not stop within a minute of SIGINT");
        first.WaitForExit();
        string log = TestEnvironment.Text(output);
        Assert.True(first.ExitCode == ExperimentsCli.Interrupted, $"exit code {first.ExitCode} (the signal must land inside the second of three epochs): {log}");
        Assert.False(Directory.Exists(Path.Combine(folder, Name)), "an interrupted run writes no result folder");

        // The stop saved the batch it stopped at, inside the epoch (not the epoch boundary the last checkpoint had).
        System.Text.RegularExpressions.Match stopped = System.Text.RegularExpressions.Regex.Match(log, $@"{Name} stopped at epoch (\d+), batch (\d+) of (\d+); saved .+: continue with run --resume");
        Assert.True(stopped.Success, log);
        int epoch = int.Parse(stopped.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        int batch = int.Parse(stopped.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        int batches = int.Parse(stopped.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(batch > 1 && batch < batches, $"stopped at batch {batch} of {batches}: not mid-epoch");
        Experiments.Runtime.Training.CheckpointState saved = Experiments.Runtime.Training.Checkpoint.ReadState(CheckpointOf(folder));
        Assert.True(saved.Interrupted, "the checkpoint is an epoch boundary's, not the stop's");
        Assert.Equal((epoch - 1, batch), (saved.Epoch, saved.NextBatch));

        var resumed = ProcessDeterminismTests.Cli([.. Run, "--out", folder, "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Output);
        Assert.Contains($": epoch {epoch}, batch {batch + 1}", resumed.Output, StringComparison.Ordinal);
        string received = File.ReadAllText(Path.Combine(folder, Name, "metrics.json"));
        string[] a = Uninterrupted.Value.Split('\n');
        string[] b = received.Split('\n');
        int line = Enumerable.Range(0, Math.Min(a.Length, b.Length)).FirstOrDefault(i => a[i] != b[i], -1);
        Assert.True(received == Uninterrupted.Value,
            $"stopped at epoch {epoch}, batch {batch} of {batches}; the resumed metrics.json differs from the uninterrupted run's " +
            (line < 0 ? $"in length ({b.Length} lines against {a.Length})" : $"first at line {line + 1}: '{b[line].Trim()}' against '{a[line].Trim()}'"));
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

/// <summary>Bad input through the real command line: a clear error, a non-zero exit code, nothing half-written.</summary>
public sealed class BadInputTests
{
    private static string CopyOfMnist()
    {
        string folder = TestEnvironment.TempDirectory("mnist-copy");
        foreach (string file in TestEnvironment.Mnist)
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        return folder;
    }

    [Fact]
    public void A_missing_or_corrupted_dataset_file_is_a_data_error_naming_it()
    {
        string data = CopyOfMnist();
        string output = TestEnvironment.TempDirectory("bad-data-out");
        File.Delete(Path.Combine(data, "t10k-labels-idx1-ubyte"));
        var missing = ProcessDeterminismTests.Cli("run", "mnist-mlp-50-sgd", "--profile", "smoke", "--data", data, "--out", output);
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("t10k-labels-idx1-ubyte: missing", missing.Output, StringComparison.Ordinal);

        data = CopyOfMnist();
        string images = Path.Combine(data, "train-images-idx3-ubyte");
        byte[] bytes = File.ReadAllBytes(images);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(images, bytes);
        var corrupted = ProcessDeterminismTests.Cli("run", "mnist-mlp-50-sgd", "--profile", "smoke", "--data", data, "--out", output);
        Assert.Equal(3, corrupted.ExitCode);
        Assert.Contains("train-images-idx3-ubyte", corrupted.Output, StringComparison.Ordinal);
        Assert.Contains("SHA-256", corrupted.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.GetDirectories(output), d => !Path.GetFileName(d).StartsWith('.'));
    }

    [Theory]
    [InlineData("learning_rate=0", "learning_rate 0 must be greater than 0")]
    [InlineData("learning_rate=-0.5", "learning_rate -0.5 must be greater than 0")]
    [InlineData("epochs=0", "epochs is '0': use a whole number of at least 1")]
    [InlineData("batch_size=-3", "batch_size is '-3'")]
    public void Out_of_range_hyperparameters_are_usage_errors(string setting, string message)
    {
        string output = TestEnvironment.TempDirectory("range");
        var run = ProcessDeterminismTests.Cli("run", "mnist-mlp-50-sgd", "--profile", "smoke", "--out", output, "--set", $"experiments.mnist-mlp-50-sgd.{setting}");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void An_output_folder_that_cannot_be_created_is_a_usage_error()
    {
        string file = Path.Combine(TestEnvironment.TempDirectory("not-a-folder"), "plain-file");
        File.WriteAllText(file, "");
        var run = ProcessDeterminismTests.Cli("run", "mnist-mlp-50-sgd", "--profile", "smoke", "--out", Path.Combine(file, "results"));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Cannot create the output folder", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_disk_that_fills_up_mid_write_leaves_nothing_half_written()
    {
        // RLIMIT_FSIZE makes every write past 64 KiB fail with EFBIG, as a full disk fails with ENOSPC; SIGXFSZ is
        // ignored so the write returns an error instead of killing the process.
        string output = TestEnvironment.TempDirectory("full-disk");
        ProcessStartInfo start = TestEnvironment.ChildProcess("bash");
        start.ArgumentList.Add("-c");
        start.Environment["DOTNET_EnableWriteXorExecute"] = "0"; // W^X maps code through a file the limit would also stop
        start.ArgumentList.Add($"trap '' XFSZ; ulimit -f 64; exec dotnet '{TestEnvironment.Metadata("CatalogExecutable")}' run mnist-mlp-512-rmsprop --profile smoke --epochs 1 --threads 2 --out '{output}'");
        using Process process = Process.Start(start)!;
        string all = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();

        Assert.True(process.ExitCode == 1, all);
        Assert.Contains("could not write", all, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(output, "mnist-mlp-512-rmsprop")), "no partial result folder");
        Assert.Empty(Directory.GetFiles(output, "*.tmp", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetDirectories(output, "*.tmp", SearchOption.AllDirectories));
    }
}
