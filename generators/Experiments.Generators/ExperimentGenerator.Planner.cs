using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Experiments.Generators.Models;

namespace Experiments.Generators;

public sealed partial class ExperimentGenerator
{
    /// <summary>One row of the Keras-style summary.</summary>
    internal sealed record SummaryRow(string Name, string Type, string Shape, long Parameters, int Depth);

    /// <summary>
    /// Walks the declared layers once: infers Keras (channels-last) shapes, reports what cannot work, and collects
    /// the TorchSharp fields, constructor lines and forward lines of the model, plus the summary.
    /// </summary>
    internal sealed class ModelPlan
    {
        private static readonly string[] ActivationNames = { "None", "Relu", "Sigmoid", "Tanh", "Softmax" };
        private readonly ExperimentSpec _spec;
        private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);
        private int _branchVariables;

        public ModelPlan(ExperimentSpec spec)
        {
            _spec = spec;
            int[] shape = spec.Input switch
            {
                0 => new[] { 784 },
                2 => new[] { 28, 28 },
                _ => new[] { 28, 28, 1 },
            };
            InputShape = shape;
            int last = spec.Layers.Count - 1;
            int[]? output = shape;
            for (int i = 0; i < spec.Layers.Count && output is not null; i++)
            {
                output = Walk(spec.Layers[i], (i + 1).ToString(CultureInfo.InvariantCulture), "x", output, Forward, depth: 0, foldSoftmax: i == last);
            }

            if (output is not null && Diagnostics.Count == 0)
            {
                CheckOutput(output);
            }
        }

        public int[] InputShape { get; }

        public List<DiagnosticInfo> Diagnostics { get; } = new();

        public List<string> Fields { get; } = new();

        public List<string> Constructor { get; } = new();

        public List<string> Forward { get; } = new();

        public List<SummaryRow> Rows { get; } = new();

        public long KerasTrainable { get; private set; }

        public long KerasNonTrainable { get; private set; }

        /// <summary>PyTorch's second recurrent bias (bias_hh), held at zero and frozen: the module has it, Keras does not.</summary>
        public long FrozenExtra { get; private set; }

        public bool SoftmaxFolded { get; private set; }

        private void CheckOutput(int[] output)
        {
            LayerSpec last = _spec.Layers[_spec.Layers.Count - 1];
            if (output.Length != 1 || output[0] != 10)
            {
                Report("EXP0009", last.Location, _spec.Name, Shape(output), _spec.Dataset == 1 ? "Fashion-MNIST" : "MNIST", "10");
            }
            else if (!SoftmaxFolded)
            {
                Report("EXP0012", last.Location, _spec.Name, last.Kind.ToString(), _spec.Loss == 1 ? "mean squared error" : "categorical cross-entropy");
            }
        }

        private int[]? Walk(LayerSpec layer, string position, string variable, int[] shape, List<string> forward, int depth, bool foldSoftmax)
        {
            switch (layer.Kind)
            {
                case LayerKind.Dense:
                    {
                        if (!Rank(layer, position, shape, 1, "a 1-D (features) input", "add Flatten() before it"))
                        {
                            return null;
                        }

                        if (layer.Units <= 0)
                        {
                            Report("EXP0013", layer.Location, _spec.Name, $"layer {position} (Dense)", $"units {layer.Units}", "a Dense layer needs at least 1 unit");
                            return null;
                        }

                        string name = Next("dense");
                        Fields.Add($"private readonly global::TorchSharp.Modules.Linear {name};");
                        Constructor.Add($"{name} = nn.Linear({shape[0]}, {layer.Units});");
                        Constructor.Add($"global::Experiments.Runtime.Training.KerasInit.Dense({name});");
                        forward.Add($"{variable} = {name}.call({variable});");
                        Activate(layer.Activation, variable, forward, foldSoftmax);
                        long parameters = ((long)shape[0] * layer.Units) + layer.Units;
                        return Row(name, "Dense", new[] { layer.Units }, parameters, depth);
                    }

                case LayerKind.Activation:
                    Activate(layer.Activation, variable, forward, foldSoftmax);
                    return Row(Next("activation"), "Activation", shape, 0, depth);

                case LayerKind.Dropout:
                    {
                        if (layer.Rate < 0 || layer.Rate >= 1)
                        {
                            Report("EXP0013", layer.Location, _spec.Name, $"layer {position} (Dropout)", $"rate {Number(layer.Rate)}", "a dropout rate lies in [0, 1), e.g. 0.25");
                            return null;
                        }

                        string name = Next("dropout");
                        Fields.Add($"private readonly global::TorchSharp.Modules.Dropout {name};");
                        Constructor.Add($"{name} = nn.Dropout({Number(layer.Rate)});");
                        forward.Add($"{variable} = {name}.call({variable});");
                        return Row(name, "Dropout", shape, 0, depth);
                    }

                case LayerKind.Flatten:
                    {
                        // Keras flattens channels-last; permuting first keeps its feature order.
                        forward.Add(shape.Length == 3
                            ? $"{variable} = {variable}.permute(0, 2, 3, 1).flatten(1);"
                            : $"{variable} = {variable}.flatten(1);");
                        return Row(Next("flatten"), "Flatten", new[] { shape.Aggregate(1, (a, b) => a * b) }, 0, depth);
                    }

                case LayerKind.BatchNormalization:
                    return BatchNorm(layer, position, variable, shape, forward, depth);

                case LayerKind.Conv2D:
                case LayerKind.MaxPool2D:
                    return Spatial(layer, position, variable, shape, forward, depth);

                case LayerKind.SimpleRnn:
                case LayerKind.Lstm:
                case LayerKind.Gru:
                    return Recurrent(layer, position, variable, shape, forward, depth);

                case LayerKind.Concatenate:
                    return Concatenate(layer, position, variable, shape, forward, depth);

                case LayerKind.Sequence:
                    {
                        int[]? current = shape;
                        for (int i = 0; i < layer.Children.Count && current is not null; i++)
                        {
                            current = Walk(layer.Children[i], $"{position}.{i + 1}", variable, current, forward, depth, foldSoftmax: false);
                        }

                        return current;
                    }

                case LayerKind.Function:
                    {
                        string prefix = _spec.Namespace.Length > 0 ? $"global::{_spec.Namespace}." : "global::";
                        forward.Add($"{variable} = {prefix}{_spec.ClassName}.{layer.Method}({variable});");
                        return Row(Next("lambda"), $"Lambda({layer.Method})", shape, 0, depth);
                    }

                default:
                    return null;
            }
        }

