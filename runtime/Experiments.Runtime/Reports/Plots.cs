using Experiments.Runtime.Training;
using ScottPlot;

namespace Experiments.Runtime.Reports;

/// <summary>The run's charts as PNG files (ScottPlot): training curves and the confusion matrix as an annotated heatmap.</summary>
public static class Plots
{
    public const int CurveWidth = 800;
    public const int CurveHeight = 500;
    public const int HeatmapSize = 760;

    /// <summary>accuracy.png or loss.png: the metric per epoch, training (running mean over the epoch) and validation.</summary>
    public static void Curve(ExperimentResult result, string metric, string path)
    {
        bool accuracy = metric == "accuracy";
        double[] epochs = result.History.Select(e => (double)e.Epoch).ToArray();
        var plot = new Plot();
        var train = plot.Add.Scatter(epochs, result.History.Select(e => accuracy ? e.Accuracy : e.Loss).ToArray());
        train.LegendText = "training";
        train.LineWidth = 2;
        train.MarkerSize = 6;
        if (result.History.All(e => (accuracy ? e.ValidationAccuracy : e.ValidationLoss) is not null))
        {
            var validation = plot.Add.Scatter(epochs, result.History.Select(e => (accuracy ? e.ValidationAccuracy : e.ValidationLoss)!.Value).ToArray());
            validation.LegendText = result.Identity.Run.ValidationExamples == 0 ? "validation (test set)" : "validation";
            validation.LineWidth = 2;
            validation.MarkerSize = 6;
        }

        plot.Title($"{result.Identity.Experiment}: {metric} per epoch");
        plot.XLabel("epoch");
        plot.YLabel(metric);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(accuracy ? Alignment.LowerRight : Alignment.UpperRight);
        plot.SavePng(path, CurveWidth, CurveHeight);
    }

    /// <summary>
    /// A sweep's final metrics against its swept parameter, as PNG bytes. The x axis is the first parameter whose
    /// values are all numbers (logarithmic when they are positive and span a factor of 10 or more, as learning rates
    /// do), one line per combination of the other parameters; without a numeric parameter, one point per sweep point.
    /// </summary>
    public static byte[] Sweep(ResultsReport.Sweep sweep)
    {
        var plot = new Plot();
        int axis = Enumerable.Range(0, sweep.Parameters.Count).FirstOrDefault(i => sweep.Points.All(p => Number(p.Values[i]) is not null), -1);
        if (axis >= 0)
        {
            double[] xs = sweep.Points.Select(p => Number(p.Values[axis])!.Value).ToArray();
            bool log = xs.All(x => x > 0) && xs.Max() / xs.Min() >= 10;
            double Position(double x) => log ? Math.Log10(x) : x;
            var series = sweep.Points.GroupBy(p => string.Join(", ", p.Values.Select((v, i) => i == axis ? null : $"{sweep.Parameters[i]}={v}").Where(v => v is not null)));
            foreach (var group in series)
            {
                var ordered = group.OrderBy(p => Number(p.Values[axis])).ToList();
                var line = plot.Add.Scatter(ordered.Select(p => Position(Number(p.Values[axis])!.Value)).ToArray(), ordered.Select(p => p.Row.Snapshot.TestAccuracy).ToArray());
                line.LegendText = group.Key.Length == 0 ? "test accuracy" : $"test accuracy, {group.Key}";
                line.LineWidth = 2;
                line.MarkerSize = 7;
                if (series.Count() == 1)
                {
                    var train = plot.Add.Scatter(ordered.Select(p => Position(Number(p.Values[axis])!.Value)).ToArray(), ordered.Select(p => p.Row.Snapshot.TrainAccuracy).ToArray());
                    train.LegendText = "train accuracy";
                    train.LinePattern = LinePattern.Dashed;
                    train.MarkerSize = 5;
                }
            }

            string[] distinct = sweep.Points.Select(p => p.Values[axis]).Distinct().ToArray();
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(distinct.Select(v => Position(Number(v)!.Value)).ToArray(), distinct);
            plot.XLabel(sweep.Parameters[axis] + (log ? " (log scale)" : ""));
        }
        else
        {
            double[] positions = Enumerable.Range(0, sweep.Points.Count).Select(i => (double)i).ToArray();
            var test = plot.Add.Scatter(positions, sweep.Points.Select(p => p.Row.Snapshot.TestAccuracy).ToArray());
            test.LegendText = "test accuracy";
            test.LineWidth = 0;
            test.MarkerSize = 9;
            var train = plot.Add.Scatter(positions, sweep.Points.Select(p => p.Row.Snapshot.TrainAccuracy).ToArray());
            train.LegendText = "train accuracy";
            train.LineWidth = 0;
            train.MarkerSize = 6;
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, sweep.Points.Select(p => string.Join(", ", p.Values)).ToArray());
            plot.XLabel(string.Join(", ", sweep.Parameters));
        }

