#!/usr/bin/env bash
# Builds the container image and runs what the README's cluster examples run in it: --version,
# a check of a shipped scenario, and one shard of a sweep written to a mounted folder. Needs a
# Docker daemon and access to the rust and debian base images (CI machines without them skip
# it; run it where images are built).
set -euo pipefail
cd "$(dirname "$0")/.."
image=${1:-dynasim:smoke}
docker build --build-arg DYNASIM_COMMIT="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" -t "$image" .
docker run --rm "$image" --version | grep -q "^dynasim .*(commit "
docker run --rm "$image" check scenarios/quickstart.json --seeds 2
out=$(mktemp -d)
docker run --rm -v "$out:/results" "$image" sweep scenarios/quickstart.json --set duration_ms=500 \
  --set protocol.rw=1:1,2:2 --seeds 1 --shard 0/2 --out /results/0
test -s "$out/0/results.json"
# The Kubernetes example's form: a shell command line with the index in the environment.
docker run --rm -e JOB_COMPLETION_INDEX=1 -v "$out:/results" --entrypoint sh "$image" -c \
  'dynasim sweep scenarios/quickstart.json --set duration_ms=500 --set protocol.rw=1:1,2:2 --seeds 1 --shard $JOB_COMPLETION_INDEX/2 --out /results/$JOB_COMPLETION_INDEX'
docker run --rm -v "$out:/results" "$image" merge /results/0 /results/1 --out /results/merged
test -s "$out/merged/results.csv"
echo "docker smoke test: ok ($image)"