        private int[]? BatchNorm(LayerSpec layer, string position, string variable, int[] shape, List<string> forward, int depth)
        {
            int rank = shape.Length;
            int axis = layer.Axis < 0 ? rank + layer.Axis + 1 : layer.Axis;
            if (axis < 1 || axis > rank)
            {
                Report("EXP0013", layer.Location, _spec.Name, $"layer {position} (BatchNormalization)", $"axis {layer.Axis}", $"the input {Shape(shape)} has axes 1..{rank} (or -1 for the last)");
                return null;
            }

            // Keras axis (channels-last, 1-based after the batch) to the TorchSharp tensor's dimension.
            int torchDim = rank == 3 ? (axis == 3 ? 1 : axis + 1) : rank == 2 ? axis : 1;
            int features = shape[axis - 1];
            string name = Next("batch_normalization");
            string kind = rank == 3 ? "BatchNorm2d" : "BatchNorm1d";
            Fields.Add($"private readonly global::TorchSharp.Modules.{kind} {name};");

            // Keras momentum 0.99 is PyTorch momentum 0.01; Keras epsilon is 1e-3.
            Constructor.Add($"{name} = nn.{kind}({features}, eps: 1e-3, momentum: 0.01);");
            if (rank == 2 && axis == 2)
            {
                torchDim = 2;
            }

            forward.Add(torchDim == 1
                ? $"{variable} = {name}.call({variable});"
                : $"{variable} = {name}.call({variable}.transpose(1, {torchDim})).transpose(1, {torchDim});");
            KerasNonTrainable += 2L * features;
            KerasTrainable -= 2L * features;
            return Row(name, "BatchNormalization", shape, 4L * features, depth);
        }

