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
    /// Walks the declared layers once: infers Keras (channels-last) shapes, reports what cannot work, and lists the
    /// modules, forward steps and summary rows of the model.
    /// </summary>
    internal sealed partial class ModelWalk
    {
        private readonly string _name;
        private readonly ExperimentSettings _settings;
        private readonly EquatableArray<LayerSpec> _layers;
        private readonly LocationInfo? _location;
        private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);
        private int _branchVariables;

        public ModelWalk(string name, ExperimentSettings settings, EquatableArray<LayerSpec> layers, LocationInfo? location)
        {
            _name = name;
            _settings = settings;
            _layers = layers;
            _location = location;
            int last = layers.Count - 1;
            int[]? output = InputShapes.Keras(settings);
            for (int i = 0; i < layers.Count && output is not null; i++)
            {
                output = Walk(layers[i], (i + 1).ToString(CultureInfo.InvariantCulture), "x", output, depth: 0, foldSoftmax: i == last);
            }

            if (output is not null)
            {
                Classes = output.Length == 1 ? output[0] : 0;
                CheckOutput(output);
            }
        }

        public List<DiagnosticInfo> Diagnostics { get; } = new();

        public List<ModuleDecl> Modules { get; } = new();

        public List<ForwardStep> Forward { get; } = new();

        public List<SummaryRow> Rows { get; } = new();

        /// <summary>The model's outputs per example: the classes it tells apart (checked against a folder's classes at run time).</summary>
        public int Classes { get; private set; }

        public long KerasTrainable { get; private set; }

        public long KerasNonTrainable { get; private set; }

        /// <summary>PyTorch's second recurrent bias (bias_hh), held at zero and frozen: the module has it, Keras does not.</summary>
        public long FrozenExtra { get; private set; }

        private bool SoftmaxFolded { get; set; }

        private void CheckOutput(int[] output)
        {
            LayerSpec last = _layers[_layers.Count - 1];
            // A folder's or a CSV file's classes are known only when it is read: the runtime checks the units against them.
            if (output.Length != 1 || (_settings.KnownClasses is { } classes && output[0] != classes))
            {
                Report(DiagnosticDescriptors.ClassCountMismatch, last.Location, _name, Shape(output), InputShapes.DatasetLabel(_settings.Dataset), (_settings.KnownClasses ?? 10).ToString(CultureInfo.InvariantCulture));
            }
            else if (!SoftmaxFolded)
            {
                Report(DiagnosticDescriptors.FinalNotSoftmax, last.Location, _name, last.Kind.ToString(), _settings.Loss == Loss.MeanSquaredError ? "mean squared error" : "categorical cross-entropy");
            }
        }

        private int[]? Walk(LayerSpec layer, string position, string variable, int[] shape, int depth, bool foldSoftmax)
        {
            _modelStarted |= !IsAugmentation(layer.Kind);
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
                            Report(DiagnosticDescriptors.OutOfRange, layer.Location, _name, $"layer {position} (Dense)", $"units {layer.Units}", "a Dense layer needs at least 1 unit");
                            return null;
                        }

                        string name = Next("dense");
                        Penalize(layer, position, "Dense", name);
                        Modules.Add(new LinearDecl(name, shape[0], layer.Units));
                        Forward.Add(new CallStep(variable, name));
                        Activate(layer.Activation, variable, foldSoftmax);
                        return Row(name, "Dense", new[] { layer.Units }, ((long)shape[0] * layer.Units) + layer.Units, depth);
                    }

                case LayerKind.Activation:
                    Activate(layer.Activation, variable, foldSoftmax);
                    return Row(Next("activation"), "Activation", shape, 0, depth);

                case LayerKind.Dropout:
                    {
                        if (layer.Rate < 0 || layer.Rate >= 1)
                        {
                            // The shape goes on unchanged: the layers after it are still checked.
                            Report(DiagnosticDescriptors.OutOfRange, layer.Location, _name, $"layer {position} (Dropout)", $"rate {Planner.Number(layer.Rate)}", "a dropout rate lies in [0, 1), e.g. 0.25");
                            return shape;
                        }

                        string name = Next("dropout");
                        Modules.Add(new DropoutDecl(name, layer.Rate));
                        Forward.Add(new CallStep(variable, name));
                        return Row(name, "Dropout", shape, 0, depth);
                    }

                case LayerKind.Flatten:
                    // Keras flattens channels-last; permuting first keeps its feature order.
                    Operate(shape.Length == 3 ? Operation.FlattenChannelsLast : Operation.Flatten, variable);
                    return Row(Next("flatten"), "Flatten", new[] { shape.Aggregate(1, (a, b) => a * b) }, 0, depth);

                case LayerKind.BatchNormalization:
                    return BatchNorm(layer, position, variable, shape, depth);

                case LayerKind.Bidirectional:
                    if (layer.Children.Count != 1 || layer.Children[0].Kind is not (LayerKind.Lstm or LayerKind.Gru or LayerKind.SimpleRnn))
                    {
                        Report(DiagnosticDescriptors.OutOfRange, layer.Location, _name, $"layer {position} (Bidirectional)", layer.Children.Count == 1 ? layer.Children[0].Kind.ToString() : "no layer",
                            "Bidirectional wraps one recurrent layer, e.g. new Bidirectional(new Lstm(64))");
                        return null;
                    }

                    return Recurrent(layer.Children[0] with { Location = layer.Location }, position, variable, shape, depth, bidirectional: true);

                case LayerKind.Conv1D:
                case LayerKind.MaxPool1D:
                    return OverSteps(layer, position, variable, shape, depth);

                case LayerKind.Conv2D:
                case LayerKind.MaxPool2D:
                case LayerKind.AveragePooling2D:
                    return Spatial(layer, position, variable, shape, depth);

                case LayerKind.RandomFlip:
                case LayerKind.RandomTranslation:
                case LayerKind.RandomRotation:
                case LayerKind.RandomZoom:
                    return Augment(layer, position, shape, depth);

                case LayerKind.GlobalAveragePooling2D:
                case LayerKind.GlobalMaxPooling2D:
                    return GlobalPool(layer, position, variable, shape, depth);

                case LayerKind.Add:
                    return Add(layer, position, variable, shape, depth);

                case LayerKind.Identity:
                    return Row(Next("identity"), "Identity", shape, 0, depth);

                case LayerKind.LayerNormalization:
                    return LayerNorm(layer, position, variable, shape, depth);

                case LayerKind.Reshape:
                    return Reshape(layer, position, variable, shape, depth);

                case LayerKind.SimpleRnn:
                case LayerKind.Lstm:
                case LayerKind.Gru:
                    return Recurrent(layer, position, variable, shape, depth);

                case LayerKind.Concatenate:
                    return Concatenate(layer, position, variable, shape, depth);

                case LayerKind.Sequence:
                    {
                        int[]? current = shape;
                        for (int i = 0; i < layer.Children.Count && current is not null; i++)
                        {
                            current = Walk(layer.Children[i], $"{position}.{i + 1}", variable, current, depth, foldSoftmax: false);
                        }

                        return current;
                    }

                case LayerKind.Function:
                    Forward.Add(new FunctionStep(variable, $"{layer.MethodOwner}.{layer.Method}"));
                    return Row(Next("lambda"), $"Lambda({layer.Method})", shape, 0, depth);

                default:
                    return null;
            }
        }

        private int[]? BatchNorm(LayerSpec layer, string position, string variable, int[] shape, int depth)
        {
            int rank = shape.Length;
            int axis = layer.Axis < 0 ? rank + layer.Axis + 1 : layer.Axis;
            if (axis < 1 || axis > rank)
            {
                Report(DiagnosticDescriptors.OutOfRange, layer.Location, _name, $"layer {position} (BatchNormalization)", $"axis {layer.Axis}", $"the input {Shape(shape)} has axes 1..{rank} (or -1 for the last)");
                return null;
            }

            // Keras axis (channels-last, 1-based after the batch) to the TorchSharp tensor's dimension.
            int torchDim = rank == 3 ? (axis == 3 ? 1 : axis + 1) : rank == 2 ? axis : 1;
            int features = shape[axis - 1];
            string name = Next("batch_normalization");
            Modules.Add(new NormDecl(name, rank == 3 ? NormKind.BatchNorm2d : NormKind.BatchNorm1d, features));
            if (rank == 2 && axis == 2)
            {
                torchDim = 2;
            }

            if (torchDim == 1)
            {
                Forward.Add(new CallStep(variable, name));
            }
            else
            {
                Forward.Add(new CallStep(variable, name, torchDim));
            }

            KerasNonTrainable += 2L * features;
            KerasTrainable -= 2L * features;
            return Row(name, "BatchNormalization", shape, 4L * features, depth);
        }

        private int[]? Spatial(LayerSpec layer, string position, string variable, int[] shape, int depth)
        {
            bool conv = layer.Kind == LayerKind.Conv2D;
            bool average = layer.Kind == LayerKind.AveragePooling2D;
            string type = conv ? "Conv2D" : average ? "AveragePooling2D" : "MaxPooling2D";
            if (!Rank(layer, position, shape, 3, "a 3-D (height, width, channels) input", "use Input.Image, and keep Flatten, Dense and recurrent layers after it"))
            {
                return null;
            }

            bool same = layer.Padding == Padding.Same;
            int height = shape[0];
            int width = shape[1];
            if (layer.KernelHeight <= 0 || layer.KernelWidth <= 0 || layer.StrideHeight <= 0 || layer.StrideWidth <= 0 || (conv && layer.Units <= 0))
            {
                Report(DiagnosticDescriptors.OutOfRange, layer.Location, _name, $"layer {position} ({type})",
                    $"filters {layer.Units}, window {layer.KernelHeight}x{layer.KernelWidth}, stride {layer.StrideHeight}x{layer.StrideWidth}", "filters, window and stride must be at least 1");
                return null;
            }

            if (!same && (layer.KernelHeight > height || layer.KernelWidth > width))
            {
                if (conv)
                {
                    Report(DiagnosticDescriptors.WindowTooLarge, layer.Location, _name, position, type, $"{layer.KernelHeight}x{layer.KernelWidth}", Shape(shape));
                }
                else
                {
                    // Keras reports a pool wider than its input as a negative (here: zero) output dimension.
                    Report(DiagnosticDescriptors.SpatialZero, layer.Location, _name, position, type, Shape(new[] { Math.Max(0, height - layer.KernelHeight + 1), Math.Max(0, width - layer.KernelWidth + 1), shape[2] }));
                }

                return null;
            }

            int outH = same ? Ceil(height, layer.StrideHeight) : ((height - layer.KernelHeight) / layer.StrideHeight) + 1;
            int outW = same ? Ceil(width, layer.StrideWidth) : ((width - layer.KernelWidth) / layer.StrideWidth) + 1;
            int[] output = { outH, outW, conv ? layer.Units : shape[2] };
            if (outH <= 0 || outW <= 0)
            {
                Report(DiagnosticDescriptors.SpatialZero, layer.Location, _name, position, type, Shape(output));
                return null;
            }

            // Keras 'same' puts the odd pixel of padding at the bottom/right; PyTorch pads symmetrically, so
            // asymmetric cases pad explicitly first.
            int padH = same ? Math.Max(((outH - 1) * layer.StrideHeight) + layer.KernelHeight - height, 0) : 0;
            int padW = same ? Math.Max(((outW - 1) * layer.StrideWidth) + layer.KernelWidth - width, 0) : 0;
            int top = padH / 2;
            int left = padW / 2;
            bool symmetric = padH % 2 == 0 && padW % 2 == 0;
            if (average)
            {
                // Keras averages 'same' windows over the pixels inside the image only.
                Forward.Add(symmetric
                    ? new Pool2dStep(variable, Average: true, layer.KernelHeight, layer.KernelWidth, layer.StrideHeight, layer.StrideWidth, top, left)
                    : new PaddedAveragePoolStep(variable, layer.KernelHeight, layer.KernelWidth, layer.StrideHeight, layer.StrideWidth, left, padW - left, top, padH - top));
                return Row(Next("average_pooling2d"), type, output, 0, depth);
            }

            if (!symmetric)
            {
                Forward.Add(new PadStep(variable, left, padW - left, top, padH - top, NegativeInfinity: !conv));
            }

            if (conv)
            {
                string name = Next("conv2d");
                Penalize(layer, position, type, name);
                Modules.Add(new Conv2dDecl(name, shape[2], layer.Units, layer.KernelHeight, layer.KernelWidth, layer.StrideHeight, layer.StrideWidth, symmetric ? top : 0, symmetric ? left : 0));
                Forward.Add(new CallStep(variable, name));
                Activate(layer.Activation, variable, fold: false);
                return Row(name, type, output, ((long)layer.KernelHeight * layer.KernelWidth * shape[2] * layer.Units) + layer.Units, depth);
            }

            Forward.Add(new Pool2dStep(variable, Average: false, layer.KernelHeight, layer.KernelWidth, layer.StrideHeight, layer.StrideWidth, symmetric ? top : 0, symmetric ? left : 0));
            return Row(Next("max_pooling2d"), type, output, 0, depth);
        }

        private void Activate(Activation activation, string variable, bool fold)
        {
            switch (activation)
            {
                case Activation.Relu:
                    Operate(Operation.Relu, variable);
                    break;
                case Activation.Sigmoid:
                    Operate(Operation.Sigmoid, variable);
                    break;
                case Activation.Tanh:
                    Operate(Operation.Tanh, variable);
                    break;
                case Activation.Softmax when fold:
                    Operate(Operation.FoldedSoftmax, variable);
                    SoftmaxFolded = true;
                    break;
                case Activation.Softmax:
                    Operate(Operation.Softmax, variable);
                    break;
                case Activation.LeakyRelu:
                    Operate(Operation.LeakyRelu, variable);
                    break;
                case Activation.Elu:
                    Operate(Operation.Elu, variable);
                    break;
                case Activation.Gelu:
                    Operate(Operation.Gelu, variable);
                    break;
                case Activation.Swish:
                    Operate(Operation.Swish, variable);
                    break;
                case Activation.Softplus:
                    Operate(Operation.Softplus, variable);
                    break;
            }
        }


        private void Operate(Operation operation, string variable) => Forward.Add(new OperationStep(variable, operation));

        private bool Rank(LayerSpec layer, string position, int[] shape, int rank, string needs, string fix)
        {
            if (shape.Length == rank)
            {
                return true;
            }

            Report(DiagnosticDescriptors.WrongRank, layer.Location, _name, position, layer.Kind.ToString(), needs, $"{Shape(shape)} (rank {shape.Length})", fix);
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

        private void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, LocationInfo? location, params string[] arguments) =>
            Diagnostics.Add(Parser.Diagnostic(descriptor, location ?? _location, arguments));

        private static int Ceil(int value, int divisor) => (value + divisor - 1) / divisor;

        internal static string Shape(int[] shape) => "(None, " + string.Join(", ", shape) + ")";
    }
}
