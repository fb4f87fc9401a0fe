using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Experiments.Generators.Models;

namespace Experiments.Generators;

public sealed partial class ExperimentGenerator
{
    // The exports, printed from the same plan (modules and forward steps) as the TorchSharp model: a PyTorch module
    // with the same module names (so the state dict loads as it is) and the ONNX graph as calls on the runtime's
    // OnnxGraph, one per step. A Function layer is C# code: neither can run it, so such a model states why instead.
    internal static partial class Emitter
    {
        private static void Exports(Code s, PlannedExperiment e, string indent)
        {
            string i1 = indent + "    ";
            FunctionStep? function = e.Forward.OfType<FunctionStep>().FirstOrDefault();
            s.Line();
            if (function is not null)
            {
                string problem = $"{e.Name} has a Function layer ({function.Method}): C# code that neither PyTorch nor ONNX can run, so the model cannot be exported; " +
                    "write the function as layers (Dense, Conv2D, ActivationLayer, ...) to export it";
                s.Line($"{indent}/// <summary>Why this model cannot be exported.</summary>");
                s.Line($"{indent}public string? ExportProblem => {Literal(problem)};");
                return;
            }

            s.Line($"{indent}/// <summary>Generated models are exported from their plan.</summary>");
            s.Line($"{indent}public string? ExportProblem => null;").Line();
            s.Line($"{indent}/// <summary>The model as a PyTorch module: the same modules, state-dict names and forward pass.</summary>");
            s.Line($"{indent}public const string PyTorchModule = \"\"\"");
            foreach (string line in Python(e))
            {
                s.Line(line.Length == 0 ? "" : i1 + line);
            }

            s.Line($"{i1}\"\"\";").Line();
            s.Line($"{indent}public string PyTorchSource => PyTorchModule;").Line();
            s.Line($"{indent}/// <summary>The forward pass as ONNX nodes, in inference (dropout is the identity, normalisation uses its running statistics).</summary>");
            s.Line($"{indent}public string BuildOnnx({Runtime}.Export.OnnxGraph g)").Line($"{indent}{{");
            s.Line($"{i1}string x = g.Input;");
            var modules = e.Modules.ToDictionary(m => m.Name);
            foreach (ForwardStep step in e.Forward)
            {
                foreach (string statement in Onnx(step, modules))
                {
                    s.Line(i1 + statement);
                }
            }

            s.Line($"{i1}return x;").Line($"{indent}}}");
        }

        private static IEnumerable<string> Python(PlannedExperiment e)
        {
            yield return "class Model(nn.Module):";
            yield return $"    # {e.Name} (fingerprint {e.Fingerprint}): forward() gives class logits; softmax gives probabilities.";
            yield return "    def __init__(self):";
            yield return "        super().__init__()";
            foreach (ModuleDecl module in e.Modules)
            {
                yield return $"        self.{module.Name} = {PythonModule(module)}";
            }

            yield return "";
            yield return "    def forward(self, x):";
            foreach (ForwardStep step in e.Forward)
            {
                yield return "        " + PythonStatement(step);
            }

            yield return "        return x";
        }

        private static string PythonModule(ModuleDecl module) => module switch
        {
            LinearDecl m => $"nn.Linear({m.Inputs}, {m.Units})",
            Conv2dDecl m => $"nn.Conv2d({m.Channels}, {m.Filters}, ({m.KernelHeight}, {m.KernelWidth}), stride=({m.StrideHeight}, {m.StrideWidth}), padding=({m.PadTop}, {m.PadLeft}))",
            Conv1dDecl m => $"nn.Conv1d({m.Channels}, {m.Filters}, {m.Kernel}, stride={m.Stride}, padding={m.Pad})",
            DropoutDecl m => $"nn.Dropout({Planner.Number(m.Rate)})",
            NormDecl { Kind: NormKind.LayerNorm } m => $"nn.LayerNorm([{m.Features}], eps=1e-3)",
            NormDecl m => $"nn.{m.Kind}({m.Features}, eps=1e-3, momentum=0.01)",
            RecurrentDecl m => $"nn.{RecurrentName(m.Kind)}({m.Features}, {m.Units}, {(m.Kind == RecurrentKind.SimpleRnn ? $"nonlinearity='{(m.Relu ? "relu" : "tanh")}', " : "")}batch_first=True{(m.Bidirectional ? ", bidirectional=True" : "")})",
            _ => throw new System.ArgumentOutOfRangeException(nameof(module), module, "Unknown module."),
        };

        private static string RecurrentName(RecurrentKind kind) => kind switch
        {
            RecurrentKind.SimpleRnn => "RNN",
            RecurrentKind.Lstm => "LSTM",
            _ => "GRU",
        };

