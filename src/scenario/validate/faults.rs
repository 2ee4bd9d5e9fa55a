//! `nemesis` and `faults`: random faults drawn from a menu, and faults at stated times.

use super::*;

/// A bound on a nemesis's expected faults in one run: far more than a run can usefully hold,
/// few enough that scheduling them cannot exhaust memory.
const MAX_NEMESIS_FAULTS: f64 = 1e6;

/// `nemesis`: the menu random faults are drawn from.
pub(super) fn nemesis(
    ctx: &Ctx,
    raw: Option<&RawNemesis>,
    duration: SimDuration,
    quiescent_tail: SimDuration,
) -> Result<Option<NemesisConfig>, ScenarioError> {
    Ok(match raw {
        None => None,
        Some(n) => {
            if !(n.rate_per_s.is_finite() && n.rate_per_s > 0.0) {
                return Err(ctx.err("nemesis.rate_per_s", format!("{} is out of range; expected a rate > 0", n.rate_per_s)));
            }
            if n.kinds.is_empty() {
                return Err(
                    ctx.err("nemesis.kinds", "empty; expected some of crash, disk_loss, partition, loss_burst, slow, clock_skew")
                );
            }
            let start = ms(ctx, "nemesis.start_ms", n.start_ms.unwrap_or(0.0), true)?;
            let stop = ms(ctx, "nemesis.stop_ms", n.stop_ms.unwrap_or(duration.as_millis_f64()), true)?;
            if stop <= start || stop.as_nanos() > duration.as_nanos().saturating_add(quiescent_tail.as_nanos()) {
                return Err(ctx.err("nemesis.stop_ms", "expected start_ms < stop_ms <= duration_ms + quiescent_tail_ms"));
            }
            let expected_faults = n.rate_per_s * (stop.as_millis_f64() - start.as_millis_f64()) / 1000.0;
            if expected_faults > MAX_NEMESIS_FAULTS {
                return Err(ctx.err(
                    "nemesis.rate_per_s",
                    format!(
                        "{} faults per second from {} to {} ms is about {expected_faults:.3e} faults; expected at most \
                         {MAX_NEMESIS_FAULTS:e} in a run (lower the rate or shorten start_ms..stop_ms)",
                        n.rate_per_s,
                        start.as_millis_f64(),
                        stop.as_millis_f64()
                    ),
                ));
            }
            let slow_factor = n.slow_factor.unwrap_or(10.0);
            if !(1.0..=MAX_SLOWDOWN).contains(&slow_factor) {
                return Err(
                    ctx.err("nemesis.slow_factor", format!("{slow_factor} is out of range; expected a factor from 1 to 1000"))
                );
            }
            Some(NemesisConfig {
                rate_per_s: n.rate_per_s,
                kinds: n
                    .kinds
                    .iter()
                    .map(|k| match k {
                        RawNemesisKind::Crash => NemesisKind::Crash,
                        RawNemesisKind::DiskLoss => NemesisKind::DiskLoss,
                        RawNemesisKind::Partition => NemesisKind::Partition,
                        RawNemesisKind::LossBurst => NemesisKind::LossBurst,
                        RawNemesisKind::Slow => NemesisKind::Slow,
                        RawNemesisKind::ClockSkew => NemesisKind::ClockSkew,
                    })
                    .collect(),
                start,
                stop,
                fault_duration: match &n.fault_duration {
                    Some(d) => distribution(ctx, "nemesis.fault_duration", d)?,
                    None => Distribution::Uniform { min_ms: 200.0, max_ms: 2000.0 },
                },
                loss_probability: probability(ctx, "nemesis.loss_probability", n.loss_probability.unwrap_or(0.3))?,
                slow_factor,
                clock_skew_ns: skew_ns(ctx, "nemesis.clock_skew_ms", n.clock_skew_ms.unwrap_or(50.0))?,
            })
        }
    })
}

