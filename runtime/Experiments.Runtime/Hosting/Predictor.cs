using Experiments.Runtime.Data;
using Experiments.Runtime.Results;
using Experiments.Runtime.Snapshots;
using Experiments.Runtime.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Runtime.Hosting;

/// <summary>
/// A trained result put to use: the registered experiment's model with the weights its result folder kept
/// (<see cref="TrainedWeights.FileName"/>), in inference mode on the CPU, giving class probabilities for image files
/// decoded the way the datasets' images are (<see cref="ImageFiles"/>) and scaled as in training.
/// </summary>
public sealed class Predictor : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;

    private Predictor(IExperiment experiment, nn.Module<Tensor, Tensor> model, IReadOnlyList<string> classNames)
    {
        Experiment = experiment;
        _model = model;
        ClassNames = classNames;
    }

    public IExperiment Experiment { get; }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The model with the result's weights, in inference mode on the CPU (owned by this predictor).</summary>
    public nn.Module<Tensor, Tensor> Model => _model;

    /// <summary>The result folder it was opened from.</summary>
    public string Folder { get; private init; } = "";

    /// <summary>The result's snapshot: what was run (its seed and example counts) and what it measured.</summary>
    public SnapshotDocument Snapshot { get; private init; } = null!;

    /// <summary>The result in <paramref name="folder"/> (a result folder with snapshot.txt and the weights), for the experiment <paramref name="registry"/> declares under its name.</summary>
    public static Predictor Open(string folder, IReadOnlyList<IExperiment> registry)
    {
        string snapshotPath = Path.Combine(folder, "snapshot.txt");
        if (!File.Exists(snapshotPath))
        {
            throw new FileNotFoundException($"{folder} is not a result folder (no snapshot.txt); give a folder `run` wrote, e.g. results/NAME.", snapshotPath);
        }

        SnapshotDocument snapshot = SnapshotDocument.Parse(File.ReadAllText(snapshotPath), snapshotPath);
        IExperiment experiment = registry.FirstOrDefault(e => e.Info.Name == snapshot.Experiment)
            ?? throw new UsageException($"{folder} holds a result of '{snapshot.Experiment}', which this program does not declare; predict with the program that trained it.");
        if (experiment.Info.Fingerprint != snapshot.Run["fingerprint"])
        {
            throw new UsageException(
                $"{folder} was trained from another declaration of '{snapshot.Experiment}' (fingerprint {snapshot.Run["fingerprint"]}, now {experiment.Info.Fingerprint}): its weights do not fit today's model. Train it again with `run`.");
        }

        string weights = Path.Combine(folder, TrainedWeights.FileName);
        if (!File.Exists(weights))
        {
            throw new FileNotFoundException($"{folder} keeps no {TrainedWeights.FileName} (results written before trained weights were kept): train it again with `run`.", weights);
        }

        Native.TorchRuntime.Initialize(threads: 1);
        nn.Module<Tensor, Tensor> model = experiment.CreateModel();
        TrainedWeights.Load(model, weights);
        model.eval();
        return new Predictor(experiment, model, snapshot.TestConfusion.ClassNames) { Folder = folder, Snapshot = snapshot };
    }

    /// <summary>The <paramref name="top"/> most probable classes of each image (softmax of the model's logits).</summary>
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<string> files, int top)
    {
        if (Experiment.Info.Table is not null)
        {
            throw new UsageException($"{Experiment.Info.Name} is trained on a table: give its rows with --csv FILE, not image files.");
        }

        (int rows, int cols, int channels, bool resize) = Experiment.Info.Folder is { } folder
            ? (folder.Height, folder.Width, folder.Channels, folder.Resize)
            : (DatasetSpec.For(Experiment.Info.Dataset).ImageRows, DatasetSpec.For(Experiment.Info.Dataset).ImageCols, 1, false);
        byte[] pixels = files.SelectMany(f => ImageFiles.Read(f, rows, cols, channels, resize)).ToArray();
        if (Experiment.Info.Dataset == Dataset.Digits)
        {
            // scikit-learn's digits have 17 levels of ink (0 to 16): an image file's 0-255 on that scale, bright ink on a
            // dark ground as for MNIST's files.
            pixels = pixels.Select(p => (byte)Math.Round(p * 16 / 255.0, MidpointRounding.ToEven)).ToArray();
        }

        return Rank(files, new ImageSet(pixels, new byte[files.Count], rows, cols, channels), top);
    }

    /// <summary>The <paramref name="top"/> most probable classes of each row of a CSV file (named FILE:LINE), for a model trained on a table.</summary>
    public IReadOnlyList<Prediction> PredictRows(string csv, int top)
    {
        TableSource table = Experiment.Info.Table
            ?? throw new UsageException($"{Experiment.Info.Name} is trained on images: give image files, not --csv.");
        (float[] values, int[] lines) = Table.ReadFeatures(table, csv);
        var rows = new ImageSet([], new byte[lines.Length], 1, table.Features) { Values = values };
        return Rank(lines.Select(line => $"{csv}:{line}").ToList(), rows, top);
    }

    private IReadOnlyList<Prediction> Rank(IReadOnlyList<string> files, ImageSet images, int top)
    {
        using var data = new DeviceData(images, Experiment.Settings.InputShape, Experiment.Settings.InputScale, CPU);
        using var noGrad = no_grad();
        using IDisposable fill = Native.AllocatorFill.For(_model);
        using var scope = NewDisposeScope();
        Tensor probabilities = nn.functional.softmax(_model.call(data.Inputs), 1).to(float64);
        double[] values = probabilities.data<double>().ToArray();
        int classes = ClassNames.Count;
        int k = Math.Clamp(top, 1, classes);
        return files.Select((file, i) => new Prediction(
            file,
            Enumerable.Range(0, classes)
                .Select(c => new ClassProbability(ClassNames[c], values[(i * classes) + c]))
                .OrderByDescending(p => p.Probability)
                .Take(k)
                .ToList())).ToList();
    }

    public void Dispose() => _model.Dispose();
}
