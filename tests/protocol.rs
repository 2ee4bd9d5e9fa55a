//! The request protocol's promised behaviours, each checked on a whole simulated cluster.

use crate::common::*;

const CLUSTER: &str = r#"{
  "name": "t", "duration_ms": 5000, "quiescent_tail_ms": 500,
  "cluster": { "nodes": 8 },
  "ring": { "tokens_per_node": 8 },
  "network": { "latency": { "kind": "exponential", "mean_ms": 2.0 } },
  "workload": { "keys": 20, "read_fraction": 0.6,
    "arrivals": { "kind": "closed", "clients": 30, "think_time": { "kind": "exponential", "mean_ms": 2 } } }
}"#;

#[test]
fn with_no_faults_and_r_plus_w_above_n_no_read_is_stale() {
    for coordination in ["preference_list_head", "load_balancer", "client_driven", "proxy"] {
        for (r, w, fanout) in [(2, 2, "all"), (1, 3, "all"), (3, 1, "quorum"), (2, 2, "quorum")] {
            let c = format!("protocol.coordination={coordination}");
            let (rs, ws, fs) = (format!("protocol.r={r}"), format!("protocol.w={w}"), format!("protocol.fanout={fanout}"));
            let rep = report(&scenario(CLUSTER, &[&c, &rs, &ws, &fs]));
            let judged = u(&rep["staleness"]["reads_judged_count"]);
            assert!(judged > 1000, "{coordination} ({r},{w}) {fanout}: only {judged} reads judged");
            assert_eq!(u(&rep["staleness"]["stale_read_count"]), 0, "{coordination} ({r},{w}) {fanout}: stale reads with R+W>N");
            assert_eq!(u(&rep["operations"]["get"]["failure_count"]), 0);
        }
    }
}

#[test]
fn with_r_and_w_of_one_some_reads_are_stale() {
    let rep = report(&scenario(CLUSTER, &["protocol.r=1", "protocol.w=1", "protocol.coordination=client_driven"]));
    let stale = u(&rep["staleness"]["stale_read_count"]);
    assert!(stale > 10, "expected stale reads under (3,1,1), got {stale}");
}

#[test]
fn t_visibility_rises_with_t_under_r_w_of_one() {
    let rep = report(&shipped("staleness-probe", &["duration_ms=20000"]));
    let rows = rep["t_visibility"].as_array().expect("t_visibility rows");
    assert_eq!(rows.len(), 7);
    let fractions: Vec<f64> = rows.iter().map(|r| f(&r["reflected_fraction"])).collect();
    for r in rows {
        assert!(u(&r["reads_count"]) > 300, "too few probe reads: {r}");
    }
    assert!(fractions[0] < 0.9, "at t=0 many reads should miss the write: {fractions:?}");
    assert!(fractions[6] > 0.99, "at t=16ms nearly all should see it: {fractions:?}");
    assert!(fractions[0] < fractions[3] && fractions[3] < fractions[6], "not rising: {fractions:?}");
}

#[test]
fn a_single_writer_per_key_never_produces_siblings() {
    // One client, so each key has a single writer; blind writes use the client's own last
    // context, and R=W=1 makes its reads often stale, which must still never fork versions.
    let rep = report(&scenario(
        CLUSTER,
        &[
            "workload.arrivals.clients=1",
            "protocol.r=1",
            "protocol.w=1",
            "workload.value={\"kind\":\"register\",\"read_before_write\":false}",
            "protocol.coordination=client_driven",
        ],
    ));
    assert!(u(&rep["operations"]["put"]["success_count"]) > 200);
    assert_eq!(u(&rep["conflicts"]["reads_with_siblings_count"]), 0);
    assert_eq!(u(&rep["conflicts"]["concurrent_write_count"]), 0);
}

#[test]
fn concurrent_writers_through_different_coordinators_produce_siblings() {
    let rep = report(&scenario(CLUSTER, &["protocol.coordination=client_driven", "workload.keys=3"]));
    assert!(u(&rep["conflicts"]["concurrent_write_count"]) > 10, "{}", rep["conflicts"]);
    assert!(u(&rep["conflicts"]["reads_with_siblings_count"]) > 10, "{}", rep["conflicts"]);
    assert!(u(&rep["versions_per_read"]["2_count"]) > 0);
    // The oracle agrees these are real conflicts, not artefacts of the clocks.
    assert!(u(&rep["true_versions_per_read"]["2_count"]) > 0);
}

#[test]
fn a_slow_node_hurts_p999_more_under_proxy_than_under_the_preference_list_head() {
    let p999 = |coordination: &str, slow: bool| {
        let mut sets = vec!["duration_ms=15000"];
        if !slow {
            sets.push("cluster.slow_nodes=[]");
        }
        let rep = report(&shipped(&format!("slow-node-{coordination}"), &sets));
        f(&rep["operations"]["put"]["latency_ms"]["p999"])
    };
    let head_rise = p999("preference-list-head", true) - p999("preference-list-head", false);
    let proxy_rise = p999("proxy", true) - p999("proxy", false);
    assert!(head_rise > 50.0, "the slow node should hurt under either strategy: {head_rise}");
    assert!(proxy_rise > 1.2 * head_rise, "proxy rise {proxy_rise:.1} ms vs head rise {head_rise:.1} ms");
}

