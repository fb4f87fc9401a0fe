using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace Experiments.Runtime.Export;

/// <summary>A model that cannot be exported (a Function layer, a hand-written model); the message names it and says why.</summary>
public sealed class ExportException(string message) : Exception(message);

/// <summary>
/// Builds an ONNX inference graph (opset <see cref="Opset"/>) from a trained model's state dict. Generated models call
/// one method per step of their forward pass (the generator emits the calls from the same plan as the TorchSharp
/// forward), naming their modules; the weights come from the state dict by those names. Values are named by what made
/// them; ranks are tracked so that axis swaps can be written as full permutations.
/// </summary>
/// <remarks>
/// Written on OnnxSharp's generated protobuf messages: no served library builds ONNX graphs from .NET code, which is
/// why the node construction is here. The graph takes <c>input</c> (a float batch shaped as the model takes it) and
/// gives <c>logits</c> and their softmax, <c>probabilities</c>.
/// </remarks>
public sealed class OnnxGraph
{
    /// <summary>Opset 17: every operator used here, and what Debian 12's python3-onnx (1.12) checks.</summary>
    public const int Opset = 17;

    /// <summary>IR version 8, the one that goes with opset 17.</summary>
    public const long IrVersion = 8;

    private readonly GraphProto _graph = new();
    private readonly Dictionary<string, Tensor> _state;
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _ranks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);
    private readonly string _modelName;

    public OnnxGraph(string modelName, IReadOnlyList<int> inputShape, IEnumerable<(string Name, Tensor Tensor)> state)
    {
        _modelName = modelName;
        _state = state.ToDictionary(p => p.Name, p => p.Tensor, StringComparer.Ordinal);
        _graph.Name = modelName;
        _graph.Input.Add(ValueInfo(Input, ["N", .. inputShape.Select(d => (object)d)]));
        _ranks[Input] = inputShape.Count + 1;
    }

    public string Input => "input";

    // ---- modules with weights ----

    /// <summary>nn.Linear: Gemm with the weight transposed (PyTorch stores it [out, in]).</summary>
    public string Linear(string x, string module) =>
        Node("Gemm", [x, Weight(module + ".weight"), Weight(module + ".bias")], module, Rank(x), ("transB", 1L));

    /// <summary>nn.Conv1d or nn.Conv2d; <paramref name="pads"/> are the starts, then the ends (ONNX's order).</summary>
    public string Conv(string x, string module, int[] kernel, int[] strides, int[] pads) =>
        Node("Conv", [x, Weight(module + ".weight"), Weight(module + ".bias")], module, Rank(x), ("kernel_shape", kernel), ("strides", strides), ("pads", pads));

    /// <summary>BatchNormalization in inference: the running statistics, Keras' epsilon.</summary>
    public string BatchNorm(string x, string module) =>
        Node("BatchNormalization", [x, Weight(module + ".weight"), Weight(module + ".bias"), Weight(module + ".running_mean"), Weight(module + ".running_var")], module, Rank(x),
            ("epsilon", 1e-3f));

    /// <summary>LayerNormalization over the last dimension, Keras' epsilon.</summary>
    public string LayerNorm(string x, string module) =>
        Node("LayerNormalization", [x, Weight(module + ".weight"), Weight(module + ".bias")], module, Rank(x), ("axis", -1L), ("epsilon", 1e-3f));

    /// <summary>
    /// nn.RNN, nn.LSTM or nn.GRU (batch first, one layer) as ONNX's RNN, LSTM or GRU, steps first. PyTorch's gate blocks
    /// are reordered to ONNX's (LSTM i f g o to i o f c; GRU r z n to z r h, with the reset gate after the linear map).
    /// </summary>
    public string Recurrent(string x, string module, string kind, int units, string output, bool bidirectional, bool relu)
    {
        int[] order = kind switch
        {
            "LSTM" => [0, 3, 1, 2],
            "GRU" => [1, 0, 2],
            "RNN" => [0],
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "RNN, LSTM or GRU."),
        };
        using var scope = NewDisposeScope();
        string[] directions = bidirectional ? ["_l0", "_l0_reverse"] : ["_l0"];
        Tensor Stack(string parameter) => stack(directions.Select(d => Reordered(_state[Use(module + "." + parameter + d)], order, units)).ToArray());
        using Tensor w = Stack("weight_ih"), r = Stack("weight_hh");
        using Tensor b = cat([Stack("bias_ih"), Stack("bias_hh")], 1);
        // Layout 0 (steps first): ONNX Runtime's CPU kernels take no other.
        var attributes = new List<(string, object)> { ("hidden_size", (long)units), ("direction", bidirectional ? "bidirectional" : "forward") };
        if (kind == "GRU")
        {
            attributes.Add(("linear_before_reset", 1L));
        }

        if (kind == "RNN")
        {
            attributes.Add(("activations", Enumerable.Repeat(relu ? "Relu" : "Tanh", directions.Length).ToArray()));
        }

        string stepsFirst = Transpose(x, 1, 0, 2);
        string y = Node(kind, [stepsFirst, Constant(module + ".W", w), Constant(module + ".R", r), Constant(module + ".B", b)], module, 4, [.. attributes]);

        // Y is [steps, directions, batch, units]; PyTorch's batch-first output concatenates the directions per step.
        return output switch
        {
            "EveryStep" => Reshape(Transpose(y, 2, 0, 1, 3), [0, 0, -1], 3),
            "LastStep" => Reshape(Transpose(Gather(y, 0, -1), 1, 0, 2), [0, -1], 2),
            _ => Node("Concat", [Gather(Gather(y, 0, -1), 0, 0), Gather(Gather(y, 0, 0), 0, 1)], "concat", 2, ("axis", 1L)),
        };
    }

    // ---- operations without weights ----

    public string Operation(string x, string op) => op switch
    {
        "Relu" or "Sigmoid" or "Tanh" or "Softplus" => Node(op, [x], op.ToLowerInvariant(), Rank(x)),
        "Softmax" => Node("Softmax", [x], "softmax", Rank(x), ("axis", -1L)),
        "LeakyRelu" => Node("LeakyRelu", [x], "leaky_relu", Rank(x), ("alpha", 0.2f)),
        "Elu" => Node("Elu", [x], "elu", Rank(x), ("alpha", 1f)),
        "Swish" => Node("Mul", [x, Node("Sigmoid", [x], "sigmoid", Rank(x))], "swish", Rank(x)),

        // Opset 17 has no Gelu: the exact form PyTorch computes, x * (1 + erf(x / sqrt 2)) / 2.
        "Gelu" => Node("Mul", [Node("Mul", [x, Node("Add", [Node("Erf", [Node("Div", [x, Scalar(MathF.Sqrt(2f))], "gelu", Rank(x))], "gelu", Rank(x)), Scalar(1f)], "gelu", Rank(x))], "gelu", Rank(x)), Scalar(0.5f)], "gelu", Rank(x)),
        "Flatten" => Node("Flatten", [x], "flatten", 2, ("axis", 1L)),
        "FlattenChannelsLast" => Node("Flatten", [Transpose(x, 0, 2, 3, 1)], "flatten", 2, ("axis", 1L)),
        "GlobalAveragePool" => Node("ReduceMean", [x], "global_average_pooling", 2, ("axes", new[] { 2, 3 }), ("keepdims", 0L)),
        "GlobalMaxPool" => Node("ReduceMax", [x], "global_max_pooling", 2, ("axes", new[] { 2, 3 }), ("keepdims", 0L)),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown operation."),
    };

    public string Transpose(string x, params int[] permutation) => Node("Transpose", [x], "transpose", Rank(x), ("perm", permutation));

    /// <summary>Swaps two axes (negative from the end), as tensor.transpose(a, b).</summary>
    public string SwapAxes(string x, int a, int b)
    {
        int rank = Rank(x);
        int[] permutation = Enumerable.Range(0, rank).ToArray();
        (int first, int second) = (a < 0 ? a + rank : a, b < 0 ? b + rank : b);
        (permutation[first], permutation[second]) = (permutation[second], permutation[first]);
        return Transpose(x, permutation);
    }

    /// <summary>Constant padding of the last one or two dimensions: (left, right) or (left, right, top, bottom) as nn.functional.pad takes them.</summary>
    public string Pad(string x, int[] lastFirst, bool negativeInfinity)
    {
        int rank = Rank(x);
        long[] pads = new long[2 * rank];
        for (int i = 0; i < lastFirst.Length / 2; i++)
        {
            int axis = rank - 1 - i;
            pads[axis] = lastFirst[2 * i];
            pads[rank + axis] = lastFirst[(2 * i) + 1];
        }

        string[] inputs = [x, Constant("pads", tensor(pads)), .. negativeInfinity ? [Scalar(float.NegativeInfinity)] : Array.Empty<string>()];
        return Node("Pad", inputs, "pad", rank);
    }

    /// <summary>MaxPool or AveragePool (an average over the pixels inside the image); <paramref name="pads"/> starts then ends.</summary>
    public string Pool(string x, bool average, int[] kernel, int[] strides, int[] pads) => average
        ? Node("AveragePool", [x], "average_pooling", Rank(x), ("kernel_shape", kernel), ("strides", strides), ("pads", pads), ("count_include_pad", 0L))
        : Node("MaxPool", [x], "max_pooling", Rank(x), ("kernel_shape", kernel), ("strides", strides), ("pads", pads));

    public string Concat(params string[] branches) => Node("Concat", branches, "concatenate", Rank(branches[0]), ("axis", 1L));

    /// <summary>The branches' sum, left to right.</summary>
    public string Sum(params string[] branches) => branches.Skip(1).Aggregate(branches[0], (sum, next) => Node("Add", [sum, next], "add", Rank(sum)));

    /// <summary>Keras' Reshape: an image permuted to channels-last first, an image result back to channels-first.</summary>
    public string KerasReshape(string x, bool fromImage, bool toImage, int[] dimensions)
    {
        string value = fromImage ? Transpose(x, 0, 2, 3, 1) : x;
        value = Reshape(value, [0, .. dimensions.Select(d => (long)d)], dimensions.Length + 1);
        return toImage ? Transpose(value, 0, 3, 1, 2) : value;
    }

    /// <summary>Names <paramref name="x"/> the graph's output <c>logits</c>, adds <c>probabilities</c>, and checks that every weight was used.</summary>
    public ModelProto Build(string x, int classes, string docString)
    {
        _graph.Node.Add(NodeProto("Identity", [x], ["logits"], "logits"));
        _graph.Node.Add(NodeProto("Softmax", ["logits"], ["probabilities"], "probabilities", ("axis", 1L)));
        _graph.Output.Add(ValueInfo("logits", ["N", classes]));
        _graph.Output.Add(ValueInfo("probabilities", ["N", classes]));
        string[] unused = _state.Keys.Where(k => !_used.Contains(k) && !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToArray();
        if (unused.Length > 0)
        {
            throw new InvalidOperationException($"{_modelName}: the ONNX graph does not use {string.Join(", ", unused)}; the exporter and the model disagree.");
        }

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Experiments",
            ProducerVersion = typeof(OnnxGraph).Assembly.GetName().Version?.ToString() ?? "",
            DocString = docString,
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    // ---- plumbing ----

    private int Rank(string value) => _ranks[value];

    private string Use(string name)
    {
        if (!_state.ContainsKey(name))
        {
            throw new InvalidOperationException($"{_modelName}: the model has no parameter or buffer '{name}'.");
        }

        _used.Add(name);
        return name;
    }

    /// <summary>A state-dict entry as an initializer named as in the state dict.</summary>
    private string Weight(string name)
    {
        Use(name);
        if (_graph.Initializer.All(t => t.Name != name))
        {
            _graph.Initializer.Add(TensorProto(name, _state[name]));
        }

        return name;
    }

    private string Constant(string prefix, Tensor value)
    {
        string name = Fresh(prefix);
        _graph.Initializer.Add(TensorProto(name, value));
        return name;
    }

    private string Scalar(float value) => Constant("constant", tensor(value));

    private string Gather(string x, int axis, long index) =>
        Node("Gather", [x, Constant("index", tensor(index))], "gather", Rank(x) - 1, ("axis", (long)axis));

    private string Reshape(string x, long[] shape, int rank) => Node("Reshape", [x, Constant("shape", tensor(shape))], "reshape", rank);

    /// <summary>PyTorch's stacked gate blocks of <paramref name="units"/> rows, in <paramref name="order"/>.</summary>
    private static Tensor Reordered(Tensor value, int[] order, int units) =>
        cat(order.Select(g => value.narrow(0, g * units, units)).ToArray(), 0);

    private string Node(string op, string[] inputs, string hint, int rank, params (string Name, object Value)[] attributes)
    {
        string output = Fresh(hint);
        _graph.Node.Add(NodeProto(op, inputs, [output], output, attributes));
        _ranks[output] = rank;
        return output;
    }

    private string Fresh(string hint)
    {
        int n = _counters.TryGetValue(hint, out int seen) ? seen + 1 : 0;
        _counters[hint] = n;
        return n == 0 ? hint : $"{hint}_{n}";
    }

    private static NodeProto NodeProto(string op, string[] inputs, string[] outputs, string name, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach ((string key, object value) in attributes)
        {
            var attribute = new AttributeProto { Name = key };
            switch (value)
            {
                case long i:
                    attribute.Type = AttributeProto.Types.AttributeType.Int;
                    attribute.I = i;
                    break;
                case float f:
                    attribute.Type = AttributeProto.Types.AttributeType.Float;
                    attribute.F = f;
                    break;
                case string s:
                    attribute.Type = AttributeProto.Types.AttributeType.String;
                    attribute.S = ByteString.CopyFromUtf8(s);
                    break;
                case int[] ints:
                    attribute.Type = AttributeProto.Types.AttributeType.Ints;
                    attribute.Ints.AddRange(ints.Select(v => (long)v));
                    break;
                case string[] strings:
                    attribute.Type = AttributeProto.Types.AttributeType.Strings;
                    attribute.Strings.AddRange(strings.Select(ByteString.CopyFromUtf8));
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(attributes), value, $"Attribute {key} has an unsupported type.");
            }

            node.Attribute.Add(attribute);
        }

        return node;
    }

    private static TensorProto TensorProto(string name, Tensor value)
    {
        using Tensor host = value.detach().cpu().contiguous();
        var proto = new TensorProto
        {
            Name = name,
            DataType = host.dtype switch
            {
                ScalarType.Float32 => (int)Onnx.TensorProto.Types.DataType.Float,
                ScalarType.Int64 => (int)Onnx.TensorProto.Types.DataType.Int64,
                _ => throw new ArgumentOutOfRangeException(nameof(value), host.dtype, $"{name}: only float32 and int64 tensors are exported."),
            },

            // ONNX's raw data is little-endian, as the tensor's bytes are on every platform .NET and LibTorch run on.
            RawData = ByteString.CopyFrom(host.bytes),
        };
        proto.Dims.AddRange(host.shape);
        return proto;
    }

    private static ValueInfoProto ValueInfo(string name, object[] shape)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)Onnx.TensorProto.Types.DataType.Float, Shape = new TensorShapeProto() };
        foreach (object dimension in shape)
        {
            tensorType.Shape.Dim.Add(dimension is string symbol ? new TensorShapeProto.Types.Dimension { DimParam = symbol } : new TensorShapeProto.Types.Dimension { DimValue = (int)dimension });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }
}
