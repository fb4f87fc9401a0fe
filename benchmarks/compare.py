#!/usr/bin/env python3
"""Runs the TorchSharp speed benchmark and the PyTorch reference alternately (--rounds times each, same machine, same
threads, same examples in the same batch order: the benchmark exports its data plan and the reference reads it) and
prints, per model, the best throughput of each and their ratio (ours / PyTorch; above 1 is faster).

Usage (repository root, after `dotnet build -c Release benchmarks/Experiments.Benchmarks` and
`apt-get install python3-torch libopenblas0-pthread`):
  /usr/bin/python3 benchmarks/compare.py [--train 12000] [--threads 2] [--epochs 3] [--rounds 2] [--experiments a,b]
"""
import argparse, subprocess, sys, tempfile

def table(output):
    rows = {}
    for line in output.splitlines():
        cells = line.split()
        if len(cells) >= 5 and cells[1].isdigit() and cells[2].replace(".", "").isdigit():
            rows[cells[0]] = (float(cells[2]), None if cells[3] == "-" else float(cells[3]))
    return rows

def best(runs, name, column):
    values = [r[name][column] for r in runs if name in r and r[name][column] is not None]
    return max(values) if values else None

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", default="12000")
    parser.add_argument("--threads", default="2")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", default="3")
    parser.add_argument("--experiments", default="")
    parser.add_argument("--device", default="cpu", help="cpu or cuda: both sides train on it")
    args = parser.parse_args()
    plan = tempfile.mkdtemp(prefix="experiments-plan-")
    ours_command = ["dotnet", "benchmarks/Experiments.Benchmarks/bin/Release/net10.0/Experiments.Benchmarks.dll", "speed",
                    "--train", args.train, "--threads", args.threads, "--epochs", args.epochs, "--plan-out", plan, "--device", args.device]
    theirs_command = [sys.executable, "benchmarks/pytorch/reference.py", "--train", args.train, "--threads", args.threads,
                      "--epochs", args.epochs, "--plan", plan, "--device", args.device]
    if args.experiments:
        ours_command += ["--experiments", args.experiments]
        theirs_command += ["--only", args.experiments]
    ours, theirs = [], []
    for _ in range(args.rounds):
        for command, runs in ((ours_command, ours), (theirs_command, theirs)):
            result = subprocess.run(command, capture_output=True, text=True, check=True)
            print(result.stdout.splitlines()[0])
            runs.append(table(result.stdout))
    print(f"\n{'experiment':<26} {'train img/s ours':>16} {'pytorch':>9} {'ratio':>6} {'eval img/s ours':>16} {'pytorch':>9} {'ratio':>6}")
    for name in ours[0]:
        cells = []
        for column in (0, 1):
            a, b = best(ours, name, column), best(theirs, name, column)
            cells += [f"{a:>16.0f}" if a else f"{'-':>16}", f"{b:>9.0f}" if b else f"{'-':>9}", f"{a / b:>6.2f}" if a and b else f"{'-':>6}"]
        print(f"{name:<26} " + " ".join(cells))

if __name__ == "__main__":
    main()