        private static string PythonStatement(ForwardStep step)
        {
            string v = step.Variable;
            string PyPad(string value, int left, int right, string fill) => left == 0 && right == 0 ? value : $"F.pad({value}, ({left}, {right}){fill})";
            return step switch
            {
                CallStep { Dimension: null } c => $"{v} = self.{c.Module}({v})",
                CallStep { ToLast: false } c => $"{v} = self.{c.Module}({v}.transpose(1, {c.Dimension})).transpose(1, {c.Dimension})",
                CallStep c => $"{v} = self.{c.Module}({v}.transpose({c.Dimension}, -1)).transpose({c.Dimension}, -1)",
                RecurrentStep { Output: RecurrentOutput.LastStep } r => $"{v} = self.{r.Module}({v})[0][:, -1]",
                RecurrentStep { Output: RecurrentOutput.Bidirectional } r => $"both = self.{r.Module}({v})[0]; {v} = torch.cat([both[:, -1, :{r.Units}], both[:, 0, {r.Units}:]], 1)",
                RecurrentStep r => $"{v} = self.{r.Module}({v})[0]",
                Conv1dStep c => $"{v} = self.{c.Module}({PyPad(v + ".transpose(1, 2)", c.PadStart, c.PadEnd, "")}).transpose(1, 2)",
                MaxPool1dStep p => $"{v} = F.max_pool1d({PyPad(v + ".transpose(1, 2)", p.PadStart, p.PadEnd, ", value=float('-inf')")}, {p.Pool}, {p.Stride}).transpose(1, 2)",
                OperationStep o => PythonOperation(v, o.Operation),
                PadStep p => $"{v} = F.pad({v}, ({p.Left}, {p.Right}, {p.Top}, {p.Bottom}){(p.NegativeInfinity ? ", value=float('-inf')" : "")})",
                Pool2dStep { Average: true } p => $"{v} = F.avg_pool2d({v}, ({p.KernelHeight}, {p.KernelWidth}), ({p.StrideHeight}, {p.StrideWidth}), ({p.PadTop}, {p.PadLeft}), count_include_pad=False)",
                Pool2dStep p => $"{v} = F.max_pool2d({v}, ({p.KernelHeight}, {p.KernelWidth}), ({p.StrideHeight}, {p.StrideWidth}), ({p.PadTop}, {p.PadLeft}))",
                PaddedAveragePoolStep p => $"{v} = F.avg_pool2d(F.pad({v}, ({p.Left}, {p.Right}, {p.Top}, {p.Bottom})), ({p.KernelHeight}, {p.KernelWidth}), ({p.StrideHeight}, {p.StrideWidth})) / " +
                    $"F.avg_pool2d(F.pad(torch.ones(1, 1, {v}.shape[2], {v}.shape[3], dtype={v}.dtype, device={v}.device), ({p.Left}, {p.Right}, {p.Top}, {p.Bottom})), ({p.KernelHeight}, {p.KernelWidth}), ({p.StrideHeight}, {p.StrideWidth}))",
                BranchStep b => $"{v} = {b.From}",
                MergeStep { Sum: false } m => $"{v} = torch.cat([{string.Join(", ", m.Branches)}], 1)",
                MergeStep m => $"{v} = {string.Join(" + ", m.Branches)}",
                ReshapeStep r => $"{v} = {v}{(r.FromImage ? ".permute(0, 2, 3, 1)" : "")}.reshape({v}.shape[0], {string.Join(", ", r.Dimensions)}){(r.ToImage ? ".permute(0, 3, 1, 2)" : "")}",
                _ => throw new System.ArgumentOutOfRangeException(nameof(step), step, "Unknown forward step."),
            };
        }

        private static string PythonOperation(string v, Operation operation) => operation switch
        {
            Operation.Relu => $"{v} = F.relu({v})",
            Operation.Sigmoid => $"{v} = torch.sigmoid({v})",
            Operation.Tanh => $"{v} = torch.tanh({v})",
            Operation.Softmax => $"{v} = F.softmax({v}, -1)",
            Operation.FoldedSoftmax => "# softmax: left to the caller (the model gives logits)",
            Operation.Flatten => $"{v} = {v}.flatten(1)",
            Operation.FlattenChannelsLast => $"{v} = {v}.permute(0, 2, 3, 1).flatten(1)",
            Operation.LeakyRelu => $"{v} = F.leaky_relu({v}, 0.2)",
            Operation.Elu => $"{v} = F.elu({v}, 1.0)",
            Operation.Gelu => $"{v} = F.gelu({v})",
            Operation.Swish => $"{v} = F.silu({v})",
            Operation.Softplus => $"{v} = F.softplus({v})",
            Operation.GlobalAveragePool => $"{v} = {v}.mean((2, 3))",
            _ => $"{v} = {v}.amax((2, 3))",
        };

