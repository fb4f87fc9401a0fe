#!/usr/bin/env python3
"""PyTorch reference for the speed benchmark: the same models, hyperparameters and subset sizes as
`Experiments.Benchmarks speed`, timed the same way (--epochs epochs, the fastest after the first reported; evaluation
in batches of 1000), deterministic algorithms on, same thread count.

Usage: python3 benchmarks/pytorch/reference.py --matmul [--cold] [--threads 2]   (matrix products only)
       python3 benchmarks/pytorch/reference.py [--train 12000] [--threads 2] [--epochs 3] [--plan DIR] [--data ~/.cache/experiments/datasets]
With --plan (the folder `Experiments.Benchmarks speed --plan-out DIR` wrote), each model trains on exactly the
framework's examples in the framework's batch order and evaluates on its validation examples; without it, on the
first --train images in torch.randperm order, evaluating on 2000 test images.
Prints one line per model: name, batch, train img/s, eval img/s, s/epoch.
"""
import argparse, gzip, json, os, time
import numpy as np
import torch
from torch import nn

def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)

def load(folder, name):
    base = os.path.join(folder, name)
    return (idx(os.path.join(base, "train-images-idx3-ubyte")), idx(os.path.join(base, "train-labels-idx1-ubyte")),
            idx(os.path.join(base, "t10k-images-idx3-ubyte")), idx(os.path.join(base, "t10k-labels-idx1-ubyte")))

class Branches(nn.Module):
    """Seed 002's stage: parallel 4x16, 16x4 and 8x8 'same' convolutions (Keras pads the extra row and column at the
    bottom and right, as nn.ZeroPad2d does here), concatenated, ReLU, 2x2 max pool, then x / (max(x) - min(x))."""
    def __init__(self, channels, filters):
        super().__init__()
        def same(kh, kw):
            return nn.Sequential(nn.ZeroPad2d(((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2)), nn.Conv2d(channels, filters, (kh, kw)), nn.ReLU())
        self.branches = nn.ModuleList([same(4, 16), same(16, 4), same(8, 8)])
    def forward(self, x):
        x = nn.functional.max_pool2d(torch.cat([b(x) for b in self.branches], 1), 2)
        return x / (x.max() - x.min())

class RangeNorm(nn.Module):
    def forward(self, x):
        return x / (x.max() - x.min())

class Last(nn.Module):
    """The LSTM's last time step, as Keras' LSTM(return_sequences=False)."""
    def __init__(self, units):
        super().__init__()
        self.lstm = nn.LSTM(28, units, batch_first=True)

    def forward(self, x):
        return self.lstm(x)[0][:, -1]

def models():
    flat = lambda x: x.reshape(-1, 784)
    image = lambda x: x.reshape(-1, 1, 28, 28)
    rows = lambda x: x.reshape(-1, 28, 28)
    return [
        ("mnist-mlp-512-rmsprop", "mnist", flat, 32, lambda p: torch.optim.RMSprop(p, lr=1e-3, alpha=0.9, eps=1e-7),
         nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))),
        ("mnist-cnn-16-36", "mnist", image, 300, lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-7),
         nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 36, 5, padding=2), nn.ReLU(),
                       nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(36 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))),
        ("mnist-lstm-128-adam", "mnist", rows, 128, lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-7),
         nn.Sequential(Last(128), nn.Linear(128, 10))),
        ("mnist-mlp-50-sgd", "mnist", flat, 128, lambda p: torch.optim.SGD(p, lr=0.01),
         nn.Sequential(nn.Linear(784, 50), nn.Linear(50, 10))),
        ("mnist-cnn-16-16", "mnist", image, 300, lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-7),
         nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 16, 5, padding=2), nn.ReLU(),
                       nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(16 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))),
        ("mnist-cnn-32-48", "mnist", image, 64, lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-7),
         nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 48, 5), nn.ReLU(), nn.MaxPool2d(2),
                       nn.Flatten(), nn.Linear(48 * 5 * 5, 256), nn.ReLU(), nn.Linear(256, 84), nn.ReLU(), nn.Linear(84, 10))),
        ("mnist-lstm-50-sgd", "mnist", rows, 128, lambda p: torch.optim.SGD(p, lr=0.01),
         nn.Sequential(Last(50), nn.Linear(50, 10))),
        ("mnist-lstm-256", "mnist", rows, 128, lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-7),
         nn.Sequential(Last(256), nn.Linear(256, 10))),
        ("mnist-branches-2", "mnist", image, 100, lambda p: torch.optim.SGD(p, lr=0.05),
         nn.Sequential(Branches(1, 2), Branches(6, 4), Branches(12, 8), nn.Flatten(), RangeNorm(), nn.Linear(24 * 3 * 3, 9), nn.ReLU(), nn.Linear(9, 10))),
        ("fashion-mlp-bn", "fashion-mnist", flat, 64, lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-7),
         nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.BatchNorm1d(512, momentum=0.01, eps=1e-3), nn.Linear(512, 512), nn.ReLU(),
                       nn.BatchNorm1d(512, momentum=0.01, eps=1e-3), nn.Dropout(0.3), nn.Linear(512, 256), nn.ReLU(),
                       nn.BatchNorm1d(256, momentum=0.01, eps=1e-3), nn.Linear(256, 256), nn.ReLU(), nn.BatchNorm1d(256, momentum=0.01, eps=1e-3),
                       nn.Dropout(0.3), nn.Linear(256, 10))),
    ]

