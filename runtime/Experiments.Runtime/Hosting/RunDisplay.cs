using System.Globalization;
using Experiments.Runtime.Training;
using Spectre.Console;

namespace Experiments.Runtime.Hosting;

/// <summary>
/// Shows a run as it trains: on a terminal, a live progress bar per epoch with loss, accuracy and ETA (Spectre.Console);
/// otherwise (CI logs, pipes) one plain line per epoch.
/// </summary>
internal static class RunDisplay
{
    public static bool Interactive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    public static TrainedRun Run(IExperiment experiment, RunOptions options)
    {
        if (!Interactive)
        {
            return ExperimentRunner.Train(experiment, options, epoch => Console.WriteLine(FormatEpoch(epoch)), Console.WriteLine);
        }

        int epochs = Math.Min((options.Overrides?.Invoke(experiment.Settings) ?? experiment.Settings).Epochs, options.MaxEpochs ?? int.MaxValue);
        TrainedRun? result = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                ProgressTask? current = null;
                int currentEpoch = 0;
                result = ExperimentRunner.Train(
                    experiment,
                    options,
                    onEpoch: metrics =>
                    {
                        if (current is not null)
                        {
                            current.Description = Markup.Escape(FormatEpoch(metrics).Trim());
                            current.Value = current.MaxValue;
                            current.StopTask();
                        }
                    },
                    log: message => AnsiConsole.MarkupLine(Markup.Escape(message)),
                    onBatch: (epoch, done, total) =>
                    {
                        if (epoch != currentEpoch)
                        {
                            currentEpoch = epoch;
                            current = context.AddTask($"epoch {epoch}/{epochs}", maxValue: total);
                        }

                        current!.Value = done;
                    });
            });
        return result!;
    }

    public static string FormatEpoch(EpochMetrics e)
    {
        string validation = e.ValidationLoss is { } vl
            ? string.Create(CultureInfo.InvariantCulture, $", val_loss {vl:F4}, val_accuracy {e.ValidationAccuracy:F4}")
            : "";
        return string.Create(CultureInfo.InvariantCulture, $"   epoch {e.Epoch}: loss {e.Loss:F4}, accuracy {e.Accuracy:F4}{validation} ({e.Seconds:F1} s)");
    }
}
