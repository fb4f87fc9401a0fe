#!/usr/bin/env bash
# The route to a GPU machine, rehearsed on the CPU: publish the catalog self-contained with TorchBackend=external (no
# LibTorch inside), run one smoke experiment with LD_LIBRARY_PATH at a LibTorch outside the app, and check that its
# snapshot equals the cpu backend's bit for bit, backend names aside. What this proves is the packaging and the
# loading: the app carries no LibTorch, finds one through LD_LIBRARY_PATH and records the version it loaded. The
# LibTorch it loads here is the same build the cpu backend uses (the NuGet libtorch-cpu package's native folder), so
# equal bits are expected, not evidence that another LibTorch build computes the same.
# Then another build really: Debian's PyTorch 1.13 (package libtorch1.13; EXPERIMENTS_OTHER_LIBTORCH=DIR names
# another torch/lib). TorchSharp 0.107 is built against LibTorch 2.10, so it cannot use 1.13 (hundreds of undefined
# C++ symbols); the app must refuse it with exit code 4 and a message that names the loaded LibTorch, the symbol
# and the version it needs, instead of TorchSharp's "no reference to libtorch-cpu" or a crash.
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

# Another LibTorch build: a torch/lib-like folder of unversioned names over Debian's versioned libraries.
other="${EXPERIMENTS_OTHER_LIBTORCH:-}"
if [ -z "$other" ] && [ -f /usr/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13 ]; then
  other="$work/debian-torch-lib"
  mkdir -p "$other"
  for lib in libtorch libtorch_cpu libc10; do ln -sf "/usr/lib/x86_64-linux-gnu/$lib.so.1.13" "$other/$lib.so"; done
fi
if [ -z "$other" ]; then
  [ "${EXPERIMENTS_OTHER_LIBTORCH_SKIP:-}" = 1 ] || fail "no other LibTorch build here: install Debian's libtorch1.13, set EXPERIMENTS_OTHER_LIBTORCH=DIR, or EXPERIMENTS_OTHER_LIBTORCH_SKIP=1 to skip this part on purpose"
  echo "external-backend: another LibTorch build: SKIPPED, as EXPERIMENTS_OTHER_LIBTORCH_SKIP=1 asks"
  exit 0
fi
echo "== the published app, LibTorch from $other (another build)"
status=0
LD_LIBRARY_PATH="$other" "$work/app/experiments" "${run[@]}" --out "$work/other" > "$work/other.log" 2>&1 || status=$?
if [ "$status" = 0 ]; then
  # A LibTorch this TorchSharp can use: then the question is the bits, compared under the recorded identity.
  echo "   it ran: $(grep -m1 'libtorch:' "$work/other/mnist-mlp-50-sgd/snapshot.txt")"
  strip "$work/other/mnist-mlp-50-sgd/snapshot.txt" | diff <(strip "$work/cpu.txt") - > "$work/other.diff" && echo "   same bits as the cpu backend" \
    || echo "   other bits than the cpu backend ($(grep -c '^[<>]' "$work/other.diff") lines differ)"
else
  message="$(grep '^error:' "$work/other.log" || true)"
  [ "$status" = 4 ] || fail "another LibTorch should be refused with exit code 4 (device or native-library error), got $status: $(tail -5 "$work/other.log")"
  grep -q "cannot use the LibTorch it found ($other/libtorch_cpu.so" <<<"$message" || fail "the refusal does not name the LibTorch it found: $message"
  grep -q "undefined symbol" <<<"$message" || fail "the refusal does not give the loader's reason: $message"
  grep -q "built against LibTorch $libtorch_version" <<<"$message" || fail "the refusal does not say which LibTorch is needed: $message"
  echo "   refused, exit code 4: ${message:0:400}"
fi