        private int[]? Spatial(LayerSpec layer, string position, string variable, int[] shape, List<string> forward, int depth)
        {
            bool conv = layer.Kind == LayerKind.Conv2D;
            string type = conv ? "Conv2D" : "MaxPooling2D";
            if (!Rank(layer, position, shape, 3, "a 3-D (height, width, channels) input",
                    "use Input.Image, and keep Flatten, Dense and recurrent layers after it"))
            {
                return null;
            }

            bool same = layer.Padding == 1;
            int height = shape[0];
            int width = shape[1];
            if (layer.KernelHeight <= 0 || layer.KernelWidth <= 0 || layer.StrideHeight <= 0 || layer.StrideWidth <= 0 || (conv && layer.Units <= 0))
            {
                Report("EXP0013", layer.Location, _spec.Name, $"layer {position} ({type})",
                    $"filters {layer.Units}, window {layer.KernelHeight}x{layer.KernelWidth}, stride {layer.StrideHeight}x{layer.StrideWidth}", "filters, window and stride must be at least 1");
                return null;
            }

            if (!same && (layer.KernelHeight > height || layer.KernelWidth > width))
            {
                if (conv)
                {
                    Report("EXP0006", layer.Location, _spec.Name, position, type, $"{layer.KernelHeight}x{layer.KernelWidth}", Shape(shape));
                }
                else
                {
                    // Keras reports a pool wider than its input as a negative (here: zero) output dimension.
                    Report("EXP0007", layer.Location, _spec.Name, position, type, Shape(new[] { Math.Max(0, height - layer.KernelHeight + 1), Math.Max(0, width - layer.KernelWidth + 1), shape[2] }));
                }

                return null;
            }

            int outH = same ? Ceil(height, layer.StrideHeight) : ((height - layer.KernelHeight) / layer.StrideHeight) + 1;
            int outW = same ? Ceil(width, layer.StrideWidth) : ((width - layer.KernelWidth) / layer.StrideWidth) + 1;
            int channels = conv ? layer.Units : shape[2];
            int[] output = { outH, outW, channels };
            if (outH <= 0 || outW <= 0)
            {
                Report("EXP0007", layer.Location, _spec.Name, position, type, Shape(output));
                return null;
            }

            // Keras 'same' puts the odd pixel of padding at the bottom/right; PyTorch pads symmetrically, so
            // asymmetric cases pad explicitly first.
            int padH = same ? Math.Max(((outH - 1) * layer.StrideHeight) + layer.KernelHeight - height, 0) : 0;
            int padW = same ? Math.Max(((outW - 1) * layer.StrideWidth) + layer.KernelWidth - width, 0) : 0;
            int top = padH / 2;
            int left = padW / 2;
            bool symmetric = padH % 2 == 0 && padW % 2 == 0;
            string padding = symmetric ? $"({top}, {left})" : "(0, 0)";
            if (!symmetric)
            {
                string fill = conv ? "" : ", value: double.NegativeInfinity";
                forward.Add($"{variable} = nn.functional.pad({variable}, new long[] {{ {left}, {padW - left}, {top}, {padH - top} }}{fill});");
            }

            if (conv)
            {
                string name = Next("conv2d");
                Fields.Add($"private readonly global::TorchSharp.Modules.Conv2d {name};");
                Constructor.Add($"{name} = nn.Conv2d({shape[2]}, {layer.Units}, ({layer.KernelHeight}, {layer.KernelWidth}), stride: ({layer.StrideHeight}, {layer.StrideWidth}), padding: {padding});");
                Constructor.Add($"global::Experiments.Runtime.Training.KerasInit.Conv2d({name});");
                forward.Add($"{variable} = {name}.call({variable});");
                Activate(layer.Activation, variable, forward, fold: false);
                long parameters = ((long)layer.KernelHeight * layer.KernelWidth * shape[2] * layer.Units) + layer.Units;
                return Row(name, type, output, parameters, depth);
            }

            string pool = Next("max_pooling2d");
            forward.Add($"{variable} = nn.functional.max_pool2d({variable}, new long[] {{ {layer.KernelHeight}, {layer.KernelWidth} }}, new long[] {{ {layer.StrideHeight}, {layer.StrideWidth} }}, new long[] {{ {(symmetric ? top : 0)}, {(symmetric ? left : 0)} }});");
            return Row(pool, type, output, 0, depth);
        }

        private int[]? Recurrent(LayerSpec layer, string position, string variable, int[] shape, List<string> forward, int depth)
        {
            string type = layer.Kind switch { LayerKind.Lstm => "LSTM", LayerKind.Gru => "GRU", _ => "SimpleRNN" };
            if (!Rank(layer, position, shape, 2, "a 2-D (steps, features) input", "use Input.Sequence (28 steps of 28 pixels), and put Flatten or Dense after the recurrent layer"))
            {
                return null;
            }

            int features = shape[1];
            int units = layer.Units;
            if (units <= 0)
            {
                Report("EXP0013", layer.Location, _spec.Name, $"layer {position} ({type})", $"units {units}", "a recurrent layer needs at least 1 unit");
                return null;
            }

            int gates = layer.Kind switch { LayerKind.Lstm => 4, LayerKind.Gru => 3, _ => 1 };
            string baseName = layer.Kind switch { LayerKind.Lstm => "lstm", LayerKind.Gru => "gru", _ => "simple_rnn" };
            string name = Next(baseName);
            string module = layer.Kind switch { LayerKind.Lstm => "LSTM", LayerKind.Gru => "GRU", _ => "RNN" };
            Fields.Add($"private readonly global::TorchSharp.Modules.{module} {name};");
            string nonLinearity = layer.Kind == LayerKind.SimpleRnn
                ? $", nonLinearity: nn.NonLinearities.{(layer.Activation == 1 ? "ReLU" : "Tanh")}"
                : "";
            Constructor.Add($"{name} = nn.{module}({features}, {units}{nonLinearity}, batchFirst: true);");
            bool kerasHasOneBias = layer.Kind != LayerKind.Gru;
            Constructor.Add(
                $"global::Experiments.Runtime.Training.KerasInit.Recurrent({name}, gates: {gates}, units: {units}, " +
                $"unitForgetBias: {(layer.Kind == LayerKind.Lstm ? "true" : "false")}, freezeSecondBias: {(kerasHasOneBias ? "true" : "false")});");
            if (kerasHasOneBias)
            {
                // Keras has one bias vector; PyTorch adds bias_hh. Held at zero and frozen, the sum equals Keras' bias.
                FrozenExtra += (long)gates * units;
            }

            forward.Add($"{variable} = {name}.call({variable}, null).Item1.select(1, -1);");
            long parameters = (long)gates * (((long)features * units) + ((long)units * units) + ((kerasHasOneBias ? 1 : 2) * units));
            return Row(name, type, new[] { units }, parameters, depth);
        }

