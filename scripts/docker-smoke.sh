#!/usr/bin/env bash
# Builds the container image and runs what the README's cluster examples run in it: --version,
# a check of a shipped scenario, and two shards of a sweep written to a mounted folder, merged.
#
#   bash scripts/docker-smoke.sh [IMAGE]   with a Docker daemon and the base images
#   bash scripts/docker-smoke.sh --local   without Docker: repeats the Dockerfile's two stages
#                                          in a temporary folder (the sources the image gets,
#                                          built with --locked and stripped; the binary and
#                                          scenarios/ alone at run time) and runs the same commands
# .ci/run uses the first form when `docker info` answers, the second otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ "${1:-}" = "--local" ]; then
  mode="local (the Dockerfile's steps without Docker)"
  stage="$out/stage"
  mkdir -p "$stage/src" "$stage/image/bin" "$stage/image/opt"
  # Stage 1: the build context is what .dockerignore lets through.
  git ls-files -z | grep -zv -e '^reports/' -e '^target/' | tar --null -cf - -T - | tar -xf - -C "$stage/src"
  (cd "$stage/src" && DYNASIM_COMMIT=$commit cargo build --release --locked -q && strip target/release/dynasim)
  # Stage 2: only the binary and the scenarios.
  cp "$stage/src/target/release/dynasim" "$stage/image/bin/"
  cp -r scenarios "$stage/image/opt/"
  results="$out/results"
  host_results="$results"
  mkdir -p "$results"
  in_image() { (cd "$stage/image/opt" && "$stage/image/bin/dynasim" "$@"); }
  in_image_sh() { (cd "$stage/image/opt" && PATH="$stage/image/bin:$PATH" JOB_COMPLETION_INDEX=1 RESULTS="$results" sh -c "$1"); }
else
  image=${1:-dynasim:smoke}
  mode="docker image $image"
  docker build --build-arg DYNASIM_COMMIT="$commit" -t "$image" .
  results=/results
  in_image() { docker run --rm -v "$out:/results" "$image" "$@"; }
  in_image_sh() { docker run --rm -e JOB_COMPLETION_INDEX=1 -e RESULTS=/results -v "$out:/results" --entrypoint sh "$image" -c "$1"; }
  host_results="$out"
fi

in_image --version | grep -q "^dynasim .*(commit $commit)"
in_image check scenarios/quickstart.json --seeds 2
in_image sweep scenarios/quickstart.json --set duration_ms=500 --set protocol.rw=1:1,2:2 --seeds 1 --shard 0/2 \
  --out "$results/0"
# The Kubernetes example's form: a shell command line with the index in the environment.
in_image_sh 'dynasim sweep scenarios/quickstart.json --set duration_ms=500 --set protocol.rw=1:1,2:2 --seeds 1 --shard $JOB_COMPLETION_INDEX/2 --out $RESULTS/$JOB_COMPLETION_INDEX'
in_image merge "$results/0" "$results/1" --out "$results/merged"
test -s "$host_results/merged/results.csv"
echo "docker smoke test: ok ($mode)"
