using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Experiments.Generators.Models;

namespace Experiments.Generators;

public sealed partial class ExperimentGenerator
{
    /// <summary>The layer families beyond dense and convolution: recurrent, branches, augmentation, pooling over the image, normalization, reshape.</summary>
    internal sealed partial class ModelWalk
    {
        private bool _modelStarted;

        /// <summary>The augmentation layers, in order: the runtime applies them to training batches before the model.</summary>
        public List<AugmentationDecl> Augmentations { get; } = new();

        /// <summary>The regularized kernels (Dense and Conv2D L1/L2), for the runtime to add to the loss.</summary>
        public List<PenaltyDecl> Penalties { get; } = new();

        private void Penalize(LayerSpec layer, string position, string type, string module)
        {
            foreach ((string which, double factor) in new[] { ("L1", layer.L1), ("L2", layer.L2) })
            {
                if (factor < 0 || double.IsNaN(factor) || double.IsInfinity(factor))
                {
                    Report(DiagnosticDescriptors.OutOfRange, layer.Location, _name, $"layer {position} ({type})", $"{which} {Planner.Number(factor)}", "a regularization factor is 0 or more, e.g. L2: 1e-4");
                    return;
                }
            }

            if (layer.L1 > 0 || layer.L2 > 0)
            {
                Penalties.Add(new PenaltyDecl(module + ".weight", layer.L1, layer.L2));
            }
        }

        private static bool IsAugmentation(LayerKind kind) => kind is LayerKind.RandomFlip or LayerKind.RandomTranslation or LayerKind.RandomRotation or LayerKind.RandomZoom;

        /// <summary>Conv1D and MaxPooling1D over (steps, features), with Keras' 'valid' and 'same' step counts.</summary>
        private int[]? OverSteps(LayerSpec layer, string position, string variable, int[] shape, int depth)
        {
            bool conv = layer.Kind == LayerKind.Conv1D;
            string type = conv ? "Conv1D" : "MaxPooling1D";
            if (!Rank(layer, position, shape, 2, "a 2-D (steps, features) input", "use Input.Sequence, and put Flatten or a recurrent layer after it"))
            {
                return null;
            }

            int steps = shape[0], kernel = layer.KernelWidth, stride = layer.StrideWidth;
            if ((conv && layer.Units <= 0) || kernel <= 0 || stride <= 0)
            {
                Report(DiagnosticDescriptors.OutOfRange, layer.Location, _name, $"layer {position} ({type})", conv && layer.Units <= 0 ? $"filters {layer.Units}" : $"window {kernel}, stride {stride}",
                    "filters, windows and strides are at least 1");
                return null;
            }

            int left = 0, right = 0, output;
            if (layer.Padding == Padding.Same)
            {
                output = (steps + stride - 1) / stride;
                int total = Math.Max(((output - 1) * stride) + kernel - steps, 0);
                (left, right) = (total / 2, total - (total / 2));
            }
            else if (kernel > steps)
            {
                Report(DiagnosticDescriptors.OutOfRange, layer.Location, _name, $"layer {position} ({type})", $"window {kernel}", $"the window is longer than the {steps} steps it slides over; use Padding.Same or a shorter window");
                return null;
            }
            else
            {
                output = ((steps - kernel) / stride) + 1;
            }

            if (!conv)
            {
                Forward.Add(new MaxPool1dStep(variable, kernel, stride, left, right));
                return Row(Next("max_pooling1d"), type, new[] { output, shape[1] }, 0, depth);
            }

            // Symmetric padding is the module's own; Keras' extra step at the end for even kernels is padded explicitly.
            bool symmetric = left == right;
            string name = Next("conv1d");
            Penalize(layer, position, type, name);
            Modules.Add(new Conv1dDecl(name, shape[1], layer.Units, kernel, stride, symmetric ? left : 0));
            Forward.Add(new Conv1dStep(variable, name, symmetric ? 0 : left, symmetric ? 0 : right));
            Activate(layer.Activation, variable, fold: false);
            return Row(name, type, new[] { output, layer.Units }, ((long)kernel * shape[1] * layer.Units) + layer.Units, depth);
        }