        private int[]? Concatenate(LayerSpec layer, string position, string variable, int[] shape, List<string> forward, int depth)
        {
            if (!Rank(layer, position, shape, 3, "a 3-D (height, width, channels) input", "put Concatenate where Conv2D layers could run"))
            {
                return null;
            }

            var outputs = new List<int[]>();
            var names = new List<string>();
            for (int i = 0; i < layer.Children.Count; i++)
            {
                string branch = $"branch{++_branchVariables}";
                names.Add(branch);
                forward.Add($"Tensor {branch} = {variable};");
                int[]? output = Walk(layer.Children[i], $"{position}.{i + 1}", branch, shape, forward, depth + 1, foldSoftmax: false);
                if (output is null)
                {
                    return null;
                }

                outputs.Add(output);
            }

            for (int i = 1; i < outputs.Count; i++)
            {
                if (outputs[i].Length != 3 || outputs[i][0] != outputs[0][0] || outputs[i][1] != outputs[0][1])
                {
                    Report("EXP0008", layer.Location, _spec.Name, position, (i + 1).ToString(CultureInfo.InvariantCulture), Shape(outputs[i]), Shape(outputs[0]));
                    return null;
                }
            }

            forward.Add($"{variable} = torch.cat(new[] {{ {string.Join(", ", names)} }}, 1);");
            int[] result = { outputs[0][0], outputs[0][1], outputs.Sum(o => o[2]) };
            return Row(Next("concatenate"), "Concatenate", result, 0, depth);
        }

        private void Activate(int activation, string variable, List<string> forward, bool fold)
        {
            switch (activation)
            {
                case 1:
                    forward.Add($"{variable} = nn.functional.relu({variable});");
                    break;
                case 2:
                    forward.Add($"{variable} = torch.sigmoid({variable});");
                    break;
                case 3:
                    forward.Add($"{variable} = torch.tanh({variable});");
                    break;
                case 4 when fold:
                    forward.Add("// softmax: folded into the loss (cross-entropy and MSE take logits), the same mathematics");
                    SoftmaxFolded = true;
                    break;
                case 4:
                    forward.Add($"{variable} = nn.functional.softmax({variable}, -1);");
                    break;
            }
        }

        private bool Rank(LayerSpec layer, string position, int[] shape, int rank, string needs, string fix)
        {
            if (shape.Length == rank)
            {
                return true;
            }

            Report("EXP0005", layer.Location, _spec.Name, position, layer.Kind.ToString(), needs, $"{Shape(shape)} (rank {shape.Length})", fix);
            return false;
        }

        private int[] Row(string name, string type, int[] shape, long parameters, int depth)
        {
            KerasTrainable += parameters;
            Rows.Add(new SummaryRow(name, type, Shape(shape), parameters, depth));
            return shape;
        }

        private string Next(string baseName)
        {
            _counters.TryGetValue(baseName, out int count);
            _counters[baseName] = count + 1;
            return count == 0 ? baseName : $"{baseName}_{count}";
        }

        private void Report(string id, LocationInfo? location, params string[] arguments) =>
            Diagnostics.Add(Parser.Diagnostic(id, location ?? _spec.Location, arguments));

        private static int Ceil(int value, int divisor) => (value + divisor - 1) / divisor;

        internal static string Shape(int[] shape) => "(None, " + string.Join(", ", shape) + ")";

        internal static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

        internal static string ActivationName(int activation) => activation >= 0 && activation < ActivationNames.Length ? ActivationNames[activation] : "None";
    }
}
