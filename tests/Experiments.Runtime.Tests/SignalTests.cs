using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>Stop signals reach a training run through the runtime's signal thread, never by interrupting the training thread.</summary>
public sealed class SignalTests
{
    [Fact]
    public void The_training_thread_blocks_sigcont_sigint_and_sigterm_and_a_stop_still_saves_a_checkpoint()
    {
        Assert.True(OperatingSystem.IsLinux(), "this test reads /proc");
        string folder = TestEnvironment.TempDirectory("signals");
        ProcessStartInfo start = TestEnvironment.ChildProcess("dotnet");
        foreach (string argument in new[]
        {
            TestEnvironment.Metadata("CatalogExecutable"), "run", "mnist-lstm-50-sgd", "--profile", "smoke", "--threads", "1", "--out", folder,
            "--set", "profiles.smoke.max_epochs=40",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var output = new System.Text.StringBuilder();
        using Process process = TestEnvironment.StartCapturing(start, output);
        try
        {
            // Once an epoch has run, the main thread (the one that trains) has its mask set.
            var clock = Stopwatch.StartNew();
            while (!TestEnvironment.Text(output).Contains("epoch 1:", StringComparison.Ordinal))
            {
                Assert.False(process.HasExited, TestEnvironment.Text(output));
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "no epoch within two minutes: " + TestEnvironment.Text(output));
                Thread.Sleep(50);
            }

            string status = File.ReadAllText($"/proc/{process.Id}/task/{process.Id}/status");
            ulong blocked = ulong.Parse(status.Split('\n').Single(l => l.StartsWith("SigBlk:", StringComparison.Ordinal))["SigBlk:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            foreach ((string name, int number) in new[] { ("SIGINT", 2), ("SIGTERM", 15), ("SIGCONT", 18) })
            {
                Assert.True((blocked & (1UL << (number - 1))) != 0, $"{name} is not blocked on the training thread (SigBlk {blocked:x16})");
            }

            // What `scancel` sends: SIGCONT, then SIGTERM. The run stops at a batch boundary and saves its checkpoint.
            Assert.Equal(0, Kill("-CONT", process.Id));
            Assert.Equal(0, Kill("-TERM", process.Id));
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "the run did not stop within a minute");
            process.WaitForExit();
            Assert.True(process.ExitCode == 130, $"exit code {process.ExitCode}: {TestEnvironment.Text(output)}");

            // The file must be the one the stop wrote, not the end of epoch 1's: only a stop marks it interrupted, and
            // it holds the position the run reported.
            string checkpoint = Path.Combine(folder, ".checkpoints", "mnist-lstm-50-sgd.ckpt");
            Assert.True(File.Exists(checkpoint), TestEnvironment.Text(output));
            Experiments.Runtime.Training.CheckpointState saved = Experiments.Runtime.Training.Checkpoint.ReadState(checkpoint);
            Assert.True(saved.Interrupted, "the checkpoint is the end of an epoch's, not the stop's: " + TestEnvironment.Text(output));
            Assert.Contains($"stopped at epoch {saved.Epoch + 1}, batch {saved.NextBatch} of ", TestEnvironment.Text(output), StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    private static int Kill(string signal, int pid)
    {
        using Process kill = Process.Start("kill", [signal, pid.ToString(CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        return kill.ExitCode;
    }
}
