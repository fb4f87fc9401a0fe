#!/usr/bin/env bash
# The framework as a user outside this repository gets it, end to end: `dotnet pack` at the root into a folder feed,
# `dotnet new install` the template from it, `dotnet new experiments -n my-lab` (a name that is not a C# identifier) in a temporary folder, build (TorchSharp from the
# normal feed), run the sample experiment, `dotnet test` without a snapshot (fails, writes a received file), `accept`,
# `dotnet test` again (passes), and a declaration with an out-of-range enum (a compile error EXP0016).
# Usage: bash tests/outside-repository.sh [WORK_DIR]   (default: a new temporary folder, removed afterwards)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
keep="${1:+yes}"
version_suffix="local.$(date -u +%Y%m%d%H%M%S)"
packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"

cleanup() {
  # Each run packs a unique version: leave no copies of it in the global package folder.
  rm -rf "$packages"/experiments.abstractions/*-"$version_suffix" "$packages"/experiments.runtime/*-"$version_suffix" "$packages"/experiments.sdk/*-"$version_suffix"
  if [ -z "$keep" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%T)"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
timed() { local start=$SECONDS; "$@"; echo "   took $((SECONDS - start)) s"; }

case "$work" in "$repo"/*) fail "the work folder must be outside the repository ($work)";; esac
feed="$work/feed"
hive="$work/template-hive"
mkdir -p "$feed"

step "dotnet pack at the root"
timed dotnet pack "$repo" -c Release -o "$feed" --version-suffix "$version_suffix" -v quiet -nologo
ls "$feed"
version="$(basename "$feed"/Experiments.Sdk.*.nupkg .nupkg)"; version="${version#Experiments.Sdk.}"
for package in Experiments.Abstractions Experiments.Runtime Experiments.Sdk Experiments.Templates; do
  [ -f "$feed/$package.$version.nupkg" ] || fail "$package.$version.nupkg was not packed"
done
# The package's entries and nuspec, read into variables first (a `| grep -q` under pipefail fails when the writer
# gets SIGPIPE), with Python's zipfile (unzip is not on every machine).
runtime_package="$feed/Experiments.Runtime.$version.nupkg"
entries="$(python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$runtime_package")" || fail "cannot read $runtime_package"
nuspec="$(python3 -c 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read("Experiments.Runtime.nuspec").decode())' "$runtime_package")" || fail "no nuspec in $runtime_package"
grep -qx "analyzers/dotnet/cs/Experiments.Generators.dll" <<<"$entries" || fail "no generator under analyzers/ (entries: $(tr '\n' ' ' <<<"$entries"))"
grep -qx "buildTransitive/Experiments.Runtime.targets" <<<"$entries" || fail "no buildTransitive targets"
grep -q "id=\"Experiments.Abstractions\" version=\"$version\"" <<<"$nuspec" || fail "Experiments.Runtime does not depend on Experiments.Abstractions $version"
if grep -q "libtorch" <<<"$nuspec"; then fail "Experiments.Runtime depends on a LibTorch package (the application picks the backend)"; fi

# The user's machine: the folder feed beside the normal one (nuget.config above the new solution).
cat > "$work/nuget.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="experiments-local" value="$feed" />
  </packageSources>
</configuration>
CONFIG

name="my-lab"
step "dotnet new install + dotnet new experiments -n $name"
dotnet new install "$feed/Experiments.Templates.$version.nupkg" --debug:custom-hive "$hive" >/dev/null
(cd "$work" && dotnet new experiments -n "$name" --debug:custom-hive "$hive")
lab="$work/$name"
for file in "$name.slnx" global.json README.md .gitignore "src/$name/$name.csproj" "src/$name/experiments.yaml" "tests/$name.Tests/$name.Tests.csproj" .github/workflows/experiments.yml scripts/pr-review.sh; do
  [ -f "$lab/$file" ] || fail "the template did not create $file"
done
grep -q "\"Experiments.Sdk\": \"$version\"" "$lab/global.json" || fail "global.json does not name Experiments.Sdk $version"
grep -q -- "--project src/$name --" "$lab/.github/workflows/experiments.yml" || fail "the workflow does not run the new solution's experiments project"
grep -q "tests/$name.Tests/Snapshots" "$lab/.github/workflows/experiments.yml" || fail "the workflow does not review the new solution's snapshots"
cd "$lab"

step "dotnet build"
timed dotnet build -nologo -v quiet

step "the sample experiment, smoke profile"
timed dotnet run --project src/$name --no-build -- run mnist-mlp --profile smoke --threads 2 --out "$lab/results"
for file in metrics.json snapshot.txt confusion-test.csv accuracy.png report.md; do
  [ -s "results/mnist-mlp/$file" ] || fail "the run wrote no results/mnist-mlp/$file"
done
grep -q "backend: cpu" results/mnist-mlp/snapshot.txt || fail "the snapshot does not record the cpu backend"
summary="$(dotnet run --project src/$name --no-build -- summary mnist-mlp)" || fail "summary failed"
grep -q "Total params: 101,770" <<<"$summary" || { echo "$summary"; fail "summary: wrong parameter count"; }

step "the new solution's README: its first command, verbatim"
readme_run="$(grep -m1 "^dotnet run --project src/$name -- run" README.md | sed 's/ *#.*$//')"
[ -n "$readme_run" ] || fail "README.md has no run command"
echo "   $readme_run"
timed bash -c "$readme_run"
[ -s results/mnist-mlp/metrics.json ] || fail "the README's command wrote no results/mnist-mlp/metrics.json"

step "the build targets shipped in the package: dotnet build -p:ExperimentsRun"
timed dotnet build "src/$name" -nologo -v quiet -p:ExperimentsRun=mnist-mlp -p:ExperimentsArguments="--threads 2 --out $work/build-run" > "$work/build-run.log" 2>&1 \
  || { cat "$work/build-run.log"; fail "dotnet build -p:ExperimentsRun failed"; }
[ -s "$work/build-run/mnist-mlp/metrics.json" ] || { cat "$work/build-run.log"; fail "ExperimentsRun wrote no result"; }

step "dotnet test without an approved snapshot (must fail and write a received file)"
if dotnet test -nologo --no-build > "$work/test-1.log" 2>&1; then cat "$work/test-1.log"; fail "dotnet test passed without an approved snapshot"; fi
received="tests/$name.Tests/Snapshots/smoke/cpu/mnist-mlp.received.txt"
[ -s "$received" ] || { cat "$work/test-1.log"; fail "no $received"; }
grep -q "accept" "$work/test-1.log" || fail "the failure does not say how to approve"
echo "   failed as expected; wrote $received"

step "accept (repeats the run in a separate process)"
timed dotnet run --project src/$name --no-build -- accept tests/$name.Tests/Snapshots
[ -s tests/$name.Tests/Snapshots/smoke/cpu/mnist-mlp.verified.txt ] || fail "accept wrote no verified snapshot"
[ ! -e "$received" ] || fail "accept left the received file"

step "dotnet test with the approved snapshot (must pass)"
timed dotnet test -nologo --no-build > "$work/test-2.log" 2>&1 || { cat "$work/test-2.log"; fail "dotnet test failed after accept"; }
grep -E "Passed!|passed" "$work/test-2.log" | tail -1

step "a declaration with an out-of-range enum is a compile error, not a generator crash"
cat > "src/$name/Broken.cs" <<'CS'
using Experiments;
using Experiments.Layers;

namespace Lab.Broken;

[Experiment("broken", Dataset.Mnist, Input.Flat, Loss = (Loss)5)]
public sealed partial class Broken
{
    private static readonly Layer[] Layers = [new Dense(10, Activation.Softmax)];
}
CS
if dotnet build src/$name -nologo > "$work/build-broken.log" 2>&1; then fail "a build with Loss = (Loss)5 succeeded"; fi
grep -q "EXP0016" "$work/build-broken.log" || { cat "$work/build-broken.log"; fail "no EXP0016"; }
if grep -q "CS8785" "$work/build-broken.log"; then fail "the generator threw (CS8785)"; fi
grep -o -m1 "Loss: 5 is not a defined Loss value[^[]*" "$work/build-broken.log" || true
rm "src/$name/Broken.cs"

echo
echo "outside-repository: all steps passed ($version)"
