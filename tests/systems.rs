//! The failure scenarios and the system presets, with their expected outcomes.

use crate::common::*;
use dynasim::observe::checks;

fn lost(rep: &serde_json::Value) -> (u64, u64) {
    (u(&rep["convergence"]["lost_write_count"]), u(&rep["convergence"]["lost_add_count"]))
}

#[test]
fn partition_with_writers_on_both_sides_makes_siblings_that_clients_merge_without_losing_adds() {
    let rep = report(&shipped("partition-writers-both-sides", &[]));
    let dropped: u64 = rep["messages"].as_object().expect("messages").values().map(|m| u(&m["dropped_partition_count"])).sum();
    assert!(dropped > 300, "the partition cut traffic: {dropped}");
    assert!(u(&rep["conflicts"]["reads_with_siblings_count"]) > 20, "{}", rep["conflicts"]);
    assert!(u(&rep["conflicts"]["concurrent_write_count"]) > 20);
    assert_eq!(lost(&rep), (0, 0));
    assert_eq!(rep["convergence"]["converged"], true, "{}", rep["convergence"]);
    // Both sides kept writing: availability stayed high through the partition.
    let put = &rep["operations"]["put"];
    assert!(f(&put["failure_count"]) / f(&put["count"]) < 0.05, "{put}");
}

#[test]
fn last_write_wins_loses_acknowledged_adds_that_siblings_keep() {
    let riak = report(&shipped("carts-riak", &[]));
    let cassandra = report(&shipped("carts-cassandra", &[]));
    assert_eq!(lost(&riak), (0, 0), "siblings lose no add");
    assert!(u(&riak["conflicts"]["reads_with_siblings_count"]) > 100);
    let (writes, adds) = lost(&cassandra);
    assert!(writes > 50, "last-write-wins drops concurrent carts: {writes}");
    assert_eq!(adds, writes, "each lost cart write is one lost add");
    assert_eq!(u(&cassandra["conflicts"]["reads_with_siblings_count"]), 0, "LWW never shows siblings");
}

#[test]
fn lost_writes_under_last_write_wins_are_reported_and_fail_only_when_declared() {
    let reported = shipped("carts-cassandra", &[]);
    let r = dynasim::simulate(&reported, reported.seed).expect("the run finishes");
    let rep = dynasim::report::build(&reported, reported.seed, &r);
    assert!(!r.lost_writes.is_empty());
    assert!(checks::evaluate(&reported, &r, &rep).is_empty(), "reported, not failed, by default under LWW");
    let failing = shipped("carts-cassandra", &["checks.lost_writes=fail"]);
    let r = dynasim::simulate(&failing, failing.seed).expect("the run finishes");
    let rep = dynasim::report::build(&failing, failing.seed, &r);
    let v = checks::evaluate(&failing, &r, &rep);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].invariant, "no_lost_writes");
    assert!(v[0].key.as_deref().is_some_and(|k| k.starts_with('k')));
    assert!(v[0].message.contains("acknowledged writes are reflected by no version"), "{}", v[0].message);
    // Under siblings the same check holds.
    let riak = shipped("carts-riak", &["checks.lost_writes=fail"]);
    let r = dynasim::simulate(&riak, riak.seed).expect("the run finishes");
    let rep = dynasim::report::build(&riak, riak.seed, &r);
    assert!(checks::evaluate(&riak, &r, &rep).is_empty());
}

#[test]
fn clock_skew_fools_last_write_wins() {
    let skewed = report(&shipped("lww-clock-skew", &[]));
    let honest = report(&shipped("lww-clock-skew", &["faults=[]"]));
    let (skewed_lost, _) = lost(&skewed);
    let (honest_lost, _) = lost(&honest);
    assert!(skewed_lost > 2 * honest_lost.max(5), "skewed {skewed_lost} vs honest {honest_lost}");
    assert_eq!(skewed["faults"][0]["fault"], "clock of n2 set -50.000 ms off");
}