pub(super) fn faults(
    ctx: &Ctx,
    raw: &[RawFault],
    node_count: u32,
    initial: &[NodeId],
    end_ns: u64,
) -> Result<Vec<ScheduledFault>, ScenarioError> {
    let node_ref = |path: &str, n: u32| node_id(ctx, node_count, path, n);
    // A restart brings back a node that was in the ring: one outside the initial members must
    // have joined before.
    let joined_by = |node: u32, at_ms: f64| {
        initial.contains(&NodeId(node))
            || raw.iter().any(|f| matches!(f, RawFault::Join { node: j, at_ms: t, .. } if *j == node && *t < at_ms))
    };
    let never_joined = |path: String, node: u32, at_ms: f64| {
        ctx.err(
            &path,
            format!(
                "node {node} is restarted at {at_ms} ms but is not in cluster.initial_members and no join of it comes \
                 earlier; expected a node that has joined (add a join fault before the restart)"
            ),
        )
    };
    let mut names: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (i, f) in raw.iter().enumerate() {
        let p = format!("faults.{i}");
        let at_ms = f.at_ms();
        let at = ms(ctx, &format!("{p}.at_ms"), at_ms, true)?;
        if at.as_nanos() > end_ns {
            return Err(ctx.err(
                &format!("{p}.at_ms"),
                format!("{at_ms} is after the run ends; expected at most duration_ms + quiescent_tail_ms"),
            ));
        }
        let fault = match f {
            RawFault::Crash { node, lose_disk, .. } => {
                Fault::Crash { node: node_ref(&format!("{p}.node"), *node)?, lose_disk: *lose_disk }
            }
            RawFault::Restart { node, .. } => {
                let id = node_ref(&format!("{p}.node"), *node)?;
                if !joined_by(*node, at_ms) {
                    return Err(never_joined(format!("{p}.node"), *node, at_ms));
                }
                Fault::Restart(id)
            }
            RawFault::Partition { name, groups, one_way, .. } => {
                let typed = partition_groups(ctx, &p, groups, &node_ref)?;
                Fault::Partition {
                    id: partition_name(ctx, &p, name, &mut names)?,
                    name: name.clone(),
                    groups: typed,
                    one_way: *one_way,
                }
            }
            RawFault::Join { node, contact, .. } => Fault::Join {
                node: node_ref(&format!("{p}.node"), *node)?,
                contact: contact.map(|c| node_ref(&format!("{p}.contact"), c)).transpose()?,
            },
            RawFault::Leave { node, contact, .. } => {
                if contact == &Some(*node) {
                    return Err(ctx.err(
                        &format!("{p}.contact"),
                        format!("node {node} cannot record its own decommission; expected another node, or no contact"),
                    ));
                }
                Fault::Leave {
                    node: node_ref(&format!("{p}.node"), *node)?,
                    contact: contact.map(|c| node_ref(&format!("{p}.contact"), c)).transpose()?,
                }
            }
            RawFault::Slow { node, factor, .. } => {
                if !(1.0..=MAX_SLOWDOWN).contains(factor) {
                    return Err(ctx.err(
                        &format!("{p}.factor"),
                        format!("{factor} is out of range; expected a slowdown factor from 1 to 1000"),
                    ));
                }
                Fault::Slow { node: node_ref(&format!("{p}.node"), *node)?, factor: *factor }
            }
            RawFault::LossBurst { duration_ms, loss_probability, .. } => {
                let d = ms(ctx, &format!("{p}.duration_ms"), *duration_ms, false)?;
                let probability = probability(ctx, &format!("{p}.loss_probability"), *loss_probability)?;
                let id = 1 + out.len() as u32;
                out.push(ScheduledFault { at, fault: Fault::LossBurst { id, probability }, generated: false });
                let end = SimDuration(at.as_nanos().saturating_add(d.as_nanos()));
                out.push(ScheduledFault { at: end, fault: Fault::LossBurstEnd { id }, generated: false });
                continue;
            }
            RawFault::RollingRestart { nodes, down_ms, gap_ms, .. } => {
                let roll = RollingRestart { path: &p, nodes, down_ms: *down_ms, gap_ms: *gap_ms, at, end_ns };
                out.extend(rolling_restart(ctx, &roll, &node_ref, &joined_by, &never_joined)?);
                continue;
            }
            RawFault::ClockSkew { node, offset_ms, .. } => Fault::ClockSkew {
                node: node_ref(&format!("{p}.node"), *node)?,
                skew_ns: skew_ns(ctx, &format!("{p}.offset_ms"), *offset_ms)?,
            },
            RawFault::Repair { node, .. } => Fault::Repair { node: node.map(|n| node_ref(&format!("{p}.node"), n)).transpose()? },
            RawFault::Heal { name, .. } => Fault::Heal { id: healed_partition(ctx, &p, name, &names)?, name: name.clone() },
        };
        out.push(ScheduledFault { at, fault, generated: false });
    }
    out.sort_by_key(|f| f.at);
    ring_never_empties(ctx, raw, initial)?;
    Ok(out)
}

