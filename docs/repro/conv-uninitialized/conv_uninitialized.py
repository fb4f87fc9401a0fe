# The same convolution in PyTorch, for a report upstream (untested here: no PyTorch 2.x on this machine; Debian's
# PyTorch 1.13 has an older oneDNN and does not show the read). Run it with the poison shim:
#   cc -shared -fPIC -O2 -o /tmp/poison-alloc.so tests/tools/poison-alloc.c -ldl
#   LD_PRELOAD=/tmp/poison-alloc.so python3 conv_uninitialized.py 100 1 31 43 2 4 16
import sys
import torch

n, c, h, w, out, kh, kw = (int(a) for a in sys.argv[1:8])
torch.set_num_threads(int(sys.argv[8]) if len(sys.argv) > 8 else 2)
torch.manual_seed(1)
x = torch.rand(n, c, h, w, requires_grad=True)
weight = (torch.rand(out, c, kh, kw) - 0.5).requires_grad_()
bias = torch.zeros(out, requires_grad=True)
y = torch.nn.functional.conv2d(x, weight, bias)
y.backward(torch.ones_like(y))
counts = [int(t.isnan().sum()) for t in (y, x.grad, weight.grad, bias.grad)]
print(f"NaN elements: output {counts[0]}, grad input {counts[1]} of {x.numel()}, grad weight {counts[2]}, grad bias {counts[3]}")
sys.exit(1 if any(counts) else 0)