#[test]
fn rolling_restart_keeps_writes_available_and_ends_converged() {
    let s = shipped("rolling-restart", &[]);
    assert_eq!(s.faults.len(), 12, "six crash/restart pairs");
    let r = dynasim::simulate(&s, s.seed).expect("the run finishes");
    let rep = dynasim::report::build(&s, s.seed, &r);
    assert!(rep["faults"].as_array().expect("faults").iter().all(|f| f["took_effect"] == true));
    assert!(checks::evaluate(&s, &r, &rep).is_empty());
    assert!(u(&rep["protocol_counters"]["hints_delivered_count"]) > 0);
}

#[test]
fn regression_cart_clients_keep_items_their_session_context_supersedes() {
    // A cart read older than the client's session context was merged into the context but its
    // cart content was taken alone, so the next write superseded items it no longer carried.
    let rep = report(&shipped("shopping-cart", &[]));
    assert!(u(&rep["conflicts"]["reads_with_siblings_count"]) > 1000);
    assert_eq!(lost(&rep), (0, 0));
}

#[test]
fn presets_set_each_systems_choices_and_fields_override_them() {
    use dynasim::node::{ConflictPolicy, Coordination};
    let riak = shipped("carts-riak", &[]);
    assert_eq!(riak.protocol.coordination, Coordination::Proxy);
    assert_eq!(riak.protocol.conflict, ConflictPolicy::DottedVersionVectors);
    let dynamo = shipped("vector-clock-anomalies", &[]);
    assert_eq!(dynamo.protocol.conflict, ConflictPolicy::VectorClocks, "Dynamo keeps a clock per version");
    assert!(riak.protocol.anti_entropy && riak.protocol.sloppy_quorum);
    let cassandra = shipped("carts-cassandra", &["protocol.anti_entropy=true"]);
    assert_eq!(cassandra.protocol.conflict, ConflictPolicy::LastWriteWins);
    assert!(!cassandra.protocol.sloppy_quorum);
    assert!(cassandra.protocol.anti_entropy, "a field overrides the preset");
    let dynamodb = shipped("dynamodb-datacenter-outage", &[]);
    assert_eq!(dynamodb.protocol.conflict, ConflictPolicy::VectorClocks);
    assert_eq!(dynamodb.protocol.clock_pruning.big, 15, "seed 004: truncation past 'say 15' entries");
    let riak_pruning = riak.protocol.clock_pruning;
    assert_eq!((riak_pruning.small, riak_pruning.big), (50, 50), "Riak's small_vclock and big_vclock");
    assert_eq!(riak_pruning.young.as_millis_f64(), 20_000.0, "young_vclock");
    assert_eq!(riak_pruning.old.map(|o| o.as_millis_f64()), Some(86_400_000.0), "old_vclock");
    assert_eq!(dynamodb.protocol.coordination, Coordination::LoadBalancer);
    assert!(dynamodb.spread_across_datacenters && dynamodb.protocol.sloppy_quorum && dynamodb.protocol.anti_entropy);
    assert_eq!(dynamodb.protocol.seeds, vec![dynasim::sim::ids::NodeId(0)]);
    let voldemort = shipped("voldemort-node-crash", &[]);
    assert_eq!((voldemort.protocol.coordination, voldemort.protocol.anti_entropy), (Coordination::ClientDriven, false));
}

#[test]
fn a_dynamodb_cluster_survives_a_datacenter_outage_and_converges() {
    let rep = report(&shipped("dynamodb-datacenter-outage", &[]));
    let ops = |kind: &str| (u(&rep["operations"][kind]["count"]), u(&rep["operations"][kind]["failure_count"]));
    for kind in ["get", "put"] {
        let (count, failed) = ops(kind);
        assert!(failed * 100 < count, "{kind}: {failed} of {count} failed while dc2 was down");
    }
    let counters = &rep["protocol_counters"];
    assert!(u(&counters["hints_stored_count"]) > 20 && u(&counters["hints_delivered_count"]) > 20, "{counters}");
    assert_eq!(rep["convergence"]["converged"], true, "{}", rep["convergence"]);
    // Without spreading, some keys have all three replicas in dc2 and their writes fail or wait.
    let local = report(&shipped("dynamodb-datacenter-outage", &["ring.spread_across_datacenters=false"]));
    let puts = |r: &serde_json::Value| u(&r["operations"]["put"]["success_count"]);
    assert!(puts(&local) * 5 < puts(&rep) * 4, "{} puts without spreading, {} with", puts(&local), puts(&rep));
}