MATMUL_SHAPES = [  # the same products as `Experiments.Benchmarks matmul` (seed 004's MLP, batch 32)
    ("fc1 forward     x W1'  [32,784]x[784,512]", 32, 784, 512, False, True),
    ("fc1 weight grad g' x   [512,32]x[32,784]", 512, 32, 784, True, False),
    ("fc2 forward     h W2'  [32,512]x[512,512]", 32, 512, 512, False, True),
    ("fc2 input grad  g W2   [32,512]x[512,512]", 32, 512, 512, False, False),
    ("fc2 weight grad g' h   [512,32]x[32,512]", 512, 32, 512, True, False),
    ("fc3 forward     h W3'  [32,512]x[512,10]", 32, 512, 10, False, True),
    ("eval fc1        x W1'  [1000,784]x[784,512]", 1000, 784, 512, False, True),
]

def matmul(threads, cold):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    caches = "cold caches (32 MB written between calls; only the product timed)" if cold else "warm caches"
    print(f"pytorch {torch.__version__} (Debian: the system libblas.so.3, OpenBLAS with libopenblas0-pthread), {threads} threads, {caches}")
    sweep = torch.zeros(8 << 20)
    print(f"{'product':<44} {'us/call':>8} {'GFLOP/s':>8}")
    for name, m, k, n, ta, tb in MATMUL_SHAPES:
        a = torch.rand(k, m).t() if ta else torch.rand(m, k)
        b = torch.rand(n, k).t() if tb else torch.rand(k, n)
        calls = max(20, int(2e9 / (2.0 * m * n * k)))
        best = float("inf")
        for _ in range(5):
            seconds = 0.0
            start = time.perf_counter()
            for _ in range(calls):
                if cold:
                    sweep.add_(1)
                    start = time.perf_counter()
                torch.mm(a, b)
                if cold:
                    seconds += time.perf_counter() - start
            best = min(best, (seconds if cold else time.perf_counter() - start) / calls)
        print(f"{name:<44} {best * 1e6:>8.1f} {2.0 * m * n * k / best / 1e9:>8.1f}")

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", type=int, default=12000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", default=os.path.expanduser("~/.cache/experiments/datasets"))
    parser.add_argument("--only", default="")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--plan", default="")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]; on CUDA the data is resident on the device, as in ours")
    parser.add_argument("--matmul", action="store_true", help="time the MLP's matrix products instead of training")
    parser.add_argument("--cold", action="store_true", help="with --matmul: evict the caches before each product")
    args = parser.parse_args()
    if args.matmul:
        return matmul(args.threads, args.cold)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.benchmark = False
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)
    source = f"the framework's examples and batch order from {args.plan}" if args.plan else "randperm order"
    print(f"pytorch {torch.__version__}, {args.device}, {args.threads} threads, {args.train} training images, fastest of epochs 2-{args.epochs}, {source}")
    print(f"{'experiment':<26} {'batch':>5} {'train img/s':>11} {'eval img/s':>10} {'s/epoch':>8}")
    cache = {}
    for name, dataset, shape, batch, optimizer, model in models():
        if args.only and name not in args.only.split(","):
            continue
        if dataset not in cache:
            cache[dataset] = load(args.data, dataset)
        xtr, ytr, xte, yte = cache[dataset]
        plan = None
        if args.plan:
            with open(os.path.join(args.plan, name + ".json")) as f:
                plan = json.load(f)
            if plan["batch"] != batch or plan["dataset"] != dataset:
                raise SystemExit(f"{name}: the plan says batch {plan['batch']} on {plan['dataset']}, this script {batch} on {dataset}")
            train_index = np.asarray(plan["train"])
            if plan["validation_is_test"]:
                xt = shape(torch.tensor(xte[np.asarray(plan["test"])], dtype=torch.float32) / 255)
            elif plan["validation"]:
                xt = shape(torch.tensor(xtr[np.asarray(plan["validation"])], dtype=torch.float32) / 255)
            else:
                xt = None
        else:
            train_index = np.arange(args.train)
            xt = shape(torch.tensor(xte[:2000], dtype=torch.float32) / 255)
        x = shape(torch.tensor(xtr[train_index], dtype=torch.float32) / 255)
        y = torch.tensor(ytr[train_index], dtype=torch.int64)
        x, y = x.to(device), y.to(device)
        xt = xt.to(device) if xt is not None else None
        model.to(device)
        opt = optimizer(model.parameters())
        loss_fn = nn.CrossEntropyLoss()
        train_times, eval_times = [], []
        for epoch in range(args.epochs):
            model.train()
            order = (torch.tensor(plan["epochs"][epoch], dtype=torch.int64) if plan else torch.randperm(len(y))).to(device)
            sync()
            start = time.perf_counter()
            for b in range(0, len(y), batch):
                index = order[b: b + batch]
                opt.zero_grad()
                loss = loss_fn(model(x[index]), y[index])
                loss.backward()
                opt.step()
            sync()
            train_times.append(time.perf_counter() - start)
            if xt is not None:
                model.eval()
                start = time.perf_counter()
                with torch.no_grad():
                    for b in range(0, len(xt), 1000):
                        model(xt[b: b + 1000]).argmax(1)
                sync()
                eval_times.append(time.perf_counter() - start)
        train_seconds = min(train_times[1:])
        evaluation = f"{len(xt) / min(eval_times[1:]):>10.0f}" if xt is not None else f"{'-':>10}"
        print(f"{name:<26} {batch:>5} {len(y) / train_seconds:>11.0f} {evaluation} {train_seconds:>8.2f}")

if __name__ == "__main__":
    main()
