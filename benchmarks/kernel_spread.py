#!/usr/bin/env python3
"""The spread of every approved smoke snapshot across CPU kernel sets, as a Markdown table (docs/reproducibility.md).

Reads the `kernels:` section that `accept` writes into each *.verified.txt: per experiment, test accuracy of the
approved run and the lowest and highest under the kernel sets, the spread in points, and the largest share of test
and train examples whose confusion cell moved. With a test log (`dotnet test ... --logger "console;verbosity=detailed"`)
it adds each experiment's training seconds.

Usage: python3 benchmarks/kernel_spread.py tests/Experiments.Catalog.Tests/Snapshots/smoke/cpu [TEST_LOG]"""
import pathlib
import re
import sys


def block(text: str, key: str, indent: str) -> list[str]:
    """The lines of a literal block `key: |` at the given indentation."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line == f"{indent}{key}: |")
    body = []
    for line in lines[start + 1:]:
        if not line.startswith(indent + "  "):
            break
        body.append(line.strip())
    return body


def main(folder: str, log: str | None) -> None:
    seconds = {}
    if log:
        text = pathlib.Path(log).read_text()
        # Each test's own output block starts with "NAME: profile smoke" and holds "..., S s of training".
        for block_text in text.split("Standard Output Messages:")[1:]:
            name = re.search(r"^\s*(\S+): profile smoke", block_text, re.M)
            value = re.search(r"([\d.]+) s of training", block_text)
            if name and value:
                seconds.setdefault(name.group(1), float(value.group(1)))
    print("| experiment | train examples x epochs | test accuracy | under the kernel sets | spread (points) | test cells moved | train cells moved | training s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for path in sorted(pathlib.Path(folder).glob("*.verified.txt")):
        text = path.read_text()
        name = path.name.removesuffix(".verified.txt")
        accuracy = float(re.search(r"^  test_accuracy: (\S+)$", text, re.M).group(1))
        examples = re.search(r"^  train_examples: (\d+)$", text, re.M).group(1)
        epochs = re.search(r"^  epochs: (\d+)$", text, re.M).group(1)
        if "\nkernels:" not in text:
            print(f"| `{name}` | {examples} x {epochs} | {accuracy * 100:.1f}% | no envelope | | | | |")
            continue
        rows = [line.split() for line in block(text, "final", "  ")[1:]]
        accuracies = [float(r[1]) for r in rows] + [accuracy]
        spread = (max(accuracies) - min(accuracies)) * 100
        test_moved = max(float(r[5]) for r in rows) * 100
        train_moved = max(float(r[6]) for r in rows) * 100
        time = f"{seconds[name]:.1f}" if name in seconds else ""
        print(f"| `{name}` | {examples} x {epochs} | {accuracy * 100:.1f}% | {min(accuracies) * 100:.1f}-{max(accuracies) * 100:.1f}% | {spread:.1f} "
              f"| {test_moved:.1f}% | {train_moved:.1f}% | {time} |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
