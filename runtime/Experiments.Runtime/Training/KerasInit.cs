using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Runtime.Training;

/// <summary>
/// Keras' default initialisers, applied to TorchSharp layers. PyTorch's defaults (Kaiming-uniform kernels,
/// uniform biases) differ and change what the notebooks' SGD runs reach, so every generated model uses these
/// and records "keras" as its initialiser scheme. Draws come from torch's global generator, which the runtime
/// seeds from the experiment's weight-initialisation stream.
/// </summary>
public static class KerasInit
{
    public const string Scheme = "keras";

    /// <summary>glorot_uniform: U(-l, l) with l = sqrt(6 / (fan_in + fan_out)).</summary>
    public static void GlorotUniform(Tensor weight, long fanIn, long fanOut)
    {
        using var noGrad = torch.no_grad();
        double limit = Math.Sqrt(6.0 / (fanIn + fanOut));
        nn.init.uniform_(weight, -limit, limit);
    }

    /// <summary>Dense: kernel glorot_uniform over (in, out), bias zeros.</summary>
    public static void Dense(nn.Module<Tensor, Tensor> linear)
    {
        var layer = (TorchSharp.Modules.Linear)linear;
        GlorotUniform(layer.weight!, layer.in_features, layer.out_features);
        Zeros(layer.bias);
    }

    /// <summary>Conv2D: kernel glorot_uniform with receptive-field fans, bias zeros.</summary>
    public static void Conv2d(nn.Module<Tensor, Tensor> convolution)
    {
        var layer = (TorchSharp.Modules.Conv2d)convolution;
        Tensor weight = layer.weight!;
        long receptive = weight.shape[2] * weight.shape[3];
        GlorotUniform(weight, weight.shape[1] * receptive, weight.shape[0] * receptive);
        Zeros(layer.bias);
    }

    /// <summary>Conv1D: kernel glorot_uniform with receptive-field fans (kernel steps), bias zeros.</summary>
    public static void Conv1d(nn.Module<Tensor, Tensor> convolution)
    {
        var layer = (TorchSharp.Modules.Conv1d)convolution;
        Tensor weight = layer.weight!;
        GlorotUniform(weight, weight.shape[1] * weight.shape[2], weight.shape[0] * weight.shape[2]);
        Zeros(layer.bias);
    }

    /// <summary>
    /// Recurrent layers (SimpleRNN, LSTM, GRU): kernel glorot_uniform over (input, gates*units), recurrent kernel
    /// orthogonal, bias zeros with the LSTM forget gate at one (unit_forget_bias). PyTorch's second bias (bias_hh)
    /// is zeroed so the sum of the two equals Keras' single bias.
    /// </summary>
    /// <param name="freezeSecondBias">Keras SimpleRNN and LSTM have one bias: bias_hh is then held at zero and frozen.</param>
    public static void Recurrent(nn.Module recurrent, int gates, long units, bool unitForgetBias, bool freezeSecondBias)
    {
        Tensor Get(string name) => recurrent.get_parameter(name)
            ?? throw new ArgumentException($"{recurrent.GetName()} has no parameter {name}; only single-layer recurrent modules are supported.", nameof(recurrent));
        // A bidirectional module holds a second, backward layer (the _reverse parameters), initialised the same way after the first.
        foreach (string suffix in recurrent.get_parameter("weight_ih_l0_reverse") is null ? new[] { "_l0" } : ["_l0", "_l0_reverse"])
        {
            Recurrent(Get("weight_ih" + suffix), Get("weight_hh" + suffix), Get("bias_ih" + suffix), Get("bias_hh" + suffix), gates, units, unitForgetBias);
            if (freezeSecondBias)
            {
                recurrent.get_parameter("bias_hh" + suffix)!.requires_grad = false;
            }
        }
    }

    public static void Recurrent(Tensor weightIh, Tensor weightHh, Tensor? biasIh, Tensor? biasHh, int gates, long units, bool unitForgetBias)
    {
        using var noGrad = torch.no_grad();
        GlorotUniform(weightIh, weightIh.shape[1], gates * units);

        // Keras draws one orthogonal (units, gates*units) matrix; PyTorch stores its transpose, gate blocks stacked.
        using (Tensor keras = torch.empty(units, gates * units))
        {
            nn.init.orthogonal_(keras);
            weightHh.copy_(keras.t());
        }

        Zeros(biasIh);
        Zeros(biasHh);
        if (unitForgetBias && biasIh is not null)
        {
            // PyTorch's LSTM gate order is input, forget, cell, output: the forget block is the second.
            biasIh.narrow(0, units, units).fill_(1.0);
        }
    }

    /// <summary>BatchNormalization: gamma ones, beta zeros, moving mean zeros, moving variance ones.</summary>
    public static void BatchNorm(Tensor? weight, Tensor? bias)
    {
        using var noGrad = torch.no_grad();
        weight?.fill_(1.0);
        Zeros(bias);
    }

    public static void Zeros(Tensor? tensor)
    {
        if (tensor is null)
        {
            return;
        }

        using var noGrad = torch.no_grad();
        tensor.zero_();
    }
}