#[test]
fn load_balancer_forwards_requests_outside_the_preference_list() {
    let lb = report(&scenario(CLUSTER, &["protocol.coordination=load_balancer"]));
    let head = report(&scenario(CLUSTER, &["protocol.coordination=preference_list_head"]));
    assert!(u(&lb["protocol_counters"]["forwarded_count"]) > 1000);
    assert_eq!(u(&lb["messages"]["forward"]["sent_count"]), u(&lb["protocol_counters"]["forwarded_count"]));
    assert_eq!(u(&head["protocol_counters"]["forwarded_count"]), 0);
    // The extra hop shows in the median.
    assert!(f(&lb["operations"]["get"]["latency_ms"]["p50"]) > f(&head["operations"]["get"]["latency_ms"]["p50"]));
}

#[test]
fn quorum_fanout_sends_fewer_replica_messages_than_fanout_to_all() {
    let all = report(&scenario(CLUSTER, &["protocol.fanout=all"]));
    let quorum = report(&scenario(CLUSTER, &["protocol.fanout=quorum"]));
    let per_get = |r: &serde_json::Value| f(&r["messages"]["get_request"]["sent_count"]) / f(&r["operations"]["get"]["count"]);
    assert!((per_get(&all) - 2.0).abs() < 0.05, "fan-out to all: N-1 remote requests per get, got {}", per_get(&all));
    assert!((per_get(&quorum) - 1.0).abs() < 0.05, "quorum fan-out: R-1 remote requests per get, got {}", per_get(&quorum));
}

#[test]
fn late_replies_are_heard_after_the_client_is_answered() {
    let rep = report(&scenario(CLUSTER, &["protocol.r=1"]));
    assert!(u(&rep["protocol_counters"]["late_reply_count"]) > 100);
    let closed = report(&scenario(CLUSTER, &["protocol.r=1", "protocol.read_repair_window_ms=0"]));
    assert_eq!(u(&closed["protocol_counters"]["late_reply_count"]), 0);
}

#[test]
fn message_loss_turns_into_timeouts_counted_apart_from_latency() {
    let rep = report(&scenario(
        CLUSTER,
        &["network.loss_probability=0.2", "protocol.request_timeout_ms=50", "workload.client_timeout_ms=100"],
    ));
    let lost: u64 = rep["messages"].as_object().expect("messages").values().map(|m| u(&m["lost_count"])).sum();
    assert!(lost > 1000);
    let get = &rep["operations"]["get"];
    assert!(u(&get["coordinator_timeout_count"]) > 0 && u(&get["client_timeout_count"]) > 0, "{get}");
    assert_eq!(u(&get["count"]), u(&get["success_count"]) + u(&get["failure_count"]));
    assert!(f(&get["latency_ms"]["max"]) < 100.0, "failed requests must not enter latency: {get}");
}

#[test]
fn write_to_fastest_reader_sends_puts_to_the_previous_reads_fastest_replica() {
    // With proxy coordination most reads are coordinated off the list, so the fastest replica
    // is a remote one; puts sent there are coordinated by a replica and never forwarded.
    let rep = report(&scenario(CLUSTER, &["protocol.coordination=proxy", "protocol.write_to_fastest_reader=true"]));
    let puts: u64 = rep["nodes"].as_array().expect("nodes").iter().map(|n| u(&n["puts_coordinated_count"])).sum();
    let plain = report(&scenario(CLUSTER, &["protocol.coordination=proxy"]));
    // Plain proxy: ~5/8 of puts land on a non-replica, which must ask the head to mint, so
    // more put requests travel per put than when writes go straight to a replica.
    let per_put = |r: &serde_json::Value| f(&r["messages"]["put_request"]["sent_count"]) / f(&r["operations"]["put"]["count"]);
    assert!(per_put(&plain) > per_put(&rep) + 0.3, "plain {} vs fastest-reader {}", per_put(&plain), per_put(&rep));
    assert!(puts > 0);
}

#[test]
fn the_fastest_reader_is_the_replica_whose_reply_came_first_counting_the_local_reads_service() {
    // The head of every preference list that n0 is in is slow (factor 10): its own read waits in
    // its queue, so under write-to-fastest-reader its writes move to the replicas that answered
    // first. Were the coordinator's local read counted first, n0 would keep its writes.
    let plain = report(&shipped("slow-node-preference-list-head", &[]));
    let fastest = report(&shipped("slow-node-preference-list-head", &["protocol.write_to_fastest_reader=true"]));
    let puts_at_n0 = |r: &serde_json::Value| u(&r["nodes"][0]["puts_coordinated_count"]);
    assert!(puts_at_n0(&plain) > 300, "{}", puts_at_n0(&plain));
    assert!(puts_at_n0(&fastest) * 20 < puts_at_n0(&plain), "{} vs {}", puts_at_n0(&fastest), puts_at_n0(&plain));
    let p999 = |r: &serde_json::Value| f(&r["operations"]["put"]["latency_ms"]["p999"]);
    assert!(p999(&fastest) * 5.0 < p999(&plain), "put p99.9 {} vs {}", p999(&fastest), p999(&plain));
}

