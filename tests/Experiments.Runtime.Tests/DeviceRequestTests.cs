using Experiments.Runtime.Native;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>The device rules, checked for machines with 0, 1 and several GPUs (resolution takes the count LibTorch reports).</summary>
public sealed class DeviceRequestTests
{
    [Theory]
    [InlineData("cpu", DeviceKind.Cpu, 0)]
    [InlineData(" CPU ", DeviceKind.Cpu, 0)]
    [InlineData("cuda", DeviceKind.Cuda, 0)]
    [InlineData("cuda:0", DeviceKind.Cuda, 0)]
    [InlineData("CUDA:3", DeviceKind.Cuda, 3)]
    [InlineData("auto", DeviceKind.Auto, 0)]
    public void Accepted_forms_parse(string text, DeviceKind kind, int index)
    {
        Assert.Equal(new DeviceRequest(kind, index), DeviceRequest.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:x")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:1.5")]
    [InlineData("cuda0")]
    [InlineData("mps")]
    public void Other_forms_are_a_usage_error_that_lists_the_accepted_ones(string text)
    {
        Assert.False(DeviceRequest.TryParse(text, out _));
        var e = Assert.Throws<ArgumentException>(() => DeviceRequest.Parse(text));
        Assert.Contains($"'{text}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("cpu, cuda, cuda:N or auto", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cpu", 0, "cpu")]
    [InlineData("cpu", 2, "cpu")]
    [InlineData("auto", 0, "cpu")]
    [InlineData("auto", 1, "cuda:0")]
    [InlineData("auto", 4, "cuda:0")]
    [InlineData("cuda", 1, "cuda:0")]
    [InlineData("cuda:1", 2, "cuda:1")]
    public void Resolution_picks_the_device_a_result_records(string text, int gpus, string expected)
    {
        Assert.Equal(expected, DeviceRequest.Parse(text).Resolve(gpus, "cuda-linux").ToString());
    }

    [Fact]
    public void Cuda_without_a_gpu_says_how_to_get_one_for_the_backend_in_use()
    {
        var cpuBuild = Assert.Throws<DeviceUnavailableException>(() => DeviceRequest.Parse("cuda").Resolve(0, "cpu"));
        Assert.Contains("TorchBackend=cpu", cpuBuild.Message, StringComparison.Ordinal);
        Assert.Contains("-p:TorchBackend=cuda-linux", cpuBuild.Message, StringComparison.Ordinal);
        Assert.Contains("--device cpu", cpuBuild.Message, StringComparison.Ordinal);

        var cudaBuild = Assert.Throws<DeviceUnavailableException>(() => DeviceRequest.Parse("cuda:0").Resolve(0, "cuda-linux"));
        Assert.Contains("nvidia-smi", cudaBuild.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("build with", cudaBuild.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_index_beyond_the_machine_names_the_valid_range()
    {
        var e = Assert.Throws<DeviceUnavailableException>(() => DeviceRequest.Parse("cuda:2").Resolve(2, "cuda-linux"));
        Assert.Contains("has 2 CUDA device(s)", e.Message, StringComparison.Ordinal);
        Assert.Contains("cuda:0 to cuda:1", e.Message, StringComparison.Ordinal);
    }
}