        plot.Title($"sweep {sweep.Name}: final accuracy per point");
        plot.YLabel("accuracy");
        plot.ShowLegend(Alignment.LowerRight);
        return plot.GetImageBytes(CurveWidth, CurveHeight, ImageFormat.Png);
    }

    /// <summary>accuracy.png or loss.png of a multi-seed run: per epoch the mean over seeds with a band of one SD, training and validation.</summary>
    public static byte[] SeedCurves(SeedAggregate aggregate, bool accuracy)
    {
        var plot = new Plot();
        double[] epochs = aggregate.History.Select(e => (double)e.Epoch).ToArray();
        void Series(Func<EpochSummary, Results.SeedSummary?> pick, string label)
        {
            if (aggregate.History.Any(e => pick(e) is null))
            {
                return;
            }

            double[] mean = aggregate.History.Select(e => pick(e)!.Mean).ToArray();
            double[] sd = aggregate.History.Select(e => pick(e)!.StandardDeviation).ToArray();
            var band = plot.Add.FillY(epochs, mean.Zip(sd, (m, d) => m - d).ToArray(), mean.Zip(sd, (m, d) => m + d).ToArray());
            var line = plot.Add.Scatter(epochs, mean);
            band.FillColor = line.Color.WithAlpha(0.2);
            band.LineWidth = 0;
            line.LegendText = $"{label} (mean ± SD)";
            line.LineWidth = 2;
            line.MarkerSize = 5;
        }

        Series(e => accuracy ? e.Accuracy : e.Loss, "training");
        Series(e => accuracy ? e.ValidationAccuracy : e.ValidationLoss, "validation");
        string metric = accuracy ? "accuracy" : "loss";
        plot.Title($"{aggregate.Experiment}: {metric} per epoch over {aggregate.Runs.Count} seeds");
        plot.XLabel("epoch");
        plot.YLabel(metric);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(accuracy ? Alignment.LowerRight : Alignment.UpperRight);
        return plot.GetImageBytes(CurveWidth, CurveHeight, ImageFormat.Png);
    }

    /// <summary>seeds.png: the final test and train accuracy of every seed as a strip, with the mean and the 95% interval of the mean.</summary>
    public static byte[] SeedStrip(SeedAggregate aggregate)
    {
        var plot = new Plot();
        string[] metrics = ["test_accuracy", "train_accuracy"];
        for (int i = 0; i < metrics.Length; i++)
        {
            IReadOnlyList<double> values = aggregate.Values(metrics[i]);
            // Spread the points sideways by seed order so equal values stay visible.
            double[] xs = values.Select((_, k) => i + (values.Count == 1 ? 0 : -0.15 + (0.3 * k / (values.Count - 1)))).ToArray();
            var points = plot.Add.Scatter(xs, values.ToArray());
            points.LineWidth = 0;
            points.MarkerSize = 8;
            points.LegendText = metrics[i].Replace('_', ' ') + " per seed";
            Results.SeedSummary s = aggregate.Final[metrics[i]];
            var mean = plot.Add.Line(i - 0.25, s.Mean, i + 0.25, s.Mean);
            mean.Color = points.Color;
            mean.LineWidth = 2;
            var interval = plot.Add.Line(i, s.StudentT.Low, i, s.StudentT.High);
            interval.Color = points.Color;
            interval.LineWidth = 3;
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([0, 1], ["test accuracy", "train accuracy"]);
        plot.Axes.SetLimitsX(-0.6, 1.6);
        plot.Title($"{aggregate.Experiment}: final accuracy of {aggregate.Runs.Count} seeds (bar: mean, line: 95% interval)");
        plot.YLabel("accuracy");
        plot.ShowLegend(Alignment.LowerRight);
        return plot.GetImageBytes(CurveWidth, CurveHeight, ImageFormat.Png);
    }

    private static double? Number(string text) =>
        double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) ? value : null;

    /// <summary>
    /// The confusion matrix: rows true classes (top to bottom), columns predictions; colour is the share of the true
    /// class (so small classes are as visible as large ones), the number is the count.
    /// </summary>
    public static void Confusion(ConfusionMatrix matrix, string title, string path)
    {
        int n = matrix.ClassNames.Count;
        var shares = new double[n, n];
        for (int t = 0; t < n; t++)
        {
            double total = Math.Max(1, matrix.Rows[t].Sum());
            for (int p = 0; p < n; p++)
            {
                shares[t, p] = matrix[t, p] / total;
            }
        }

        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(shares);
        heatmap.Colormap = new LightToDark(new ScottPlot.Colormaps.Blues());
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        // Cell (t, p) is centred on x = p, y = n - 1 - t: row 0 of the array is drawn at the top.
        heatmap.Rectangle = new CoordinateRect(-0.5, n - 0.5, -0.5, n - 0.5);
        for (int t = 0; t < n; t++)
        {
            for (int p = 0; p < n; p++)
            {
                var label = plot.Add.Text(matrix[t, p].ToString(System.Globalization.CultureInfo.InvariantCulture), p, n - 1 - t);
                label.LabelAlignment = Alignment.MiddleCenter;
                label.LabelFontSize = n > 10 ? 10 : 13;
                label.LabelFontColor = shares[t, p] > 0.5 ? Colors.White : Colors.Black;
            }
        }

        ClassAxes(plot, matrix.ClassNames, title);
        plot.SavePng(path, HeatmapSize, HeatmapSize);
    }

    /// <summary>A class-by-class heatmap's axes: predicted classes along the bottom, true classes down the left (row 0 at the top).</summary>
    private static void ClassAxes(Plot plot, IReadOnlyList<string> classNames, string title)
    {
        int n = classNames.Count;
        double[] positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, classNames.ToArray());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions.Select(p => n - 1 - p).ToArray(), classNames.ToArray());
        bool rotate = classNames.Any(c => c.Length > 3);
        plot.Axes.Bottom.TickLabelStyle.Rotation = rotate ? -35 : 0;
        plot.Axes.Bottom.TickLabelStyle.Alignment = rotate ? Alignment.MiddleRight : Alignment.UpperCenter;
        if (rotate)
        {
            // Room for the rotated class names above the axis title.
            plot.Axes.Bottom.MinimumSize = 110;
        }

        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.Title(title);
        plot.XLabel("predicted class");
        plot.YLabel("true class");
        plot.HideGrid();
    }

    /// <summary>
    /// An approved run's learning curves and a received run's overlaid, as PNG bytes: accuracy on the left axis, loss on
    /// the right, approved solid and received dashed (training; validation too where both have it).
    /// </summary>
    public static byte[] BeforeAfterCurves(Snapshots.SnapshotDocument before, Snapshots.SnapshotDocument after)
    {
        var plot = new Plot();
        void Series(Snapshots.SnapshotDocument run, string which, LinePattern pattern, bool approved)
        {
            double[] epochs = run.History.Select(e => (double)e.Epoch).ToArray();
            var accuracy = plot.Add.Scatter(epochs, run.History.Select(e => e.Accuracy).ToArray());
            accuracy.LegendText = $"accuracy, {which}";
            accuracy.Color = Colors.C0;
            var loss = plot.Add.Scatter(epochs, run.History.Select(e => e.Loss).ToArray());
            loss.LegendText = $"loss, {which} (right axis)";
            loss.Color = Colors.C1;
            loss.Axes.YAxis = plot.Axes.Right;
            foreach (var line in new[] { accuracy, loss })
            {
                line.LinePattern = pattern;
                line.LineWidth = 2;
                line.MarkerSize = approved ? 6 : 4;
            }

            if (run.History.All(e => e.ValidationAccuracy is not null))
            {
                var validation = plot.Add.Scatter(epochs, run.History.Select(e => e.ValidationAccuracy!.Value).ToArray());
                validation.LegendText = $"validation accuracy, {which}";
                validation.Color = Colors.C2;
                validation.LinePattern = pattern;
                validation.LineWidth = 2;
                validation.MarkerSize = 4;
            }
        }

        Series(before, "approved", LinePattern.Solid, approved: true);
        Series(after, "received", LinePattern.Dashed, approved: false);
        plot.Title($"{after.Experiment}: approved (solid) and received (dashed)");
        plot.XLabel("epoch");
        plot.YLabel("accuracy");
        plot.Axes.Right.Label.Text = "loss";
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(Alignment.MiddleRight);
        return plot.GetImageBytes(CurveWidth, CurveHeight, ImageFormat.Png);
    }

    /// <summary>
    /// Received minus approved confusion counts as a heatmap, as PNG bytes: a diverging scale symmetric around zero
    /// (more examples in a cell red, fewer blue), unchanged cells white and unlabelled, changed cells labelled +n / -n.
    /// </summary>
    public static byte[] ConfusionChange(ConfusionMatrix before, ConfusionMatrix after, string title)
    {
        int n = after.ClassNames.Count;
        var change = new double[n, n];
        int largest = 1;
        for (int t = 0; t < n; t++)
        {
            for (int p = 0; p < n; p++)
            {
                change[t, p] = after[t, p] - before[t, p];
                largest = Math.Max(largest, Math.Abs(after[t, p] - before[t, p]));
            }
        }

        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(change);
        heatmap.Colormap = new Diverging();
        heatmap.ManualRange = new ScottPlot.Range(-largest, largest);
        heatmap.Rectangle = new CoordinateRect(-0.5, n - 0.5, -0.5, n - 0.5);
        for (int t = 0; t < n; t++)
        {
            for (int p = 0; p < n; p++)
            {
                if (change[t, p] != 0)
                {
                    var label = plot.Add.Text(change[t, p].ToString("+0;-0", System.Globalization.CultureInfo.InvariantCulture), p, n - 1 - t);
                    label.LabelAlignment = Alignment.MiddleCenter;
                    label.LabelFontSize = n > 10 ? 10 : 13;
                    label.LabelFontColor = Math.Abs(change[t, p]) > largest * 0.6 ? Colors.White : Colors.Black;
                }
            }
        }

        ClassAxes(plot, after.ClassNames, title);
        return plot.GetImageBytes(HeatmapSize, HeatmapSize, ImageFormat.Png);
    }

    /// <summary>Blue (fewer) through white (no change) to red (more); hand-written because it must be exactly white at zero.</summary>
    private sealed class Diverging : IColormap
    {
        public string Name => "blue-white-red";

        public Color GetColor(double normalizedIntensity)
        {
            double x = Math.Clamp(normalizedIntensity, 0, 1);
            if (x == 0.5)
            {
                return Colors.White;
            }

            // 0 -> (33, 102, 172) blue, 0.5 -> white, 1 -> (178, 24, 43) red, linear in between.
            (double r, double g, double b, double w) = x < 0.5 ? (33.0, 102.0, 172.0, x * 2) : (178.0, 24.0, 43.0, (1 - x) * 2);
            return new Color((byte)Math.Round(r + ((255 - r) * w)), (byte)Math.Round(g + ((255 - g) * w)), (byte)Math.Round(b + ((255 - b) * w)));
        }
    }

    /// <summary>ScottPlot's Blues runs dark to light; a confusion matrix reads best with empty cells white.</summary>
    private sealed class LightToDark(IColormap inner) : IColormap
    {
        public string Name => inner.Name + " (light to dark)";

        public Color GetColor(double normalizedIntensity) => inner.GetColor(1 - normalizedIntensity);
    }
}
