using Experiments.Runtime.IO;
using System.CommandLine;
using System.Globalization;
using Experiments.Runtime.Data;
using Experiments.Runtime.Native;
using Experiments.Runtime.Results;
using Experiments.Runtime.Snapshots;
using Experiments.Runtime.Training;

namespace Experiments.Runtime.Hosting;

/// <summary>
/// The command line every experiments project gets with one line: <c>return ExperimentsCli.Run(args, registry);</c>.
/// Exit codes: 0 success, 1 a run failed (or diverged, or a change exceeds tolerance), 2 usage or configuration error,
/// 3 dataset error, 4 device or native-library error, 130 stopped by Ctrl-C or SIGTERM after saving a checkpoint.
/// </summary>
public static partial class ExperimentsCli
{
    public const int Success = 0;
    public const int RunFailed = 1;
    public const int UsageError = 2;
    public const int DataError = 3;
    public const int DeviceError = 4;
    public const int Interrupted = 130;

    public static int Run(string[] args, IReadOnlyList<IExperiment> registry)
    {
        var root = new RootCommand("Reproducible deep-learning experiments: list, summarise and run the registered experiments.");
        root.Subcommands.Add(ListCommand(registry));
        root.Subcommands.Add(SummaryCommand(registry));
        root.Subcommands.Add(RunCommand(registry));
        root.Subcommands.Add(ReportCommand(registry));
        root.Subcommands.Add(DiffCommand(registry));
        root.Subcommands.Add(PredictCommand(registry));
        root.Subcommands.Add(ExportCommand(registry));
        root.Subcommands.Add(AcceptCommand(registry));
        root.Subcommands.Add(ReviewCommand(registry));
        root.Subcommands.Add(DataCommand(registry));
        root.Subcommands.Add(SlurmCommand(registry));
        root.Subcommands.Add(KubernetesCommand(registry));
        root.Subcommands.Add(CollectCommand(registry));
        root.Subcommands.Add(PublishCommand());
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // A usage error, by this program's exit codes (System.CommandLine's default would be 1, a failed run).
            foreach (System.CommandLine.Parsing.ParseError error in parsed.Errors)
            {
                Console.Error.WriteLine($"error: {error.Message}");
            }

            Console.Error.WriteLine("Add --help to a command to see its arguments and options.");
            return UsageError;
        }

        return parsed.Invoke();
    }

    /// <summary>Refuses a given value below <paramref name="minimum"/> while parsing, with the option's name in the message (a usage error).</summary>
    internal static Option<int?> AtLeast(this Option<int?> option, int minimum)
    {
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is { } value && value < minimum)
            {
                result.AddError($"{option.Name} {value}: use at least {minimum}.");
            }
        });
        return option;
    }

    /// <summary>The experiments project's folder, recorded by the build (Experiments.props), for finding experiments.yaml.</summary>
    private static string? ProjectDirectory() => System.Reflection.Assembly.GetEntryAssembly()?
        .GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .OfType<System.Reflection.AssemblyMetadataAttribute>()
        .FirstOrDefault(a => a.Key == "ExperimentsProjectDirectory")?.Value;

    /// <summary>One run's result in a line: test accuracy and loss, train accuracy, and where it was written.</summary>
    internal static string Headline(ExperimentResult result, string folder) => string.Create(
        CultureInfo.InvariantCulture,
        $"test accuracy {result.Test.Accuracy:P2}, loss {result.Test.Loss:F4}; train accuracy {result.Train.Accuracy:P2}{(result.EarlyStopping is { } stopping ? $" ({stopping})" : "")} -> {folder}");

    /// <summary>An experiment's tolerances by name: its declaration's (the defaults for an unknown name) with experiments.yaml's on top.</summary>
    private static Func<string, Tolerances> DeclaredTolerances(IReadOnlyList<IExperiment> registry, Configuration.ExperimentsConfig configuration) =>
        name => (registry.FirstOrDefault(e => e.Info.Name == name) is { } known ? Tolerances.For(known) : Tolerances.Default)
            .With(configuration.For(name)?.Tolerances ?? new Dictionary<Metric, double>());

    private static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (ExitCodeFor(e) is { } exitCode)
        {
            string prefix = e switch
            {
                RunInterruptedException => "interrupted",
                IOException and not FileNotFoundException => "error: could not write",
                _ => "error",
            };
            Console.Error.WriteLine($"{prefix}: {e.Message}");
            return exitCode;
        }
    }

    /// <summary>
    /// The exit code of an expected failure, whose message already says what to do; null lets anything else surface
    /// with its stack trace. A full disk or a vanished folder is an IOException: the writers use temporary names, so
    /// nothing half-written is left.
    /// </summary>
    private static int? ExitCodeFor(Exception e) => e switch
    {
        RunInterruptedException => Interrupted,
        DatasetException => DataError,
        DeviceUnavailableException or NativeLoadException => DeviceError,
        UsageException or Configuration.ConfigException or CheckpointMismatchException or OutputLockedException
            or FileNotFoundException or ArgumentException or Export.ExportException => UsageError,
        TrainingDivergedException or RunFailedException or SnapshotFormatException or IOException => RunFailed,
        _ => null,
    };
}