        private static IEnumerable<string> Onnx(ForwardStep step, Dictionary<string, ModuleDecl> modules)
        {
            string v = step.Variable;
            string Ints(params int[] values) => $"new[] {{ {string.Join(", ", values.Select(i => i.ToString(CultureInfo.InvariantCulture)))} }}";
            string Call(string module, string input) => modules[module] switch
            {
                LinearDecl => $"g.Linear({input}, \"{module}\")",
                Conv2dDecl c => $"g.Conv({input}, \"{module}\", {Ints(c.KernelHeight, c.KernelWidth)}, {Ints(c.StrideHeight, c.StrideWidth)}, {Ints(c.PadTop, c.PadLeft, c.PadTop, c.PadLeft)})",
                DropoutDecl => input,
                NormDecl { Kind: NormKind.LayerNorm } => $"g.LayerNorm({input}, \"{module}\")",
                NormDecl => $"g.BatchNorm({input}, \"{module}\")",
                _ => throw new System.ArgumentOutOfRangeException(nameof(module), module, "Not a module called directly."),
            };

            switch (step)
            {
                case CallStep { Dimension: null } c when modules[c.Module] is DropoutDecl:
                    yield return $"// {c.Module}: dropout is the identity in inference";
                    break;
                case CallStep { Dimension: null } c:
                    yield return $"{v} = {Call(c.Module, v)};";
                    break;
                case CallStep { ToLast: false } c:
                    yield return $"{v} = g.SwapAxes({Call(c.Module, $"g.SwapAxes({v}, 1, {c.Dimension})")}, 1, {c.Dimension});";
                    break;
                case CallStep c:
                    yield return $"{v} = g.SwapAxes({Call(c.Module, $"g.SwapAxes({v}, {c.Dimension}, -1)")}, {c.Dimension}, -1);";
                    break;
                case RecurrentStep r:
                    var recurrent = (RecurrentDecl)modules[r.Module];
                    yield return $"{v} = g.Recurrent({v}, \"{r.Module}\", \"{RecurrentName(recurrent.Kind)}\", {r.Units}, \"{r.Output}\", bidirectional: {(recurrent.Bidirectional ? "true" : "false")}, relu: {(recurrent.Relu ? "true" : "false")});";
                    break;
                case Conv1dStep c:
                    var conv = (Conv1dDecl)modules[c.Module];
                    yield return $"{v} = g.SwapAxes(g.Conv(g.SwapAxes({v}, 1, 2), \"{c.Module}\", {Ints(conv.Kernel)}, {Ints(conv.Stride)}, {Ints(conv.Pad + c.PadStart, conv.Pad + c.PadEnd)}), 1, 2);";
                    break;
                case MaxPool1dStep p:
                    string padded = p.PadStart == 0 && p.PadEnd == 0 ? $"g.SwapAxes({v}, 1, 2)" : $"g.Pad(g.SwapAxes({v}, 1, 2), {Ints(p.PadStart, p.PadEnd)}, negativeInfinity: true)";
                    yield return $"{v} = g.SwapAxes(g.Pool({padded}, average: false, {Ints(p.Pool)}, {Ints(p.Stride)}, {Ints(0, 0)}), 1, 2);";
                    break;
                case OperationStep { Operation: Operation.FoldedSoftmax }:
                    yield return "// softmax: the graph's probabilities output";
                    break;
                case OperationStep o:
                    yield return $"{v} = g.Operation({v}, \"{o.Operation}\");";
                    break;
                case PadStep p:
                    yield return $"{v} = g.Pad({v}, {Ints(p.Left, p.Right, p.Top, p.Bottom)}, negativeInfinity: {(p.NegativeInfinity ? "true" : "false")});";
                    break;
                case Pool2dStep p:
                    yield return $"{v} = g.Pool({v}, average: {(p.Average ? "true" : "false")}, {Ints(p.KernelHeight, p.KernelWidth)}, {Ints(p.StrideHeight, p.StrideWidth)}, {Ints(p.PadTop, p.PadLeft, p.PadTop, p.PadLeft)});";
                    break;
                case PaddedAveragePoolStep p:
                    // Padded sums over padded counts: ONNX's average over the pixels inside, with the pads in its attribute.
                    yield return $"{v} = g.Pool({v}, average: true, {Ints(p.KernelHeight, p.KernelWidth)}, {Ints(p.StrideHeight, p.StrideWidth)}, {Ints(p.Top, p.Left, p.Bottom, p.Right)});";
                    break;
                case BranchStep b:
                    yield return $"string {v} = {b.From};";
                    break;
                case MergeStep m:
                    yield return $"{v} = g.{(m.Sum ? "Sum" : "Concat")}({string.Join(", ", m.Branches)});";
                    break;
                case ReshapeStep r:
                    yield return $"{v} = g.KerasReshape({v}, fromImage: {(r.FromImage ? "true" : "false")}, toImage: {(r.ToImage ? "true" : "false")}, {Ints(r.Dimensions.ToArray())});";
                    break;
                default:
                    throw new System.ArgumentOutOfRangeException(nameof(step), step, "Unknown forward step.");
            }
        }
    }
}
