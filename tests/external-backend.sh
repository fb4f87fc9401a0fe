#!/usr/bin/env bash
# The route to a GPU machine, rehearsed on the CPU: publish the catalog self-contained with TorchBackend=external (no
# LibTorch inside), run one smoke experiment with LD_LIBRARY_PATH at a LibTorch from elsewhere (here the NuGet
# libtorch-cpu package's native folder; on a GPU machine, the PyTorch install's torch/lib), and check that its
# snapshot equals the cpu backend's bit for bit, backend names aside. A packaging mistake fails here, not on the GPU.
# Usage: bash tests/external-backend.sh [WORK_DIR]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
[ -n "${1:-}" ] || trap 'rm -rf "$work"' EXIT
packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
fail() { echo "FAILED: $*" >&2; exit 1; }
libtorch_version="$(sed -n 's:.*<LibTorchVersion>\(.*\)</LibTorchVersion>.*:\1:p' "$repo/Directory.Packages.props")"
native="$packages/libtorch-cpu-linux-x64/$libtorch_version/runtimes/linux-x64/native"
[ -f "$native/libtorch_cpu.so" ] || fail "no LibTorch at $native (restore the repository first: dotnet build)"

echo "== publish (TorchBackend=external, self-contained)"
start=$SECONDS
dotnet publish "$repo/experiments/Experiments.Catalog" -c Release -r linux-x64 --self-contained -p:TorchBackend=external -o "$work/app" -nologo -v quiet
echo "   took $((SECONDS - start)) s, $(du -sm "$work/app" | cut -f1) MB"
if compgen -G "$work/app/libtorch_cpu*" >/dev/null; then fail "the external-backend app carries its own LibTorch"; fi
[ -f "$work/app/libLibTorchSharp.so" ] || [ -f "$work/app/runtimes/linux-x64/native/libLibTorchSharp.so" ] || fail "no libLibTorchSharp.so in the app"

run=(run mnist-mlp-50-sgd --profile smoke --threads 2)
echo "== the published app, LibTorch from $native"
LD_LIBRARY_PATH="$native" "$work/app/experiments" "${run[@]}" --out "$work/external" --snapshot "$work/external.txt"
echo "== the cpu backend (the build's own LibTorch)"
dotnet build "$repo/experiments/Experiments.Catalog" -nologo -v quiet
dotnet "$repo/experiments/Experiments.Catalog/bin/Debug/net10.0/experiments.dll" "${run[@]}" --out "$work/cpu" --snapshot "$work/cpu.txt"

grep -q "backend: external" "$work/external.txt" || fail "the published app does not record backend: external"
grep -q "backend: cpu" "$work/cpu.txt" || fail "the build does not record backend: cpu"
# The version comes from the library that was loaded (at::show_config), not from a package the app does not carry.
grep -q "libtorch: external LibTorch $libtorch_version\$" "$work/external.txt" || fail "the external app does not record the loaded LibTorch's version ($libtorch_version): $(grep 'libtorch:' "$work/external.txt")"
strip() { grep -v -E '^  (backend|libtorch): ' "$1"; }
if ! diff <(strip "$work/cpu.txt") <(strip "$work/external.txt"); then fail "the external backend's snapshot differs from the cpu backend's"; fi
echo "external-backend: the published app's snapshot equals the cpu backend's, backend names aside"