        private int[]? Recurrent(LayerSpec layer, string position, string variable, int[] shape, int depth, bool bidirectional = false)
        {
            string type = layer.Kind switch { LayerKind.Lstm => "LSTM", LayerKind.Gru => "GRU", _ => "SimpleRNN" };
            if (!Rank(layer, position, shape, 2, "a 2-D (steps, features) input", "use Input.Sequence (28 steps of 28 pixels), and put Flatten or Dense after the recurrent layer; to stack recurrent layers, give the lower ones ReturnSequences: true"))
            {
                return null;
            }

            int features = shape[1];
            int units = layer.Units;
            if (units <= 0)
            {
                Report(DiagnosticDescriptors.OutOfRange, layer.Location, _name, $"layer {position} ({type})", $"units {units}", "a recurrent layer needs at least 1 unit");
                return null;
            }

            int gates = layer.Kind switch { LayerKind.Lstm => 4, LayerKind.Gru => 3, _ => 1 };
            int directions = bidirectional ? 2 : 1;
            string name = Next(bidirectional ? "bidirectional" : layer.Kind switch { LayerKind.Lstm => "lstm", LayerKind.Gru => "gru", _ => "simple_rnn" });

            // Keras has one bias vector (GRU with reset_after has two, as PyTorch); PyTorch adds bias_hh. Held at zero
            // and frozen, the sum equals Keras' bias.
            bool kerasHasOneBias = layer.Kind != LayerKind.Gru;
            RecurrentKind kind = layer.Kind switch { LayerKind.Lstm => RecurrentKind.Lstm, LayerKind.Gru => RecurrentKind.Gru, _ => RecurrentKind.SimpleRnn };
            Modules.Add(new RecurrentDecl(name, kind, features, units, gates, kerasHasOneBias, layer.Activation == Activation.Relu, bidirectional));
            if (kerasHasOneBias)
            {
                FrozenExtra += (long)directions * gates * units;
            }

            RecurrentOutput call = layer.ReturnSequences ? RecurrentOutput.EveryStep : bidirectional ? RecurrentOutput.Bidirectional : RecurrentOutput.LastStep;
            Forward.Add(new RecurrentStep(variable, name, call, units));
            long parameters = directions * (long)gates * (((long)features * units) + ((long)units * units) + ((kerasHasOneBias ? 1 : 2) * units));
            int outputs = directions * units;
            return Row(name, bidirectional ? "Bidirectional" : type, layer.ReturnSequences ? new[] { shape[0], outputs } : new[] { outputs }, parameters, depth);
        }

        private int[]? Concatenate(LayerSpec layer, string position, string variable, int[] shape, int depth)
        {
            if (!Rank(layer, position, shape, 3, "a 3-D (height, width, channels) input", "put Concatenate where Conv2D layers could run"))
            {
                return null;
            }

            if (Branches(layer, position, variable, shape, depth) is not { } branches)
            {
                return null;
            }

            List<int[]> outputs = branches.Select(b => b.Output).ToList();
            for (int i = 1; i < outputs.Count; i++)
            {
                if (outputs[i].Length != 3 || outputs[i][0] != outputs[0][0] || outputs[i][1] != outputs[0][1])
                {
                    Report(DiagnosticDescriptors.ConcatMismatch, layer.Location, _name, position, (i + 1).ToString(CultureInfo.InvariantCulture), Shape(outputs[i]), Shape(outputs[0]));
                    return null;
                }
            }

            Forward.Add(new MergeStep(variable, Sum: false, EquatableArray.From(branches.Select(b => b.Variable).ToList())));
            return Row(Next("concatenate"), "Concatenate", new[] { outputs[0][0], outputs[0][1], outputs.Sum(o => o[2]) }, 0, depth);
        }

        /// <summary>Keras Add: the branches' outputs summed, left to right; every branch gives the same shape.</summary>
        private int[]? Add(LayerSpec layer, string position, string variable, int[] shape, int depth)
        {
            if (layer.Children.Count < 2)
            {
                Report(DiagnosticDescriptors.OutOfRange, layer.Location, _name, $"layer {position} (Add)", $"{layer.Children.Count} branch{(layer.Children.Count == 1 ? "" : "es")}",
                    "an Add sums at least two branches, e.g. new Add(new Identity(), new Sequence(...)) for a residual block");
                return null;
            }

            if (Branches(layer, position, variable, shape, depth) is not { } branches)
            {
                return null;
            }

            for (int i = 1; i < branches.Count; i++)
            {
                if (!branches[i].Output.SequenceEqual(branches[0].Output))
                {
                    Report(DiagnosticDescriptors.AddMismatch, layer.Location, _name, position, (i + 1).ToString(CultureInfo.InvariantCulture), Shape(branches[i].Output), Shape(branches[0].Output));
                    return null;
                }
            }

            Forward.Add(new MergeStep(variable, Sum: true, EquatableArray.From(branches.Select(b => b.Variable).ToList())));
            return Row(Next("add"), "Add", branches[0].Output, 0, depth);
        }

        /// <summary>Each branch walked from the same input into a variable of its own; null when one cannot work.</summary>
        private List<(string Variable, int[] Output)>? Branches(LayerSpec layer, string position, string variable, int[] shape, int depth)
        {
            var branches = new List<(string Variable, int[] Output)>();
            for (int i = 0; i < layer.Children.Count; i++)
            {
                string branch = $"branch{++_branchVariables}";
                Forward.Add(new BranchStep(branch, variable));
                int[]? output = Walk(layer.Children[i], $"{position}.{i + 1}", branch, shape, depth + 1, foldSoftmax: false);
                if (output is null)
                {
                    return null;
                }

                branches.Add((branch, output));
            }

            return branches;
        }

