//! Gossip membership, join and leave.

use crate::common::*;

#[test]
fn join_under_load_moves_ranges_to_the_new_node_and_stays_available() {
    let rep = report(&shipped("join-under-load", &[]));
    let m = &rep["membership"];
    assert!(u(&m["keys_transferred_count"]) > 200, "{m}");
    let agreed = f(&m["changes"][0]["agreed_after_ms"]);
    assert!(agreed > 0.0 && agreed < 3000.0, "gossip spreads the join: {m}");
    assert_eq!(rep["convergence"]["converged"], true, "{}", rep["convergence"]);
    assert_eq!(u(&rep["convergence"]["lost_write_count"]), 0);
    let failed = u(&rep["operations"]["get"]["failure_count"]) + u(&rep["operations"]["put"]["failure_count"]);
    assert_eq!(failed, 0, "reads and writes stay available through the join");
    // The new node holds about its share of replicas: 3 of 7 nodes per key.
    let n6 = &rep["nodes"][6];
    assert!(u(&n6["keys_owned_count"]) > 2000 * 3 / 7 / 2, "{n6}");
    assert!(u(&n6["requests_served_count"]) > 1000, "{n6}");
}

#[test]
fn leave_under_load_hands_everything_off_and_stops() {
    let rep = report(&shipped("leave-under-load", &[]));
    let m = &rep["membership"];
    assert_eq!(m["decommissioned"][0]["node"], "n3", "{m}");
    assert!(u(&m["keys_transferred_count"]) > 500);
    assert_eq!(rep["convergence"]["converged"], true, "{}", rep["convergence"]);
    assert_eq!(u(&rep["convergence"]["lost_write_count"]), 0);
    assert_eq!(u(&rep["nodes"][3]["keys_owned_count"]), 0, "node 3 is out of the ring");
    let failed = u(&rep["operations"]["get"]["failure_count"]) + u(&rep["operations"]["put"]["failure_count"]);
    assert_eq!(failed, 0);
}

#[test]
fn seeds_prevent_a_logical_partition_and_without_them_views_stay_split() {
    let with = report(&shipped("join-without-common-seed", &[]));
    assert_eq!(with["convergence"]["converged"], true, "{}", with["convergence"]);
    assert!(with["membership"]["changes"].as_array().expect("changes").iter().all(|c| c["agreed_after_ms"].is_number()));
    let without = report(&shipped("join-without-common-seed", &["membership.seeds=[]"]));
    let c = &without["convergence"];
    assert_eq!(c["converged"], false);
    let pending: Vec<&str> = c["pending"].as_array().expect("pending").iter().filter_map(|p| p.as_str()).collect();
    assert!(pending.iter().any(|p| p.contains("sees a ring of 2 nodes, not 5")), "{pending:?}");
    assert!(without["membership"]["changes"][0]["agreed_after_ms"].is_null());
}

#[test]
fn gossip_runs_on_every_node() {
    let rep = report(&shipped("quickstart", &["duration_ms=3000"]));
    assert!(u(&rep["membership"]["gossip_round_count"]) >= 8 * 2, "{}", rep["membership"]);
    assert!(u(&rep["messages"]["gossip"]["delivered_count"]) > 0);
    assert!(rep["membership"]["changes"].as_array().expect("changes").is_empty());
}

#[test]
fn a_leaving_node_still_drains_when_handoff_messages_are_lost() {
    // Half the transfers and their acks are lost; unacknowledged handoffs are resent each gossip
    // interval, so the node still hands everything off and stops.
    let lossy = r#"network.rules=[{"kinds": ["transfer", "transfer_ack"], "loss_probability": 0.5}]"#;
    let rep = report(&shipped("leave-under-load", &[lossy]));
    assert!(u(&rep["messages"]["transfer"]["lost_count"]) > 10, "{}", rep["messages"]["transfer"]);
    assert_eq!(rep["membership"]["decommissioned"][0]["node"], "n3", "{}", rep["membership"]);
    assert_eq!(rep["convergence"]["converged"], true, "{}", rep["convergence"]);
    assert_eq!(u(&rep["convergence"]["lost_write_count"]), 0);
}

#[test]
fn a_leave_survives_the_departing_node_under_every_seed_it_once_broke() {
    // Seeds 3, 12 and 16 stranded the leave before the contact recorded it: n3 stopped before
    // any gossip round carried its leave, and no other node ever learned it.
    let s = shipped("leave-under-load", &[]);
    for seed in [3, 12, 16, 329, 649] {
        let rep = dynasim::run_report(&s, seed).expect("the run finishes");
        assert_eq!(rep["convergence"]["converged"], true, "seed {seed}: {}", rep["convergence"]);
        assert!(rep["membership"]["changes"][0]["agreed_after_ms"].is_number(), "seed {seed}: {}", rep["membership"]);
    }
}

#[test]
fn a_leave_goes_through_a_contact_that_stays_and_is_refused_without_one() {
    let via = r#"faults=[{"kind": "leave", "at_ms": 3000, "node": 3, "contact": 5}]"#;
    let rep = report(&shipped("leave-under-load", &[via, "duration_ms=4000", "quiescent_tail_ms=2000"]));
    assert_eq!(rep["faults"][0]["fault"], "leave n3 via n5", "{}", rep["faults"]);
    assert_eq!(rep["faults"][0]["took_effect"], true);
    assert_eq!(rep["convergence"]["converged"], true, "{}", rep["convergence"]);
    // The named contact is down: nobody that stays would record the change, so it is refused.
    let down =
        r#"faults=[{"kind": "crash", "at_ms": 2000, "node": 5}, {"kind": "leave", "at_ms": 3000, "node": 3, "contact": 5}]"#;
    let rep = report(&shipped("leave-under-load", &[down, "duration_ms=4000"]));
    assert_eq!(rep["faults"][1]["took_effect"], false, "{}", rep["faults"]);
    assert!(rep["membership"]["decommissioned"].as_array().expect("list").is_empty());
    // A node cannot be its own contact.
    let text = std::fs::read_to_string(format!("{}/scenarios/leave-under-load.json", env!("CARGO_MANIFEST_DIR"))).expect("file");
    let own = r#"faults=[{"kind": "leave", "at_ms": 3000, "node": 3, "contact": 3}]"#;
    let e = dynasim::scenario::load("l.json", &text, &[own.to_string()]).expect_err("own contact");
    assert_eq!(e.path, "faults.0.contact", "{e}");
}

#[test]
fn clients_with_a_stale_ring_send_to_old_owners_which_forward() {
    let stale = report(&shipped("join-under-load", &[]));
    let instant = report(&shipped("join-under-load", &["workload.client_ring_refresh_ms=0"]));
    let forwarded = |r: &serde_json::Value| u(&r["protocol_counters"]["forwarded_count"]);
    assert_eq!(forwarded(&instant), 0, "a client that always knows the ring sends to the head");
    assert!(forwarded(&stale) > 500, "until the next fetch the old head forwards: {}", forwarded(&stale));
    assert_eq!(stale["convergence"]["converged"], true);
}