#[test]
fn behind_a_load_balancer_the_node_reached_forwards_a_put_to_the_fastest_reader_it_names() {
    // The client cannot address a replica itself: the balancer's pick forwards the put to the
    // replica named in the request, so the slow head coordinates almost none of them, while
    // the requests still land on every node (the forwards show it).
    let lb = ["protocol.coordination=load_balancer"];
    let plain = report(&shipped("slow-node-preference-list-head", &lb));
    let fastest = report(&shipped("slow-node-preference-list-head", &[lb[0], "protocol.write_to_fastest_reader=true"]));
    let puts_at_n0 = |r: &serde_json::Value| u(&r["nodes"][0]["puts_coordinated_count"]);
    assert!(puts_at_n0(&plain) > 300, "{}", puts_at_n0(&plain));
    assert!(puts_at_n0(&fastest) * 20 < puts_at_n0(&plain), "{} vs {}", puts_at_n0(&fastest), puts_at_n0(&plain));
    let forwarded = |r: &serde_json::Value| u(&r["protocol_counters"]["forwarded_count"]);
    let puts = u(&fastest["operations"]["put"]["count"]);
    assert!(forwarded(&fastest) > puts / 2, "{} forwards for {puts} puts", forwarded(&fastest));
}

#[test]
fn a_client_whose_coordinator_times_out_fails_over_to_the_next_node() {
    // Node 0 crashes under load: requests sent to it time out at the client (after 2 s here,
    // with no retry; the shipped scenario fails over after 100 ms).
    let once = report(&shipped("node-crash-under-load", &["workload.client_retries=0", "workload.client_timeout_ms=2000"]));
    let retrying = report(&shipped("node-crash-under-load", &["workload.client_retries=2", "workload.client_timeout_ms=2000"]));
    let failed =
        |r: &serde_json::Value| u(&r["operations"]["get"]["failure_count"]) + u(&r["operations"]["put"]["failure_count"]);
    assert!(failed(&once) > 10, "{}", failed(&once));
    assert_eq!(u(&once["protocol_counters"]["client_retry_count"]), 0);
    assert_eq!(failed(&retrying), 0, "every timed-out operation succeeded at another node");
    assert!(u(&retrying["protocol_counters"]["client_retry_count"]) >= failed(&once));
    // A retried write keeps its write id: the oracle still judges it, and none is lost.
    assert_eq!(u(&retrying["convergence"]["lost_write_count"]), 0);
    assert_eq!(retrying["convergence"]["converged"], true);
}

/// Sixteen nodes, every network leg exactly 1 ms, no service time: latencies count legs.
const LEGS: &str = r#"{
    "duration_ms": 3000, "cluster": { "nodes": 16, "capacity": { "infinite": true } },
    "network": { "latency": { "kind": "constant", "ms": 1 } },
    "workload": { "keys": 1000, "read_fraction": 0.5,
                  "arrivals": { "kind": "closed", "clients": 10, "think_time": { "kind": "exponential", "mean_ms": 5 } } }
}"#;

#[test]
fn a_direct_coordinator_writes_to_every_replica_itself_one_leg_sooner_than_mint_and_relay() {
    let put = |coordination: &str, at: &str| {
        let rep = report(&scenario(LEGS, &[&format!("protocol.coordination={coordination}")]));
        f(&rep["operations"]["put"]["latency_ms"][at])
    };
    // Client to coordinator, coordinator to the replicas, their acks, the reply: four legs.
    assert_eq!(put("direct", "max"), 4.0);
    // A coordinator outside the list (13 of 16) asks the first replica to mint: one leg more.
    assert_eq!(put("proxy", "p50"), 5.0);
    assert_eq!(put("proxy", "max"), 5.0);
}

#[test]
fn local_legs_over_the_network_put_a_replica_coordinators_own_read_on_the_wire() {
    let gets = |sets: &[&str]| {
        let rep = report(&scenario(LEGS, &[&["protocol.coordination=direct", "protocol.r=1"], sets].concat()));
        (f(&rep["operations"]["get"]["latency_ms"]["mean"]), u(&rep["messages"]["get_request"]["sent_count"]))
    };
    // A replica coordinator (3 of 16) answers R=1 from its own copy: two legs instead of four.
    let (local_mean, local_requests) = gets(&[]);
    let (wire_mean, wire_requests) = gets(&["protocol.local_legs_over_network=true"]);
    assert!((3.5..3.8).contains(&local_mean), "{local_mean}");
    assert_eq!(wire_mean, 4.0, "its own read now costs a request and a reply leg like any other");
    assert!(wire_requests > local_requests, "{wire_requests} against {local_requests}");
}