#[test]
fn voldemort_mends_a_crashed_node_with_slops_and_read_repair_alone() {
    let rep = report(&shipped("voldemort-node-crash", &[]));
    assert_eq!(u(&rep["messages"]["anti_entropy"]["sent_count"]), 0, "no Merkle trees");
    assert!(u(&rep["protocol_counters"]["hints_delivered_count"]) > 50);
    assert_eq!(rep["convergence"]["converged"], true, "{}", rep["convergence"]);
    let bare = report(&shipped("voldemort-node-crash", &["protocol.hinted_handoff=false", "protocol.read_repair=false"]));
    assert_eq!(bare["convergence"]["converged"], false, "without slops and read repair nothing mends node 2");
    assert!(u(&bare["convergence"]["divergent_key_count"]) > 0);
}

#[test]
fn per_version_vector_clocks_lose_acknowledged_writes_that_dotted_version_vectors_keep() {
    let clocks = report(&shipped("vector-clock-anomalies", &[]));
    let dvv = report(&shipped("vector-clock-anomalies", &["protocol.conflict_resolution=dotted_version_vectors"]));
    let lost = u(&clocks["convergence"]["lost_write_count"]);
    assert!(lost > 100, "one coordinator minting from a stale context drops a write: {lost}");
    assert_eq!(u(&dvv["convergence"]["lost_write_count"]), 0, "dots keep both writes as siblings");
    for rep in [&clocks, &dvv] {
        assert_eq!(rep["convergence"]["converged"], true);
        assert_eq!(u(&rep["conflicts"]["false_sibling_count"]), 0, "no truncation at 10 entries, no false sibling");
    }
    // Truncated to one entry, a descendant's clock no longer shows its ancestor: false siblings.
    let truncated = report(&shipped("vector-clock-anomalies", &["protocol.clock_truncation_threshold=1"]));
    assert!(u(&truncated["protocol_counters"]["clock_entries_truncated_count"]) > 1000);
    assert!(u(&truncated["conflicts"]["false_sibling_count"]) > 1000, "{}", truncated["conflicts"]);
}

#[test]
fn lost_writes_under_per_version_clocks_are_reported_and_fail_only_when_declared() {
    let reported = shipped("vector-clock-anomalies", &[]);
    let r = dynasim::simulate(&reported, reported.seed).expect("the run finishes");
    let rep = dynasim::report::build(&reported, reported.seed, &r);
    assert!(!r.lost_writes.is_empty());
    assert!(checks::evaluate(&reported, &r, &rep).is_empty(), "Dynamo's anomaly is reported, not failed, by default");
    let failing = shipped("vector-clock-anomalies", &["checks.lost_writes=fail"]);
    let r = dynasim::simulate(&failing, failing.seed).expect("the run finishes");
    let rep = dynasim::report::build(&failing, failing.seed, &r);
    let v = checks::evaluate(&failing, &r, &rep);
    assert_eq!(v.iter().map(|v| v.invariant).collect::<Vec<_>>(), vec!["no_lost_writes"]);
}

#[test]
fn removed_items_resurface_under_the_union_merge_and_stick_under_observed_remove() {
    let union = report(&shipped("partition-writers-both-sides", &[]));
    let or_set = report(&shipped("partition-writers-both-sides", &["workload.value.merge=observed_remove"]));
    let resurfaced = |rep: &serde_json::Value| u(&rep["convergence"]["resurfaced_item_count"]);
    assert!(resurfaced(&union) > 5, "a concurrent sibling brings removed items back: {}", union["convergence"]);
    assert_eq!(resurfaced(&or_set), 0, "a tombstone keeps a removal");
    // Removed items are not lost adds: both merges keep every acknowledged add.
    assert_eq!(lost(&union), (0, 0));
    assert_eq!(lost(&or_set), (0, 0));
}

