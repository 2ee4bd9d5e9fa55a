//! Each repair mechanism matters: turning it off changes the measured outcome, turning it on
//! restores it, and its own counters move.

use crate::common::*;

fn convergence(rep: &serde_json::Value) -> (u64, u64) {
    (u(&rep["convergence"]["divergent_key_count"]), u(&rep["convergence"]["pending_hint_count"]))
}

#[test]
fn hinted_handoff_delivers_after_restart() {
    let rep = report(&shipped("node-crash-under-load", &[]));
    let stored = u(&rep["protocol_counters"]["hints_stored_count"]);
    assert!(stored > 20, "writes for the crashed node should become hints: {stored}");
    assert_eq!(u(&rep["protocol_counters"]["hints_delivered_count"]), stored);
    assert_eq!(convergence(&rep), (0, 0), "{}", rep["convergence"]);
    assert!(u(&rep["messages"]["hint"]["delivered_count"]) >= stored);
    assert!(u(&rep["protocol_counters"]["suspicion_count"]) > 0);
    let t = f(&rep["convergence"]["time_to_convergence_after_last_fault_ms"]);
    assert!(t <= 2000.0, "hints should drain within a few scans: {t} ms");
}

#[test]
fn without_hinted_handoff_the_restarted_node_stays_behind() {
    let rep = report(&shipped("node-crash-under-load", &["protocol.hinted_handoff=false"]));
    assert_eq!(u(&rep["protocol_counters"]["hints_stored_count"]), 0);
    let (divergent, _) = convergence(&rep);
    assert!(divergent >= 10, "node 0 missed the writes made while it was down: {divergent}");
    assert!(
        rep["convergence"]["pending"][0].as_str().unwrap_or_default().contains("differs on n0"),
        "{}",
        rep["convergence"]["pending"]
    );
}

#[test]
fn sloppy_quorum_keeps_writes_available_when_a_replica_is_down() {
    // W = N = 3: a strict quorum cannot write any key the crashed node replicates.
    // Clients without failover, so that every write the strict quorum cannot make fails.
    let sets = [
        "protocol.w=3",
        "protocol.r=1",
        "protocol.request_timeout_ms=300",
        "workload.client_timeout_ms=2000",
        "workload.client_retries=0",
    ];
    let sloppy = report(&shipped("node-crash-under-load", &sets));
    let strict = report(&shipped("node-crash-under-load", &[&sets[..], &["protocol.sloppy_quorum=false"]].concat()));
    let failed = |r: &serde_json::Value| f(&r["operations"]["put"]["failure_count"]) / f(&r["operations"]["put"]["count"]);
    assert!(u(&strict["operations"]["put"]["coordinator_timeout_count"]) > 50);
    assert!(failed(&strict) > 0.05, "strict quorum fails writes to the dead node's keys: {}", failed(&strict));
    assert!(failed(&sloppy) < 0.01, "sloppy quorum keeps them available: {}", failed(&sloppy));
}

#[test]
fn read_repair_fixes_replicas_that_reads_find_stale() {
    // A fifth of replica writes are lost; only read repair can mend them (no faults, no hints).
    let sets = [
        "faults=[]",
        "workload.keys=50",
        "workload.read_fraction=0.9",
        r#"network.rules=[{"kinds": ["put_request"], "loss_probability": 0.2}]"#,
    ];
    let mean_divergence = |r: &serde_json::Value| {
        let samples = r["divergence"].as_array().expect("samples");
        samples.iter().map(|s| f(&s["divergent_key_fraction"])).sum::<f64>() / samples.len() as f64
    };
    let on = report(&shipped("node-crash-under-load", &[&sets[..], &["protocol.read_repair=true"]].concat()));
    let off = report(&shipped("node-crash-under-load", &[&sets[..], &["protocol.read_repair=false"]].concat()));
    assert!(u(&on["protocol_counters"]["read_repairs_sent_count"]) > 100);
    assert_eq!(u(&off["protocol_counters"]["read_repairs_sent_count"]), 0);
    assert!(mean_divergence(&on) * 4.0 < mean_divergence(&off), "on {} off {}", mean_divergence(&on), mean_divergence(&off));
}

