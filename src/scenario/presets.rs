//! System presets: each published system's choices, as a base layer under a scenario file.
//!
//! A scenario names one with `"preset": "riak"`; the preset's fields are filled in first and
//! every field the file (or `--set`) gives overrides them, one field at a time. docs/presets.md
//! tables what each sets and why.

use serde_json::{json, Value};

pub const NAMES: [&str; 5] = ["dynamo", "riak", "cassandra", "voldemort", "dynamodb"];

/// The fields a preset sets.
pub fn preset(name: &str) -> Option<Value> {
    Some(match name {
        // The paper: partition-aware clients coordinate (§6.4), strategy 3 partitioning (§6.2),
        // preference lists spread across datacenters (§4.6), seed nodes against logical
        // partitions (§4.8.2; node 0 here), sloppy quorum with hinted handoff, read repair,
        // Merkle anti-entropy, a vector clock per version truncated at 10 entries, siblings
        // merged by the client, a put sent to the replica that answered the previous read
        // fastest (§6.4), and a client that cannot reach its coordinator sending the request to
        // another replica (§4.5): one retry after the client's timeout.
        "dynamo" => json!({
            "ring": { "strategy": "equal_partitions", "spread_across_datacenters": true },
            "membership": { "seeds": [0], "gossip_interval_ms": 1000 },
            "protocol": {
                "n": 3, "r": 2, "w": 2, "coordination": "client_driven", "fanout": "all",
                "conflict_resolution": "vector_clocks", "clock_truncation_threshold": 10,
                "sloppy_quorum": true, "hinted_handoff": true, "read_repair": true, "anti_entropy": true,
                "write_to_fastest_reader": true
            },
            "workload": { "client_retries": 1 }
        }),
        // Riak KV: any node coordinates (a put is forwarded to a replica to mint), a fixed ring
        // of 64 partitions, dotted version vectors with siblings (allow_mult), sloppy quorum,
        // hinted handoff, read repair and active anti-entropy; clocks pruned as Riak's defaults
        // say (small_vclock = big_vclock = 50, young_vclock 20 s, old_vclock a day).
        // Riak's bucket defaults: PR = PW = 0, DW = quorum, notfound_ok on, basic_quorum off;
        // tombstones reaped 3 s after every primary holds one (delete_mode's default).
        "riak" => json!({
            "ring": { "strategy": "equal_partitions", "partitions": 64 },
            "protocol": {
                "n": 3, "r": 2, "w": 2, "coordination": "proxy", "fanout": "all",
                "conflict_resolution": "dotted_version_vectors", "clock_truncation_threshold": 50,
                "clock_prune_small": 50, "clock_prune_young_ms": 20000, "clock_prune_old_ms": 86400000,
                "sloppy_quorum": true, "hinted_handoff": true, "read_repair": true, "anti_entropy": true,
                "pr": 0, "pw": 0, "dw": 2, "notfound_ok": true, "basic_quorum": false,
                "delete_mode": 3000
            }
        }),
        // Cassandra: whichever node the client reaches coordinates and writes to every replica
        // itself (StorageProxy); last-write-wins on
        // timestamps; strict quorums over the natural replicas, with the coordinator keeping
        // hints for replicas that did not answer, for three hours at most (max_hint_window); read repair; repair (anti-entropy) is an
        // operator's job, so off; tombstones purged ten days after the delete (gc_grace_seconds);
        // its read path: a get asks R replicas (blockFor), one for data and the others for
        // digests, one more after the 99th percentile of recent replica reads (speculative_retry),
        // and a request the failure detector deems unavailable is refused at once; random tokens.
        "cassandra" => json!({
            "ring": { "strategy": "random_tokens", "tokens_per_node": 16 },
            "protocol": {
                "n": 3, "r": 2, "w": 2, "coordination": "direct", "fanout": "read_quorum",
                "digest_reads": true, "speculative_retry": "99percentile", "unavailable_when_suspected": true,
                "conflict_resolution": "last_write_wins",
                "sloppy_quorum": false, "hinted_handoff": true, "hint_window_ms": 10800000.0,
                "read_repair": true, "anti_entropy": false, "gc_grace_ms": 864000000.0
            }
        }),
        // Voldemort: routing in the client library, a vector clock per version, siblings resolved
        // by the client,
        // hinted handoff ("slops") and read repair, no Merkle anti-entropy, fixed partitions.
        "voldemort" => json!({
            "ring": { "strategy": "equal_partitions" },
            "protocol": {
                "n": 3, "r": 2, "w": 2, "coordination": "client_driven", "fanout": "all",
                "conflict_resolution": "vector_clocks",
                "sloppy_quorum": true, "hinted_handoff": true, "read_repair": true, "anti_entropy": false
            }
        }),
        // DynamoDB as seed 004 (a 2012 series) describes it, which is the Dynamo paper's design
        // run by the storage nodes. It differs from the dynamo preset in three settings only,
        // each where the series says otherwise: any node takes a request and forwards it to
        // the key's preference list ("each node ... forward[s] a key's read/write operations to
        // the right set of nodes directly"), not a partition-aware client; each node at many
        // "pseudo-randomly distributed points" (random tokens), not equal partitions; a vector
        // clock truncated at "say 15" entries, not 10. Everything else is the paper's.
        "dynamodb" => json!({
            "ring": { "strategy": "random_tokens", "spread_across_datacenters": true },
            "membership": { "seeds": [0], "gossip_interval_ms": 1000 },
            "protocol": {
                "n": 3, "r": 2, "w": 2, "coordination": "load_balancer", "fanout": "all",
                "conflict_resolution": "vector_clocks", "clock_truncation_threshold": 15,
                "sloppy_quorum": true, "hinted_handoff": true, "read_repair": true, "anti_entropy": true,
                "write_to_fastest_reader": true
            },
            "workload": { "client_retries": 1 }
        }),
        _ => return None,
    })
}