#[test]
fn a_server_side_cart_merge_is_no_longer_accepted() {
    let e = dynasim::scenario::load("x.json", r#"{"protocol": {"conflict_resolution": "merge_carts"}}"#, &[]).unwrap_err();
    assert_eq!(e.path, "protocol.conflict_resolution");
}

#[test]
fn buffered_writes_cut_the_put_tail_and_a_power_loss_takes_what_only_memory_held() {
    let buffered = report(&shipped("buffered-writes", &[]));
    let durable = report(&shipped("buffered-writes", &["storage.kind=durable"]));
    let memory_only = report(&shipped("buffered-writes", &["storage.durable_writes=0"]));
    let p999 = |r: &serde_json::Value| f(&r["operations"]["put"]["latency_ms"]["p999"]);
    // Dynamo §6.1: the buffer cut the 99.9th percentile by a factor of 5 at peak traffic.
    assert!(p999(&durable) > 4.0 * p999(&buffered), "durable {} ms, buffered {} ms", p999(&durable), p999(&buffered));
    let lost =
        |r: &serde_json::Value| (u(&r["convergence"]["lost_write_count"]), u(&r["convergence"]["lost_unflushed_write_count"]));
    assert_eq!(lost(&durable), (0, 0), "nothing acknowledged is only in memory");
    let (all, unflushed) = lost(&memory_only);
    assert!(all > 100 && unflushed == all, "every write of the last flush interval: {all} lost, {unflushed} unflushed");
    // One durable write per put: only writes whose disk write was still queued at the power loss.
    let (one, unflushed) = lost(&buffered);
    assert!(one * 10 < all && unflushed == one, "{one} lost, {unflushed} unflushed, against {all}");
    for r in [&buffered, &durable, &memory_only] {
        assert_eq!(r["convergence"]["converged"], true, "{}", r["convergence"]);
    }
    let storage = |r: &serde_json::Value, field: &str| u(&r["storage"][field]);
    assert_eq!((storage(&durable, "buffered_write_count"), storage(&durable, "flush_count")), (0, 0));
    assert!(storage(&buffered, "flush_count") > 8 * 12, "each node flushes every second");
    assert!(storage(&buffered, "versions_discarded_count") > 0);
    let disk = storage(&buffered, "disk_write_count") as f64 / storage(&durable, "disk_write_count") as f64;
    assert!((0.25..0.45).contains(&disk), "one replica write in three goes to disk: {disk}");
}

#[test]
fn writes_lost_with_an_unflushed_buffer_are_reported_and_fail_only_when_declared() {
    let reported = shipped("buffered-writes", &[]);
    let r = dynasim::simulate(&reported, reported.seed).expect("the run finishes");
    let rep = dynasim::report::build(&reported, reported.seed, &r);
    assert!(!r.lost_writes.is_empty() && r.lost_writes.unflushed_count == r.lost_writes.count);
    assert!(checks::evaluate(&reported, &r, &rep).is_empty(), "the buffer's risk is reported, not failed, by default");
    let failing = shipped("buffered-writes", &["checks.lost_writes=fail"]);
    let r = dynasim::simulate(&failing, failing.seed).expect("the run finishes");
    let rep = dynasim::report::build(&failing, failing.seed, &r);
    let v = checks::evaluate(&failing, &r, &rep);
    assert_eq!(v.iter().map(|v| v.invariant).collect::<Vec<_>>(), vec!["no_lost_writes"]);
}

#[test]
fn storage_settings_are_checked() {
    let base = r#"{"duration_ms": 100, "storage": {"kind": "buffered", "durable_writes": 4}}"#;
    let err = dynasim::scenario::load("s.json", base, &[]).expect_err("more durable writes than replicas");
    assert!(err.to_string().contains("storage.durable_writes: 4 is out of range; expected 0 to N (3)"), "{err}");
    let durable = r#"{"duration_ms": 100, "storage": {"kind": "durable", "flush_interval_ms": 5}}"#;
    let err = dynasim::scenario::load("s.json", durable, &[]).expect_err("a durable store has no flush");
    assert!(err.to_string().contains("flush_interval_ms"), "{err}");
}

#[test]
fn plain_read_modify_write_clients_lose_most_adds_under_last_write_wins_and_none_under_siblings() {
    let adds = |sets: &[&str]| {
        let rep = report(&shipped("jepsen-set-add", sets));
        let c = &rep["convergence"];
        (u(&c["acknowledged_add_count"]), u(&c["lost_add_count"]), f(&c["lost_add_fraction"]))
    };
    let (acked, lost, fraction) = adds(&[]);
    assert!(acked > 1000 && fraction > 0.5, "Jepsen's 71.7%: {lost} of {acked} lost");
    assert_eq!(adds(&["protocol.conflict_resolution=dotted_version_vectors"]).1, 0, "siblings merged by union keep every add");
    let (_, _, session) = adds(&["workload.client_semantics=session"]);
    assert!(session < 0.02, "a session client re-adds what it has seen: {session}");
    // A blind client writes a set holding its own item only: every write replaces the last.
    let (acked, lost, _) = adds(&["workload.client_semantics=blind", "duration_ms=1000"]);
    assert_eq!(lost, acked - 1, "only the last blind write survives last-write-wins");
    let (_, lost, _) =
        adds(&["workload.client_semantics=blind", "duration_ms=1000", "protocol.conflict_resolution=dotted_version_vectors"]);
    assert_eq!(lost, 0, "blind writes are concurrent siblings, all kept");
}

#[test]
fn a_partition_keeps_both_sides_adding_and_last_write_wins_drops_one_sides_adds() {
    let rep = report(&shipped("jepsen-set-add-partition", &[]));
    assert!(f(&rep["convergence"]["lost_add_fraction"]) > 0.5, "{}", rep["convergence"]);
    assert_eq!(rep["convergence"]["converged"], true);
    let siblings = report(&shipped("jepsen-set-add-partition", &["protocol.conflict_resolution=dotted_version_vectors"]));
    assert_eq!(u(&siblings["convergence"]["lost_add_count"]), 0);
}

#[test]
fn each_consistency_level_pays_its_own_latency_and_staleness() {
    let rep = report(&shipped("cassandra-consistency-levels", &["duration_ms=3000"]));
    let (get, put) = (&rep["consistency_levels"]["get"], &rep["consistency_levels"]["put"]);
    let p50 = |v: &serde_json::Value| f(&v["latency_ms"]["p50"]);
    for local in [&get["LOCAL_ONE"], &get["LOCAL_QUORUM"], &put["ONE"], &put["LOCAL_QUORUM"]] {
        assert!(p50(local) < 3.0, "answered within the datacenter: {local}");
    }
    for remote in [&get["QUORUM"], &put["EACH_QUORUM"]] {
        assert!(p50(remote) > 40.0, "waits for the other datacenter: {remote}");
    }
    assert_eq!(u(&get["QUORUM"]["stale_read_count"]), 0, "4 of 6 always include a replica that has every acknowledged write");
    for local in ["LOCAL_ONE", "LOCAL_QUORUM"] {
        assert!(u(&get[local]["stale_read_count"]) > 20, "{local} misses the other datacenter's recent writes: {}", get[local]);
    }
    let total = |levels: &serde_json::Value| levels.as_object().expect("levels").values().map(|v| u(&v["count"])).sum::<u64>();
    assert_eq!(total(get), u(&rep["operations"]["get"]["count"]));
    assert_eq!(total(put), u(&rep["operations"]["put"]["count"]));
    // Asking just enough replicas, a LOCAL level asks local ones (two of six at random would
    // be two local ones only one time in five).
    let lean = report(&shipped("cassandra-consistency-levels", &["duration_ms=1000", "protocol.fanout=quorum"]));
    let lean_get = &lean["consistency_levels"]["get"];
    assert!(p50(&lean_get["LOCAL_QUORUM"]) < 3.0 && p50(&lean_get["QUORUM"]) > 40.0, "{lean_get}");
}

#[test]
fn datacenter_aware_clients_coordinate_at_home_and_a_local_level_without_local_replicas_is_unavailable() {
    let sets = [
        "duration_ms=1000",
        "workload.client_datacenter=\"dc1\"",
        "protocol.n=1",
        "protocol.r=1",
        "protocol.w=1",
        r#"workload.get_consistency={"LOCAL_ONE": 1}"#,
        r#"workload.put_consistency={"LOCAL_QUORUM": 1}"#,
        r#"workload.value={"kind": "register", "read_before_write": false}"#,
    ];
    let rep = report(&shipped("cassandra-consistency-levels", &sets));
    for node in rep["nodes"].as_array().expect("nodes") {
        let coordinated = u(&node["gets_coordinated_count"]) + u(&node["puts_coordinated_count"]);
        assert_eq!(coordinated > 0, node["datacenter"] == "dc1", "{node}");
    }
    // With one replica per key, the keys whose replica is in dc2 have none in dc1.
    let get = &rep["operations"]["get"];
    let unavailable = f(&get["unavailable_count"]) / f(&get["count"]);
    assert!((0.3..0.7).contains(&unavailable), "{get}");
    assert_eq!(u(&get["failure_count"]), u(&get["unavailable_count"]), "unavailable at once, nothing timed out");
    let put = &rep["consistency_levels"]["put"]["LOCAL_QUORUM"];
    assert!((0.3..0.7).contains(&(f(&put["unavailable_count"]) / f(&put["count"]))), "{put}");
}

#[test]
fn consistency_level_mixes_are_checked() {
    let load = |workload: &str| {
        let text = format!(
            r#"{{"duration_ms": 100, "cluster": {{"nodes": 3}}, "protocol": {{"n": 2, "r": 1, "w": 1}}, "workload": {workload}}}"#
        );
        dynasim::scenario::load("s.json", &text, &[]).map(|_| ()).expect_err("invalid").to_string()
    };
    let err = load(r#"{"get_consistency": {"QUORUM": 0.5, "quorum": 0.5}}"#);
    assert!(err.contains("workload.get_consistency.quorum: unknown consistency level; expected one of ONE, TWO"), "{err}");
    let err = load(r#"{"put_consistency": {"QUORUM": 0.5, "ONE": 0.4}}"#);
    assert!(err.contains("workload.put_consistency: the probabilities sum to 0.9"), "{err}");
    let err = load(r#"{"put_consistency": {"THREE": 1}}"#);
    assert!(err.contains("THREE asks for more replicas than protocol.n = 2"), "{err}");
    let err = load(r#"{"local_datacenter_coordinators": true}"#);
    assert!(err.contains("workload.local_datacenter_coordinators: needs workload.client_datacenter"), "{err}");
}

#[test]
fn a_client_side_lock_per_key_serialises_read_modify_writes_and_last_write_wins_then_loses_nothing() {
    let rep = report(&shipped("jepsen-set-add", &["workload.key_lock=true", "duration_ms=3000"]));
    let c = &rep["convergence"];
    assert!(u(&c["acknowledged_add_count"]) > 300, "{c}");
    assert_eq!(u(&c["lost_add_count"]), 0, "{c}");
    // Five clients on one key take turns: a fifth of the unlocked throughput, give or take.
    let unlocked = report(&shipped("jepsen-set-add", &["duration_ms=3000"]));
    let (locked_puts, unlocked_puts) = (f(&rep["operations"]["put"]["count"]), f(&unlocked["operations"]["put"]["count"]));
    assert!((4.0..6.0).contains(&(unlocked_puts / locked_puts)), "{unlocked_puts} puts unlocked, {locked_puts} locked");
    assert!(f(&unlocked["convergence"]["lost_add_fraction"]) > 0.5);
}

/// Riak's PR and PW: under a partition, a coordinator on the minority side whose healthy
/// targets hold fewer primaries than PR (PW) refuses the request at once, where plain R and W
/// serve it from fall-backs (sloppy quorum). Nothing else fails for want of primaries.
#[test]
fn primary_quorums_make_a_partitioned_minority_refuse_what_sloppy_quorums_serve() {
    for seed in 1..=3 {
        let refused = |pr: &str| {
            let s = shipped(
                "riak-primary-quorums",
                &[&format!("seed={seed}"), &format!("protocol.pr={pr}"), &format!("protocol.pw={pr}")],
            );
            let rep = report(&s);
            let unavailable = |op: &str| u(&rep["operations"][op]["unavailable_count"]);
            (unavailable("get"), unavailable("put"), u(&rep["protocol_counters"]["refused_for_primaries_count"]))
        };
        let (gets, puts, counted) = refused("2");
        assert!(gets > 500 && puts > 500, "seed {seed}: PR = PW = 2 refused {gets} gets and {puts} puts");
        // Every refusal is for want of primaries; the few a client had given up on by then are
        // counted at the node only.
        assert!(counted >= gets + puts && counted < gets + puts + 20, "seed {seed}: {counted} refused, {gets} + {puts} seen");
        assert_eq!(refused("0"), (0, 0, 0), "seed {seed}: Riak's defaults serve them");
    }
}

/// Cassandra's zombies: a replica that missed deletes keeps the values they removed; repaired
/// inside the grace period it learns of every delete before any tombstone is purged, repaired
/// after it, it copies the deleted values back to replicas that purged their tombstones.
#[test]
fn repair_after_the_grace_period_resurrects_deleted_keys_and_repair_within_it_none() {
    for seed in 1..=2 {
        let outcome = |name: &str| {
            let rep = report(&shipped(name, &[&format!("seed={seed}")]));
            let c = &rep["convergence"];
            (
                u(&c["resurrected_key_count"]),
                u(&c["acknowledged_delete_count"]),
                u(&rep["protocol_counters"]["tombstones_removed_count"]),
            )
        };
        let (zombies, deletes, purged) = outcome("cassandra-zombies");
        assert!(
            zombies >= 10 && deletes > 500 && purged > 500,
            "seed {seed}: {zombies} zombies of {deletes} deletes, {purged} purged"
        );
        let (zombies, _, purged) = outcome("cassandra-repair-within-grace");
        assert_eq!(zombies, 0, "seed {seed}");
        assert!(purged > 500, "seed {seed}: the tombstones are purged all the same ({purged})");
        // Never purged (the preset's ten days), no delete can be undone.
        let rep = report(&shipped("cassandra-zombies", &[&format!("seed={seed}"), "protocol.gc_grace_ms=864000000"]));
        assert_eq!(u(&rep["convergence"]["resurrected_key_count"]), 0, "seed {seed}");
        assert_eq!(u(&rep["protocol_counters"]["tombstones_removed_count"]), 0, "seed {seed}");
    }
}

/// Riak's delete modes as its documentation describes them: `keep` never resurrects and never
/// reaps; `immediate` reaps while a fall-back still holds values the deletes removed, which
/// come back at its hand-off; the default 3 s delay loses only hand-offs later than the delay.
#[test]
fn riak_delete_modes_trade_resurrected_keys_against_tombstones_kept() {
    for seed in 1..=2 {
        let outcome = |mode: &str| {
            let rep = report(&shipped("riak-delete-modes", &[&format!("seed={seed}"), &format!("protocol.delete_mode={mode}")]));
            let c = &rep["convergence"];
            (
                u(&c["resurrected_key_count"]),
                u(&c["tombstone_replica_count"]),
                u(&rep["protocol_counters"]["tombstones_removed_count"]),
            )
        };
        let (keep, immediate, delayed) = (outcome("\"keep\""), outcome("\"immediate\""), outcome("3000"));
        assert_eq!((keep.0, keep.2), (0, 0), "seed {seed}: keep");
        assert!(keep.1 > 300, "seed {seed}: keep holds tombstones for good ({})", keep.1);
        assert!(immediate.0 > 4 * delayed.0.max(5), "seed {seed}: immediate {immediate:?}, delayed {delayed:?}");
        assert!(immediate.1 < keep.1 / 4 && delayed.1 < keep.1 / 4, "seed {seed}: reaping frees tombstones");
    }
}

#[test]
fn delete_settings_are_checked() {
    for (set, expected) in [
        ("protocol.delete_mode=\"later\"", "\"later\" is not a delete mode"),
        ("protocol.delete_mode=-1", "protocol.delete_mode"),
        ("protocol.gc_grace_ms=1000", "set one (the other to null)"),
        ("workload.delete_fraction=0.8", "is over 1"),
    ] {
        let err = try_shipped("riak-delete-modes", &[set]).expect_err(set).to_string();
        assert!(err.contains(expected), "{set}: {err}");
    }
    let err = try_shipped("shopping-cart", &["workload.delete_fraction=0.1"]).expect_err("carts").to_string();
    assert!(err.contains("deletes need the register value model"), "{err}");
}

/// Cassandra's read path under a slow replica: digest reads carry one replica's data instead
/// of R; speculative retry lowers the read tail at the cost of extra reads, the more the lower
/// its threshold.
#[test]
fn digest_reads_carry_less_and_speculative_retry_cuts_the_read_tail() {
    for seed in 1..=2 {
        let run = |sets: &[&str]| {
            let seed = format!("seed={seed}");
            let rep = report(&shipped("cassandra-read-path", &[&[seed.as_str()], sets].concat()));
            let gets = u(&rep["operations"]["get"]["count"]) as f64;
            let m = &rep["messages"];
            (
                f(&rep["operations"]["get"]["latency_ms"]["p999"]),
                u(&m["get_reply"]["sent_bytes"]) as f64 / gets,
                u(&m["get_request"]["sent_count"]) as f64 / gets,
            )
        };
        let preset = run(&[]);
        let (full, none, fixed) = (
            run(&["protocol.digest_reads=false"]),
            run(&["protocol.speculative_retry=\"none\""]),
            run(&["protocol.speculative_retry=\"10ms\""]),
        );
        assert!(preset.1 < 0.5 * full.1, "seed {seed}: {:.0} bytes of replies per get, {:.0} without digests", preset.1, full.1);
        assert!(preset.0 < none.0, "seed {seed}: p99.9 {:.1} ms at the 99th percentile, {:.1} ms without", preset.0, none.0);
        assert!(fixed.0 < 0.9 * none.0 && fixed.2 > preset.2 + 0.1, "seed {seed}: 10 ms {fixed:?}, none {none:?}");
    }
}

/// A coordinator that already suspects a replica refuses what it cannot serve (here reads at
/// R = N with a node down) at once, instead of asking and timing out.
#[test]
fn a_coordinator_refuses_at_once_what_its_failure_detector_says_it_cannot_serve() {
    let run = |refuse: &str| {
        let rep = report(&shipped(
            "cassandra-hint-window",
            &["protocol.r=3", &format!("protocol.unavailable_when_suspected={refuse}")],
        ));
        let g = &rep["operations"]["get"];
        (u(&g["unavailable_count"]), u(&rep["protocol_counters"]["coordinator_timeout_count"]), u(&g["count"]))
    };
    let (refused, timeouts, gets) = run("true");
    let (refused_off, timeouts_off, gets_off) = run("false");
    assert!(refused > 1000 && timeouts < 50, "{refused} refused, {timeouts} timed out");
    assert!(refused_off == 0 && timeouts_off > 10 * timeouts.max(1), "{timeouts_off} timed out without");
    assert!(gets > 2 * gets_off, "clients not kept waiting issue more gets: {gets} against {gets_off}");
}

#[test]
fn clock_pruning_settings_are_checked() {
    let err = try_shipped("carts-riak", &["protocol.clock_prune_small=60"]).expect_err("small above big").to_string();
    assert!(err.contains("expected at most clock_truncation_threshold (50)"), "{err}");
    let err = try_shipped("carts-riak", &["protocol.clock_prune_interval_ms=0"]).expect_err("a zero interval").to_string();
    assert!(err.contains("protocol.clock_prune_interval_ms"), "{err}");
    let err = try_shipped("cassandra-read-path", &["protocol.speculative_retry=\"soon\""]).expect_err("a bad retry").to_string();
    assert!(err.contains("is not a speculative retry"), "{err}");
}
