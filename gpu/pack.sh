#!/usr/bin/env bash
# Here (with .NET): what a GPU machine needs: the catalog published self-contained with TorchBackend=external
# (LibTorch comes from the GPU machine's PyTorch) and one archive per dataset. xz, because a visit carries at most
# 64 MiB: measured, app 32 MB, MNIST and Fashion-MNIST below; carry the app and the datasets the visit's experiments use.
# Rehearse them on the CPU first: bash tests/external-backend.sh.
#   bash gpu/pack.sh OUT_DIR     -> OUT_DIR/app.tar.xz, OUT_DIR/mnist.tar.xz, OUT_DIR/fashion-mnist.tar.xz
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
dotnet publish "$repo/experiments/Experiments.Catalog" -c Release -r linux-x64 --self-contained -p:TorchBackend=external -o "$work/app" -nologo -v quiet
tar cf - -C "$work/app" . | xz -T0 -9 > "$out/app.tar.xz"
EXPERIMENTS_CACHE="$work/cache" dotnet "$work/app/experiments.dll" data fetch >/dev/null 2>&1 \
  || EXPERIMENTS_CACHE="$work/cache" dotnet run --project "$repo/experiments/Experiments.Catalog" -- data fetch
for dataset in mnist fashion-mnist; do
  tar cf - -C "$work/cache" "datasets/$dataset" | xz -T0 -9 > "$out/$dataset.tar.xz"
done
ls -l "$out"
