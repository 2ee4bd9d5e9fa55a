//! Property tests: the versioning algebra, ring stability, and no panic on any input.

use dynasim::cluster::ring::{key_position, Ring, RingMember, Strategy as Partitioning};
use dynasim::node::versioning::{CausalContext, Causality, Dot, Sibling, VectorClock, VersionSet};
use dynasim::sim::engine::SimTime;
use dynasim::sim::ids::{NodeId, WriteId};
use proptest::prelude::*;

fn clock(entries: &[(u32, u64)]) -> VectorClock {
    let mut c = VectorClock::new();
    for &(n, k) in entries {
        c.advance(NodeId(n), k, SimTime(k));
    }
    c
}

fn arb_clock() -> impl Strategy<Value = VectorClock> {
    prop::collection::vec((0u32..4, 0u64..4), 0..5).prop_map(|e| clock(&e))
}

/// A replica history: writes at random coordinators from contexts that saw a random prefix of
/// what the replica had, so siblings and supersession both happen.
fn arb_version_set() -> impl Strategy<Value = VersionSet> {
    prop::collection::vec((0u32..3, any::<bool>()), 0..6).prop_map(|writes| {
        let mut v = VersionSet::default();
        let mut counters = [0u64; 3];
        for (i, (node, saw)) in writes.into_iter().enumerate() {
            counters[node as usize] += 1;
            let ctx = if saw { v.client_context(SimTime(i as u64)) } else { CausalContext::default() };
            let s = Sibling {
                dot: Dot { node: NodeId(node), counter: counters[node as usize] },
                clock: Default::default(),
                written_at: SimTime(i as u64),
                write: WriteId(i as u64 + 1),
                cart: Default::default(),
                value_bytes: 0,
                tombstone: false,
            };
            if !ctx.covers(s.dot) {
                v.apply_write(&ctx, s, SimTime(i as u64));
            }
        }
        v
    })
}

/// Three replicas diverging from one history, as a real key's replicas do.
fn arb_replicas() -> impl Strategy<Value = (VersionSet, VersionSet, VersionSet)> {
    (arb_version_set(), prop::collection::vec((0u32..3, 0usize..3, any::<bool>()), 0..6)).prop_map(|(base, moves)| {
        let mut reps = [base.clone(), base.clone(), base];
        let mut counter = 100;
        for (node, replica, saw) in moves {
            counter += 1;
            let r = &mut reps[replica];
            let ctx = if saw { r.client_context(SimTime(counter)) } else { CausalContext::default() };
            let s = Sibling {
                dot: Dot { node: NodeId(node), counter },
                clock: Default::default(),
                written_at: SimTime(counter),
                write: WriteId(counter),
                cart: Default::default(),
                value_bytes: 0,
                tombstone: false,
            };
            r.apply_write(&ctx, s, SimTime(counter));
        }
        let [a, b, c] = reps;
        (a, b, c)
    })
}

