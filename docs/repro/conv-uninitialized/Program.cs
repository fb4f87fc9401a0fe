using TorchSharp;
using static TorchSharp.torch;

// argv: N C H W OUT KH KW [threads]
torch.InitializeDeviceType(DeviceType.CPU);
foreach (string flag in new[] { "FLAGS_caffe2_cpu_allocator_do_zero_fill", "FLAGS_caffe2_cpu_allocator_do_junk_fill" })
{
    if (Environment.GetEnvironmentVariable(flag) == "1")
    {
        IntPtr c10 = System.Runtime.InteropServices.NativeLibrary.Load("libc10.so");
        System.Runtime.InteropServices.Marshal.WriteByte(System.Runtime.InteropServices.NativeLibrary.GetExport(c10, flag), 1);
    }
}
long[] a = args.Select(long.Parse).ToArray();
torch.set_num_threads(a.Length > 7 ? (int)a[7] : 2);
torch.manual_seed(1);
Tensor x = torch.rand(a[0], a[1], a[2], a[3]);
Tensor w = (torch.rand(a[4], a[1], a[5], a[6]) - 0.5).requires_grad_();
Tensor b = torch.zeros(a[4]).requires_grad_();
Tensor xg = x.clone().requires_grad_();
for (int i = 0; i < 3; i++)
{
    Tensor y = nn.functional.conv2d(xg, w, b);
    Tensor g = torch.rand_like(y);
    y.backward(new[] { g });
    Console.WriteLine($"iter {i}: y nan {y.isnan().any().item<bool>()} dW nan {w.grad!.isnan().sum().item<long>()} db nan {b.grad!.isnan().sum().item<long>()} dx nan {xg.grad!.isnan().sum().item<long>()}");
    w.grad.zero_(); b.grad.zero_(); xg.grad.zero_();
}
