#!/usr/bin/env bash
# Builds the poisoned-allocation shim (poison-alloc.c beside this script) and prints the library's path.
# Usage: LD_PRELOAD=$(bash tests/tools/build-poison.sh [OUT_DIR]) dotnet test ...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-${TMPDIR:-/tmp}}"
compiler="$(command -v cc || command -v gcc || true)"
if [ -z "$compiler" ]; then
  echo "build-poison.sh: no C compiler (cc or gcc) on PATH; install one (Debian: apt-get install gcc)" >&2
  exit 1
fi
mkdir -p "$out"
"$compiler" -shared -fPIC -O2 -o "$out/poison-alloc.so.tmp" "$here/poison-alloc.c" -ldl
mv "$out/poison-alloc.so.tmp" "$out/poison-alloc.so"
echo "$out/poison-alloc.so"