#[test]
fn anti_entropy_restores_n_copies_after_a_disk_is_lost() {
    let on = report(&shipped("disk-loss-and-replacement", &[]));
    assert_eq!(convergence(&on), (0, 0), "{}", on["convergence"]);
    let counters = &on["protocol_counters"];
    assert!(u(&counters["anti_entropy_keys_repaired_count"]) > 100, "{counters}");
    assert!(u(&counters["merkle_hash_count"]) > 0);
    assert!(u(&on["messages"]["anti_entropy"]["delivered_count"]) > 100);
    let off = report(&shipped("disk-loss-and-replacement", &["protocol.anti_entropy=false"]));
    let (divergent, _) = convergence(&off);
    assert!(divergent > 100, "without anti-entropy the replacement stays empty for keys nobody touched: {divergent}");
    assert!(off["convergence"]["pending"][0].as_str().unwrap_or_default().contains("n3"), "{}", off["convergence"]["pending"]);
}

#[test]
fn anti_entropy_between_agreeing_replicas_sends_roots_and_no_keys() {
    // No faults, no loss: every exchange finds equal roots (or, mid-write, a few leaves).
    let rep = report(&shipped("disk-loss-and-replacement", &["faults=[]"]));
    let c = &rep["protocol_counters"];
    let exchanges = u(&c["anti_entropy_exchange_count"]);
    assert!(exchanges > 1000, "{c}");
    assert!(u(&c["anti_entropy_keys_sent_count"]) < exchanges / 10, "only keys under differing leaves travel: {c}");
    // After a disk loss, far more keys travel, but still fewer than a full copy per exchange.
    let lost = report(&shipped("disk-loss-and-replacement", &[]));
    assert!(u(&lost["protocol_counters"]["anti_entropy_keys_sent_count"]) > 10 * u(&c["anti_entropy_keys_sent_count"]).max(1));
}

#[test]
fn a_disk_loss_under_blind_writes_loses_no_acknowledged_write() {
    // W=2 leaves a second copy of every acknowledged write when one disk goes; the replacement
    // must not shadow those copies with versions of its own (the node unit tests check that
    // its dots are fresh).
    let rep = report(&shipped(
        "disk-loss-and-replacement",
        &[
            "workload.keys=20",
            "protocol.coordination=preference_list_head",
            r#"workload.value={"kind": "register", "read_before_write": false}"#,
        ],
    ));
    assert_eq!(u(&rep["convergence"]["lost_write_count"]), 0, "{}", rep["convergence"]);
    assert!(u(&rep["protocol_counters"]["anti_entropy_keys_repaired_count"]) > 0);
}

#[test]
fn incremental_divergence_samples_equal_full_scans_through_faults_and_ring_changes() {
    let mut divergent_seen = 0;
    for name in ["disk-loss-and-replacement", "join-under-load", "leave-under-load", "partition-writers-both-sides"] {
        let s = shipped(name, &["observe.divergence_interval_ms=200"]);
        let incremental = dynasim::world::World::new(&s, s.seed).run();
        let mut reference = dynasim::world::World::new(&s, s.seed);
        reference.scan_every_key_each_sample();
        let full = reference.run();
        assert!(full.samples.len() > 10, "{name}: {} samples", full.samples.len());
        assert_eq!(incremental.samples, full.samples, "{name}");
        divergent_seen += full.samples.iter().filter(|(_, s)| s.divergent_keys > 0).count();
    }
    assert!(divergent_seen > 10, "the scenarios must diverge for the comparison to mean anything: {divergent_seen}");
}

#[test]
fn past_the_hint_window_only_the_operators_repair_brings_a_replica_up_to_date() {
    let convergence_of = |sets: &[&str]| {
        let rep = report(&shipped("cassandra-hint-window", sets));
        let c = &rep["protocol_counters"];
        (
            rep["convergence"]["converged"] == true,
            u(&c["hints_not_stored_window_count"]),
            u(&c["anti_entropy_keys_repaired_count"]),
        )
    };
    // Clients fail over from the down coordinator, so writes go on through the outage.
    let stall = f(&report(&shipped("cassandra-hint-window", &[]))["operations"]["put"]["longest_stall_ms"]);
    assert!(stall < 100.0, "no put completed for {stall} ms");
    let (converged, skipped, repaired) = convergence_of(&[]);
    assert!(
        converged && skipped > 100 && repaired > 20,
        "the repair mends what the window left: {skipped} hints skipped, {repaired} keys repaired"
    );
    let no_repair = [r#"faults.2={"kind": "restart", "at_ms": 6000, "node": 2}"#];
    let (converged, _, repaired) = convergence_of(&no_repair);
    assert!(!converged && repaired == 0, "without the repair node 2 stays behind");
    let (converged, skipped, repaired) = convergence_of(&["protocol.hint_window_ms=null"]);
    assert!(converged && skipped == 0 && repaired == 0, "without a window the hints alone suffice");
}
