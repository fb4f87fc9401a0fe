// Minimal reproducer: LibTorch 2.10's oneDNN convolution reads memory nobody wrote (see README.md beside this file).
// Usage: ConvUninitialized N C H W OUT KH KW [THREADS]   (one float32 convolution, no padding, stride 1)
// c10's allocator fill comes from the environment: FLAGS_caffe2_cpu_allocator_do_junk_fill=1 (NaN pattern) or
// FLAGS_caffe2_cpu_allocator_do_zero_fill=1; LD_PRELOAD of tests/tools/poison-alloc.c poisons every posix_memalign.
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

long[] shape = args.Select(long.Parse).ToArray();
if (shape.Length is not (7 or 8))
{
    Console.Error.WriteLine("usage: ConvUninitialized N C H W OUT KH KW [THREADS]   e.g. 100 1 31 43 2 4 16");
    return 2;
}

torch.InitializeDeviceType(DeviceType.CPU);
nint c10 = NativeLibrary.Load("libc10.so");
foreach (string flag in new[] { "FLAGS_caffe2_cpu_allocator_do_zero_fill", "FLAGS_caffe2_cpu_allocator_do_junk_fill" })
{
    if (Environment.GetEnvironmentVariable(flag) == "1")
    {
        Marshal.WriteByte(NativeLibrary.GetExport(c10, flag), 1);
    }
}

torch.set_num_threads(shape.Length > 7 ? (int)shape[7] : 2);
torch.manual_seed(1);
Tensor input = torch.rand(shape[0], shape[1], shape[2], shape[3]).requires_grad_();
Tensor weight = (torch.rand(shape[4], shape[1], shape[5], shape[6]) - 0.5).requires_grad_();
Tensor bias = torch.zeros(shape[4]).requires_grad_();
Tensor output = nn.functional.conv2d(input, weight, bias);
output.backward([torch.ones_like(output)]);
long nan(Tensor t) => t.isnan().sum().item<long>();
Console.WriteLine($"NaN elements: output {nan(output)}, grad input {nan(input.grad!)} of {input.numel()}, grad weight {nan(weight.grad!)}, grad bias {nan(bias.grad!)}");
return nan(output) + nan(input.grad!) + nan(weight.grad!) + nan(bias.grad!) == 0 ? 0 : 1;
