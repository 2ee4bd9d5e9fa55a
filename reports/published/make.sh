#!/usr/bin/env bash
# Regenerates reports/published/: every published result's runs (a sweep, 5 seeds per
# configuration), its charts, and README.md, the side-by-side table (compare.py). About 40
# minutes on two cores. Needs python3 for the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
d=target/release/dynasim
out=reports/published
cargo build --release --locked -q
sweep() { local name=$1; shift; $d sweep "$@" --seeds 5 --jobs 2 --out "$out/$name"; $d plot "$out/$name"; }
sweep pbs-exponential scenarios/published/pbs-exponential.json --set duration_ms=20000
sweep pbs-exponential-fast-writes scenarios/published/pbs-exponential-fast-writes.json --set duration_ms=5000
# PBS Table 4: the six (R, W) pairs, each run with probes (t-visibility) and a closed-loop
# workload whose operations give the 99.9th-percentile read and write latencies. PBS's
# simulator has no timeouts: at the defaults (500 ms at the coordinator) the slowest writes
# with W = 3 would fail and leave the percentile, so both timeouts are raised past any leg.
table4='protocol.rw=1:1,1:2,2:1,2:2,3:1,1:3'
latency() { echo "workload.arrivals={\"kind\":\"closed\",\"clients\":$1,\"think_time\":{\"kind\":\"constant\",\"ms\":1}}"; }
no_timeouts=(--set protocol.request_timeout_ms=60000 --set workload.client_timeout_ms=120000 --set workload.keys=100000)
sweep pbs-lnkd-ssd scenarios/published/pbs-lnkd-ssd.json --set duration_ms=20000 --set probe.clients=100 \
  --set "$(latency 100)" "${no_timeouts[@]}" --set "$table4"
sweep pbs-lnkd-disk scenarios/published/pbs-lnkd-disk.json --set duration_ms=20000 \
  --set "$(latency 100)" "${no_timeouts[@]}" --set "$table4"
# WAN operations wait for other datacenters: more clients give the tail enough samples.
sweep pbs-wan scenarios/published/pbs-wan.json --set duration_ms=20000 --set probe.clients=5000 \
  --set "$(latency 300)" "${no_timeouts[@]}" --set "$table4"
# YMMR's t needs a long run (its 99.9% point is over a second after commit) and its latency
# runs many operations, so the two are separate sweeps.
sweep pbs-ymmr scenarios/published/pbs-ymmr.json --set duration_ms=60000 "${no_timeouts[@]}" --set "$table4"
sweep pbs-ymmr-latency scenarios/published/pbs-ymmr.json --set duration_ms=20000 --set probe.clients=1 \
  --set "$(latency 100)" "${no_timeouts[@]}" --set "$table4"
sweep dynamo-coordination scenarios/published/dynamo-coordination.json --set protocol.coordination=load_balancer,client_driven
sweep dynamo-divergent-versions scenarios/published/dynamo-divergent-versions.json --set workload.popularity.exponent=0.5,0.6,0.7,0.8
sweep dynamo-buffered-writes scenarios/buffered-writes.json \
  --set storage.kind=durable,buffered
sweep jepsen-set-add scenarios/jepsen-set-add.json --set protocol.conflict_resolution=last_write_wins,dotted_version_vectors
sweep jepsen-set-add-partition scenarios/jepsen-set-add-partition.json \
  --set protocol.conflict_resolution=last_write_wins,dotted_version_vectors
sweep dynamo-partitioning scenarios/published/dynamo-partitioning.json \
  --set 'ring={"strategy":"random_tokens","tokens_per_node":4},{"strategy":"random_tokens_equal_partitions","tokens_per_node":2,"partitions":60},{"strategy":"equal_partitions","partitions":120},{"strategy":"random_tokens","tokens_per_node":8},{"strategy":"random_tokens_equal_partitions","tokens_per_node":4,"partitions":120},{"strategy":"equal_partitions","partitions":240},{"strategy":"random_tokens","tokens_per_node":16},{"strategy":"random_tokens_equal_partitions","tokens_per_node":8,"partitions":240},{"strategy":"equal_partitions","partitions":480},{"strategy":"random_tokens","tokens_per_node":32},{"strategy":"random_tokens_equal_partitions","tokens_per_node":16,"partitions":480},{"strategy":"equal_partitions","partitions":960}'
sweep dynamo-bootstrapping scenarios/published/dynamo-bootstrapping.json \
  --set 'ring={"strategy":"random_tokens","tokens_per_node":16},{"strategy":"equal_partitions","partitions":112}' \
  --set 'workload.value_bytes={"kind":"constant","bytes":2048},{"kind":"constant","bytes":8192},{"kind":"constant","bytes":32768}'
sweep dynamo-load-imbalance scenarios/published/dynamo-load-imbalance.json --set workload.arrivals.rate_per_s=100,1000,10000
# Figure 4's day as its night and its peak, each a steady load (the scenario alone runs the day).
sweep dynamo-diurnal-latency scenarios/published/dynamo-diurnal-latency.json --set duration_ms=20000 \
  --set 'workload.arrivals={"kind":"open","rate_per_s":250,"clients":200},{"kind":"open","rate_per_s":600,"clients":200}'
python3 "$out/wars.py" 400000 > "$out/wars-model.json"
python3 "$out/compare.py" "$out"
