#!/usr/bin/env bash
# Regenerates the committed known-result sweeps (see reports/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
d=target/release/dynasim
cargo build --release --locked -q
# Which (R, W) meets a latency and a staleness target? (tradeoff.png shades the region.)
$d sweep scenarios/staleness-probe.json --set duration_ms=20000 --set protocol.rw=1:1,1:2,2:1,2:2 --seeds 3 \
  --recommend 'p999_get_ms<=20,stale_read_fraction<=0.00001' --out reports/staleness-rw
# What does one slow node cost under each coordinator strategy? (p999_get_ms-per-configuration.png)
$d sweep scenarios/slow-node-preference-list-head.json --set duration_ms=10000 --set protocol.sloppy_quorum=false \
  --set protocol.coordination=preference_list_head,load_balancer,client_driven,proxy --seeds 3 --out reports/slow-node-coordination
$d sweep scenarios/lww-clock-skew.json --set 'faults.0.offset_ms=0,-5,-20,-50,-200' --seeds 3 --out reports/lww-clock-skew
# How many tokens per node keep the hottest node's tail near the others', at 58% mean CPU?
# (p999_get_ms-vs-ring-tokens_per_node.png; keys_owned_max_over_mean-... draws the 1.25 bound.)
$d sweep scenarios/partitioning-under-load.json \
  --set ring.strategy=random_tokens,equal_partitions --set ring.tokens_per_node=1,2,4,8,16,32,64 --seeds 20 \
  --recommend 'keys_owned_max_over_mean<=1.25' --out reports/partitioning
for r in staleness-rw slow-node-coordination lww-clock-skew partitioning; do $d plot reports/$r; done
# The published results' sweeps are redrawn too (rerunning them is reports/published/make.sh).
for r in reports/published/*/results.json; do $d plot "$(dirname "$r")"; done
