#!/usr/bin/env bash
# Builds target/pgo/release/dynasim: the release build, optimized with a profile of dynasim's
# own benchmarks and shipped scenarios (profile-guided optimization). It lays the hot loop's
# code out by what runs, which on this project's machines made runs about 10% faster than the
# plain release build (BENCHMARKS.md); results are byte-identical, as for any build.
#
# Needs llvm-profdata, from the toolchain's llvm-tools component; the script adds that
# component through rustup if it is missing (which needs rustup's download server).
set -euo pipefail
cd "$(dirname "$0")/.."

find_profdata() { find "$(rustc --print sysroot)/lib/rustlib" -name llvm-profdata -type f 2>/dev/null | head -n 1; }
profdata=$(find_profdata)
if [ -z "$profdata" ] && command -v rustup >/dev/null 2>&1; then
  echo "build-pgo: adding rustup's llvm-tools component for llvm-profdata" >&2
  rustup component add llvm-tools
  profdata=$(find_profdata)
fi
if [ -z "$profdata" ]; then
  echo "build-pgo: llvm-profdata not found in $(rustc --print sysroot); install the llvm-tools component" >&2
  exit 1
fi

work=$PWD/target/pgo-work
rm -rf "$work"
mkdir -p "$work/raw"

# 1. An instrumented build, apart from the normal one so neither rebuilds the other.
RUSTFLAGS="-Cprofile-generate=$work/raw" cargo build --locked --release --target-dir "$work/instrumented"
bin=$work/instrumented/release/dynasim

# 2. Training: every benchmark (shortened) and every shipped scenario.
"$bin" bench --quick > "$work/bench.txt"
for scenario in scenarios/*.json; do
  "$bin" run "$scenario" --out "$work/reports/$(basename "$scenario" .json)" -q
done

# 3. The optimized build, marked so that its figures say which build made them.
"$profdata" merge -o "$work/dynasim.profdata" "$work/raw"
DYNASIM_PGO=1 RUSTFLAGS="-Cprofile-use=$work/dynasim.profdata" cargo build --locked --release --target-dir target/pgo
echo "build-pgo: built target/pgo/release/dynasim"