/// Joins and leaves in time order must leave at least one node in the ring: clients need a
/// node to send to, and a ring with no member has no preference list.
pub(super) fn ring_never_empties(ctx: &Ctx, raw: &[RawFault], initial: &[NodeId]) -> Result<(), ScenarioError> {
    let mut changes: Vec<(f64, usize)> = raw
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f, RawFault::Join { .. } | RawFault::Leave { .. }))
        .map(|(i, f)| (f.at_ms(), i))
        .collect();
    changes.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut members: Vec<u32> = initial.iter().map(|n| n.0).collect();
    for (at_ms, i) in changes {
        match &raw[i] {
            RawFault::Join { node, .. } if !members.contains(node) => members.push(*node),
            RawFault::Leave { node, .. } => {
                members.retain(|m| m != node);
                if members.is_empty() {
                    return Err(ctx.err(
                        &format!("faults.{i}.node"),
                        format!("node {node} leaves at {at_ms} ms and no node is left in the ring; expected at least one member to remain"),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A partition's name, unique among the partitions so far (a heal lifts the partition it
/// names); returns the partition's id, its number counted from one.
pub(super) fn partition_name(ctx: &Ctx, p: &str, name: &str, names: &mut Vec<String>) -> Result<u32, ScenarioError> {
    if let Some(first) = names.iter().position(|n| n == name) {
        return Err(ctx.err(
            &format!("{p}.name"),
            format!(
                "partition name \"{name}\" is already used by an earlier partition (partition #{}); expected a unique \
                 name, since a heal lifts the partition it names",
                first + 1
            ),
        ));
    }
    names.push(name.to_string());
    Ok(names.len() as u32)
}

/// The id of the earlier partition a heal names.
pub(super) fn healed_partition(ctx: &Ctx, p: &str, name: &str, names: &[String]) -> Result<u32, ScenarioError> {
    match names.iter().position(|n| n == name) {
        Some(i) => Ok(i as u32 + 1),
        None => {
            let mut m = format!("no partition named \"{name}\" comes before this heal");
            if let Some(s) = suggest(name, names.iter().map(String::as_str)) {
                m.push_str(&format!(" (did you mean \"{s}\"?)"));
            }
            Err(ctx.err(&format!("{p}.name"), m))
        }
    }
}

/// A partition's groups (at least two): existing nodes, each in one group only.
pub(super) fn partition_groups(
    ctx: &Ctx,
    p: &str,
    groups: &[Vec<u32>],
    node_ref: &dyn Fn(&str, u32) -> Result<NodeId, ScenarioError>,
) -> Result<Vec<Vec<NodeId>>, ScenarioError> {
    if groups.len() < 2 {
        return Err(ctx.err(&format!("{p}.groups"), "expected at least two groups of node ids, e.g. [[0, 1], [2, 3]]"));
    }
    let mut seen: Vec<u32> = Vec::new();
    let mut typed = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        let mut nodes = Vec::new();
        for (j, n) in group.iter().enumerate() {
            let id = node_ref(&format!("{p}.groups.{g}.{j}"), *n)?;
            if seen.contains(n) {
                return Err(
                    ctx.err(&format!("{p}.groups.{g}.{j}"), format!("node {n} is in two groups; expected disjoint groups"))
                );
            }
            seen.push(*n);
            nodes.push(id);
        }
        typed.push(nodes);
    }
    Ok(typed)
}

/// A `rolling_restart` fault as the file gives it, at its validated start time.
pub(super) struct RollingRestart<'a> {
    path: &'a str,
    nodes: &'a [u32],
    down_ms: f64,
    gap_ms: f64,
    at: SimDuration,
    end_ns: u64,
}

/// Expands a rolling restart into a crash and a restart per node, one after another.
pub(super) fn rolling_restart(
    ctx: &Ctx,
    roll: &RollingRestart,
    node_ref: &dyn Fn(&str, u32) -> Result<NodeId, ScenarioError>,
    joined_by: &dyn Fn(u32, f64) -> bool,
    never_joined: &dyn Fn(String, u32, f64) -> ScenarioError,
) -> Result<Vec<ScheduledFault>, ScenarioError> {
    let (p, end_ns) = (roll.path, roll.end_ns);
    let down = ms(ctx, &format!("{p}.down_ms"), roll.down_ms, false)?;
    let gap = ms(ctx, &format!("{p}.gap_ms"), roll.gap_ms, true)?;
    if roll.nodes.is_empty() {
        return Err(ctx.err(&format!("{p}.nodes"), "empty; expected the node ids to restart in order"));
    }
    let mut out = Vec::new();
    let mut t = roll.at;
    for (j, n) in roll.nodes.iter().enumerate() {
        let node = node_ref(&format!("{p}.nodes.{j}"), *n)?;
        let back = t.as_nanos().saturating_add(down.as_nanos());
        if !joined_by(*n, back as f64 / 1e6) {
            return Err(never_joined(format!("{p}.nodes.{j}"), *n, back as f64 / 1e6));
        }
        if back > end_ns {
            return Err(ctx.err(
                &format!("{p}.nodes.{j}"),
                "this restart would end after the run; expected the whole roll to fit in duration_ms + quiescent_tail_ms",
            ));
        }
        out.push(ScheduledFault { at: t, fault: Fault::Crash { node, lose_disk: false }, generated: false });
        out.push(ScheduledFault { at: SimDuration(back), fault: Fault::Restart(node), generated: false });
        t = SimDuration(back.saturating_add(gap.as_nanos()));
    }
    Ok(out)
}

/// `schedule`: the bounds a controlled schedule keeps to, and its choices.
pub(super) fn schedule(
    ctx: &Ctx,
    raw: Option<&RawSchedule>,
    nemesis: Option<&NemesisConfig>,
) -> Result<Option<ScheduleConfig>, ScenarioError> {
    let Some(raw) = raw else { return Ok(None) };
    let defaults = crate::sim::schedule::Bounds::default();
    let faults = raw.faults.unwrap_or(defaults.faults);
    if faults > 0 && nemesis.is_none_or(|n| n.kinds.is_empty()) {
        return Err(ctx.err("schedule.faults", "faults come from the nemesis menu; expected 0, or a nemesis section with kinds"));
    }
    let window_ms = raw.window_ms.unwrap_or(0.0);
    if !(window_ms.is_finite() && (0.0..=MAX_MS).contains(&window_ms)) {
        return Err(ctx.err("schedule.window_ms", format!("{window_ms} is out of range; expected 0 to {MAX_MS} ms")));
    }
    let bounds = crate::sim::schedule::Bounds {
        window: SimDuration::from_millis_f64(window_ms),
        reorders: raw.reorders.unwrap_or(defaults.reorders),
        drops: raw.drops.unwrap_or(defaults.drops),
        duplicates: raw.duplicates.unwrap_or(defaults.duplicates),
        faults,
        depth: raw.depth.unwrap_or(defaults.depth),
    };
    let choices = match &raw.choices {
        None => Vec::new(),
        Some(text) => crate::sim::schedule::parse_choices(text).map_err(|e| ctx.err("schedule.choices", e))?,
    };
    Ok(Some(ScheduleConfig { bounds, choices }))
}