        private int[]? Augment(LayerSpec layer, string position, int[] shape, int depth)
        {
            string type = layer.Kind.ToString();
            if (_modelStarted || position.Contains('.'))
            {
                Report(DiagnosticDescriptors.AugmentationPlacement, layer.Location, _name, position, type,
                    position.Contains('.') ? "an augmentation layer inside a Sequence, Concatenate or Add" : "an augmentation layer after a layer of the model",
                    "put the augmentation layers first in Layers, before every other layer (each image's draw needs its index in the training set)");
                return shape;
            }

            if (!Rank(layer, position, shape, 3, "an image (height, width, channels) input", "declare the experiment with Input.Image"))
            {
                return null;
            }

            void Range(double value, string what, double max)
            {
                if (!(value >= 0 && value <= max))
                {
                    Report(DiagnosticDescriptors.OutOfRange, layer.Location, _name, $"layer {position} ({type})", $"{what} {Planner.Number(value)}",
                        $"a factor lies in [0, {Planner.Number(max)}]: the draw is uniform in [-factor, factor]");
                }
            }

            switch (layer.Kind)
            {
                case LayerKind.RandomRotation:
                    Range(layer.Factor, "factor", 1);
                    break;
                case LayerKind.RandomTranslation:
                    Range(layer.Factor, "height factor", 1);
                    Range(layer.FactorWidth, "width factor", 1);
                    break;
                case LayerKind.RandomZoom:
                    Range(layer.Factor, "height factor", 1);
                    if (!double.IsNaN(layer.FactorWidth))
                    {
                        Range(layer.FactorWidth, "width factor", 1);
                    }

                    break;
            }

            Augmentations.Add(new AugmentationDecl(layer.Kind, layer.Factor, layer.FactorWidth, layer.Flip));
            return Row(Next(Parser.Snake(type)), type, shape, 0, depth);
        }

        private int[]? GlobalPool(LayerSpec layer, string position, string variable, int[] shape, int depth)
        {
            bool average = layer.Kind == LayerKind.GlobalAveragePooling2D;
            string type = average ? "GlobalAveragePooling2D" : "GlobalMaxPooling2D";
            if (!Rank(layer, position, shape, 3, "a 3-D (height, width, channels) input", "put it after the Conv2D layers, in place of Flatten"))
            {
                return null;
            }

            Operate(average ? Operation.GlobalAveragePool : Operation.GlobalMaxPool, variable);
            return Row(Next(average ? "global_average_pooling2d" : "global_max_pooling2d"), type, new[] { shape[2] }, 0, depth);
        }

        private int[]? LayerNorm(LayerSpec layer, string position, string variable, int[] shape, int depth)
        {
            int rank = shape.Length;
            int axis = layer.Axis < 0 ? rank + layer.Axis + 1 : layer.Axis;
            if (axis < 1 || axis > rank)
            {
                Report(DiagnosticDescriptors.OutOfRange, layer.Location, _name, $"layer {position} (LayerNormalization)", $"axis {layer.Axis}", $"the input {Shape(shape)} has axes 1..{rank} (or -1 for the last)");
                return null;
            }

            // Keras axis (channels-last, 1-based after the batch) to the TorchSharp tensor's dimension.
            int torchDim = rank == 3 ? (axis == 3 ? 1 : axis + 1) : axis;
            int features = shape[axis - 1];
            string name = Next("layer_normalization");
            Modules.Add(new NormDecl(name, NormKind.LayerNorm, features));
            if (torchDim == rank)
            {
                Forward.Add(new CallStep(variable, name));
            }
            else
            {
                Forward.Add(new CallStep(variable, name, torchDim, ToLast: true));
            }

            return Row(name, "LayerNormalization", shape, 2L * features, depth);
        }

        private int[]? Reshape(LayerSpec layer, string position, string variable, int[] shape, int depth)
        {
            int[] target = layer.Shape.ToArray();
            int size = shape.Aggregate(1, (a, b) => a * b);
            int unknown = target.Count(d => d == -1);
            int known = target.Where(d => d != -1).Aggregate(1, (a, b) => a * b);
            string problem = target.Length == 0 || target.Length > 3 ? "a target shape has 1 to 3 dimensions (without the batch)"
                : target.Any(d => d == 0 || d < -1) || unknown > 1 ? "every dimension is at least 1, except one that may be -1 (inferred)"
                : unknown == 1 && size % known != 0 ? $"{size} values do not divide into dimensions of {known}"
                : unknown == 0 && known != size ? $"the input {Shape(shape)} holds {size} values, the target {known}"
                : "";
            if (problem.Length > 0)
            {
                Report(DiagnosticDescriptors.OutOfRange, layer.Location, _name, $"layer {position} (Reshape)", $"shape ({string.Join(", ", target)})", problem);
                return null;
            }

            int[] output = target.Select(d => d == -1 ? size / known : d).ToArray();

            // Keras reshapes channels-last values; an image tensor here is channels-first, so it is permuted around the reshape.
            Forward.Add(new ReshapeStep(variable, shape.Length == 3, output.Length == 3, EquatableArray.From(output)));
            return Row(Next("reshape"), "Reshape", output, 0, depth);
        }
    }
}