fn merged(a: &VersionSet, b: &VersionSet) -> VersionSet {
    let mut m = a.clone();
    m.reconcile(b, SimTime(1_000));
    m
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn vector_clock_compare_is_a_partial_order(a in arb_clock(), b in arb_clock(), c in arb_clock()) {
        prop_assert_eq!(a.compare(&a), Causality::Equal);
        let flip = |x: Causality| match x { Causality::Before => Causality::After, Causality::After => Causality::Before, o => o };
        prop_assert_eq!(a.compare(&b), flip(b.compare(&a)));
        if a.compare(&b) == Causality::Before && b.compare(&c) == Causality::Before {
            prop_assert_eq!(a.compare(&c), Causality::Before);
        }
        // Advancing one entry makes a clock strictly later (a constant answer would pass the rest).
        let mut later = a.clone();
        later.advance(NodeId(0), a.entries().iter().find(|e| e.node == NodeId(0)).map_or(1, |e| e.counter + 1), SimTime(9));
        prop_assert_eq!(a.compare(&later), Causality::Before);
        prop_assert_eq!(later.compare(&a), Causality::After);
        if a.compare(&b) == Causality::Equal {
            prop_assert_eq!(a.entries().iter().map(|e| (e.node, e.counter)).collect::<Vec<_>>(), b.entries().iter().map(|e| (e.node, e.counter)).collect::<Vec<_>>());
        }
    }

    #[test]
    fn reconciliation_is_idempotent_commutative_and_associative((a, b, c) in arb_replicas()) {
        prop_assert!(merged(&a, &a).same_versions(&a));
        prop_assert!(merged(&a, &b).same_versions(&merged(&b, &a)));
        prop_assert!(merged(&merged(&a, &b), &c).same_versions(&merged(&a, &merged(&b, &c))));
        // Whatever survives was written somewhere; a sibling both sides hold always survives.
        let m = merged(&a, &b);
        for s in &m.siblings {
            prop_assert!(a.siblings.iter().chain(&b.siblings).any(|x| x.dot == s.dot));
        }
        for s in a.siblings.iter().filter(|s| b.siblings.iter().any(|x| x.dot == s.dot)) {
            prop_assert!(m.siblings.iter().any(|x| x.dot == s.dot));
        }
        // A write whose context saw all of a supersedes all of it (a plain union would keep it).
        let mut after = a.clone();
        let sibling = Sibling {
            dot: Dot { node: NodeId(9), counter: 1 },
            clock: Default::default(),
            written_at: SimTime(500),
            write: WriteId(500),
            cart: Default::default(),
            value_bytes: 0,
            tombstone: false,
        };
        after.apply_write(&a.client_context(SimTime(500)), sibling, SimTime(500));
        let superseded = merged(&a, &after);
        prop_assert_eq!(superseded.siblings.iter().map(|s| s.write).collect::<Vec<_>>(), vec![WriteId(500)]);
    }

    #[test]
    fn preference_lists_are_stable_when_an_unrelated_node_joins(seed in 0u64..1000, nodes in 4u32..12, tokens in 1u32..16) {
        let members = |n: u32| (0..n).map(|i| RingMember { node: NodeId(i), weight: 1.0, datacenter: 0 }).collect::<Vec<_>>();
        let before = Ring::new(Partitioning::RandomTokens { tokens_per_node: tokens }, members(nodes), false, seed);
        let mut after = before.clone();
        after.add_member(RingMember { node: NodeId(nodes), weight: 1.0, datacenter: 0 });
        for k in 0..100 {
            let pos = key_position(&format!("k{k}"));
            let new = after.top_n(pos, 3);
            if !new.contains(&NodeId(nodes)) {
                prop_assert_eq!(before.top_n(pos, 3), new, "k{} moved though the new node took no part", k);
            }
        }
    }

    #[test]
    fn random_bytes_give_an_error_that_names_its_place(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let text = String::from_utf8_lossy(&bytes);
        // Random bytes are never a scenario (one needs "duration_ms"): the error says where.
        let e = dynasim::scenario::load("fuzz.json", &text, &[]).expect_err("random bytes are no scenario");
        prop_assert_eq!(&e.file, "fuzz.json");
        prop_assert!(e.position.is_some() || !e.path.is_empty(), "{}", e);
        prop_assert!(!e.message.is_empty());
    }

    #[test]
    fn mutated_scenario_files_give_errors_never_panics(at in 0usize..1200, byte in any::<u8>(), cut in any::<bool>()) {
        let original = include_str!("../scenarios/nemesis-dynamo.json");
        let mut bytes = original.as_bytes().to_vec();
        let at = at % bytes.len();
        if cut { bytes.truncate(at) } else { bytes[at] = byte }
        let text = String::from_utf8_lossy(&bytes);
        // Either an error that says where, or a scenario that runs to its end: never a panic.
        match dynasim::scenario::load("mutated.json", &text, &["duration_ms=200".into(), "quiescent_tail_ms=0".into(), "nemesis=null".into()]) {
            Err(e) => prop_assert!(e.position.is_some() || !e.path.is_empty(), "{}", e),
            Ok(s) => {
                let r = dynasim::simulate(&s, s.seed).expect("a valid scenario runs");
                prop_assert_eq!(r.simulated_end.as_nanos(), s.duration.as_nanos());
            }
        }
    }

    #[test]
    fn any_valid_random_scenario_runs_without_panicking(
        nodes in 3u32..8, n in 1usize..4, r in 1usize..4, w in 1usize..4, keys in 1usize..50,
        loss in 0.0f64..0.3, coordination in 0usize..4, sloppy in any::<bool>(), versioning in 0usize..3, seed in 0u64..1000,
    ) {
        let coordination = ["preference_list_head", "load_balancer", "client_driven", "proxy"][coordination];
        let text = format!(r#"{{"format": 2, "duration_ms": 300, "quiescent_tail_ms": 100, "cluster": {{"nodes": {nodes}}},
            "protocol": {{"n": {n}, "r": {r}, "w": {w}, "coordination": "{coordination}", "sloppy_quorum": {sloppy},
              "conflict_resolution": "{}", "request_timeout_ms": 50, "reply_timeout_ms": 20}},
            "network": {{"loss_probability": {loss}}},
            "workload": {{"keys": {keys}, "client_timeout_ms": 100, "arrivals": {{"kind": "closed", "clients": 5, "think_time": {{"kind": "constant", "ms": 1}}}}}},
            "faults": [{{"kind": "crash", "at_ms": 100, "node": 0}}, {{"kind": "restart", "at_ms": 200, "node": 0}}],
            "nemesis": {{"rate_per_s": 20, "stop_ms": 300,
              "kinds": ["crash", "disk_loss", "partition", "loss_burst", "slow", "clock_skew"]}}}}"#,
            ["last_write_wins", "vector_clocks", "dotted_version_vectors"][versioning]);
        match dynasim::scenario::load("random.json", &text, &[]) {
            Ok(s) => {
                // The network accounts for every message: each one sent (or duplicated) is
                // delivered, dropped, lost or still in flight at the end; and every judged read
                // was a successful get.
                let rep = dynasim::run_report(&s, seed).expect("a small valid scenario runs");
                let n = |m: &serde_json::Value, f: &str| m[f].as_u64().unwrap_or(0);
                for (kind, m) in rep["messages"].as_object().expect("messages") {
                    let ended = n(m, "delivered_count") + n(m, "dropped_down_count") + n(m, "dropped_partition_count") + n(m, "lost_count");
                    prop_assert!(ended <= n(m, "sent_count") + n(m, "duplicated_count"), "{}: {}", kind, m);
                }
                prop_assert!(n(&rep["staleness"], "reads_judged_count") <= n(&rep["operations"]["get"], "success_count"));
            }
            Err(e) => prop_assert!(r > n || w > n || n > nodes as usize, "unexpected rejection: {}", e),
        }
    }
}