/// Overlays `over` on `base`: objects merge field by field, anything else replaces.
pub fn overlay(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => overlay(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_preset_exists_and_file_fields_win() {
        for name in NAMES {
            assert!(preset(name).is_some(), "{name}");
        }
        assert!(preset("simpledb").is_none());
        let mut base = preset("cassandra").unwrap_or_default();
        overlay(&mut base, json!({ "protocol": { "r": 1 }, "duration_ms": 5 }));
        assert_eq!(base["protocol"]["r"], 1);
        assert_eq!(base["protocol"]["w"], 2, "untouched preset fields stay");
        assert_eq!(base["protocol"]["conflict_resolution"], "last_write_wins");
        assert_eq!(base["duration_ms"], 5);
    }

    /// The paths of every leaf a preset sets, with their values.
    fn leaves(v: &Value, path: String, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(o) => o.iter().for_each(|(k, v)| leaves(v, format!("{path}.{k}"), out)),
            v => out.push((path, v.clone())),
        }
    }

    #[test]
    fn dynamo_and_dynamodb_differ_only_where_seed_004_departs_from_the_paper() {
        let [mut dynamo, mut dynamodb] = [vec![], vec![]];
        leaves(&preset("dynamo").unwrap_or_default(), String::new(), &mut dynamo);
        leaves(&preset("dynamodb").unwrap_or_default(), String::new(), &mut dynamodb);
        let paths = |l: &[(String, Value)]| l.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
        assert_eq!(paths(&dynamo), paths(&dynamodb), "the same fields are set");
        let differing: Vec<&str> = dynamo.iter().zip(&dynamodb).filter(|(a, b)| a.1 != b.1).map(|(a, _)| a.0.as_str()).collect();
        assert_eq!(differing, [".protocol.clock_truncation_threshold", ".protocol.coordination", ".ring.strategy"]);
    }
}
