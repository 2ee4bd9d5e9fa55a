#!/usr/bin/env bash
# Regenerates the committed known-result sweeps (see reports/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
d=target/release/dynasim
cargo build --release --locked -q
$d sweep scenarios/staleness-probe.json --set duration_ms=20000 --set protocol.rw=1:1,1:2,2:1,2:2 --seeds 3 --out reports/staleness-rw
$d sweep scenarios/slow-node-preference-list-head.json --set duration_ms=10000 --set protocol.sloppy_quorum=false \
  --set protocol.coordination=preference_list_head,load_balancer,client_driven,proxy --seeds 3 --out reports/slow-node-coordination
$d sweep scenarios/lww-clock-skew.json --set 'faults.0.offset_ms=0,-5,-20,-50,-200' --seeds 3 --out reports/lww-clock-skew
$d sweep scenarios/partitioning-strategy-1-random-tokens.json --set duration_ms=2000 \
  --set ring.strategy=random_tokens,equal_partitions --set ring.tokens_per_node=1,2,4,8,16,32 --seeds 3 --out reports/partitioning
for r in staleness-rw slow-node-coordination lww-clock-skew partitioning; do $d plot reports/$r; done
