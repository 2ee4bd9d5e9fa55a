//! `cluster` and `ring`: the nodes, their datacenters, capacity and slow nodes, and how tokens are placed.

use super::*;

/// The validated `cluster` section, and lookups of the nodes and datacenters it declares.
pub(super) struct ClusterSection {
    pub(super) node_count: u32,
    pub(super) datacenters: Vec<String>,
    pub(super) nodes: Vec<NodeSpec>,
    pub(super) initial_members: Vec<NodeId>,
    pub(super) service_time: Distribution,
    pub(super) capacity: crate::scenario::capacity::Capacity,
    pub(super) slow_nodes: Vec<(NodeId, f64)>,
}

impl ClusterSection {
    pub(super) fn node(&self, ctx: &Ctx, path: &str, n: u32) -> Result<NodeId, ScenarioError> {
        node_id(ctx, self.node_count, path, n)
    }

    pub(super) fn dc_index(&self, ctx: &Ctx, path: &str, name: &str) -> Result<u16, ScenarioError> {
        datacenter_index(ctx, &self.datacenters, path, name)
    }
}

pub(super) fn datacenter_index(ctx: &Ctx, datacenters: &[String], path: &str, name: &str) -> Result<u16, ScenarioError> {
    match datacenters.iter().position(|d| d == name) {
        Some(i) => Ok(i as u16),
        None => {
            let mut m = format!("unknown datacenter \"{name}\"; expected one of {}", datacenters.join(", "));
            if let Some(s) = suggest(name, datacenters.iter().map(String::as_str)) {
                m.push_str(&format!(" (did you mean \"{s}\"?)"));
            }
            Err(ctx.err(path, m))
        }
    }
}

/// `cluster`: nodes, datacenters, per-node overrides, initial members, service times.
pub(super) fn cluster(ctx: &Ctx, c: &RawCluster) -> Result<ClusterSection, ScenarioError> {
    let node_count = c.nodes.unwrap_or(8);
    if node_count == 0 || node_count > 100_000 {
        return Err(ctx.err("cluster.nodes", format!("{node_count} is out of range; expected 1 to 100000")));
    }
    let datacenters = c.datacenters.clone().unwrap_or_else(|| vec!["dc1".to_string()]);
    if datacenters.is_empty() || datacenters.len() > 16 {
        return Err(ctx.err("cluster.datacenters", "expected a list of 1 to 16 datacenter names"));
    }
    let dc_index = |path: &str, name: &str| datacenter_index(ctx, &datacenters, path, name);
    let dcs = datacenters.len() as u32;
    let mut nodes: Vec<NodeSpec> = (0..node_count)
        .map(|i| NodeSpec { datacenter: (i % dcs) as u16, weight: 1.0, clock_skew_ns: 0, capacity_factor: 1.0 })
        .collect();
    let node_ref = |path: &str, n: u32| node_id(ctx, node_count, path, n);
    for (i, o) in c.node_overrides.iter().enumerate() {
        let p = format!("cluster.node_overrides.{i}");
        let id = node_ref(&format!("{p}.node"), o.node)?;
        let spec = &mut nodes[id.index()];
        if let Some(w) = o.weight {
            spec.weight = positive_weight(ctx, &format!("{p}.weight"), w)?;
        }
        if let Some(dc) = &o.datacenter {
            spec.datacenter = dc_index(&format!("{p}.datacenter"), dc)?;
        }
        if let Some(skew) = o.clock_skew_ms {
            spec.clock_skew_ns = skew_ns(ctx, &format!("{p}.clock_skew_ms"), skew)?;
        }
        if let Some(f) = o.capacity_factor {
            if !(f.is_finite() && (0.01..=1000.0).contains(&f)) {
                return Err(ctx.err(&format!("{p}.capacity_factor"), format!("{f} is out of range; expected 0.01 to 1000")));
            }
            spec.capacity_factor = f;
        }
    }
    let initial_members = match &c.initial_members {
        None => (0..node_count).map(NodeId).collect(),
        Some(list) => {
            let mut out: Vec<NodeId> = Vec::new();
            for (i, n) in list.iter().enumerate() {
                let id = node_ref(&format!("cluster.initial_members.{i}"), *n)?;
                if !out.contains(&id) {
                    out.push(id);
                }
            }
            out.sort();
            if out.is_empty() {
                return Err(ctx.err("cluster.initial_members", "empty; expected at least one node to start the ring"));
            }
            out
        }
    };
    let service_time = match &c.service_time {
        Some(d) => distribution(ctx, "cluster.service_time", d)?,
        None => Distribution::ZERO,
    };
    let mut slow_nodes = Vec::new();
    for (i, s) in c.slow_nodes.iter().enumerate() {
        let p = format!("cluster.slow_nodes.{i}");
        let id = node_ref(&format!("{p}.node"), s.node)?;
        if !(1.0..=MAX_SLOWDOWN).contains(&s.factor) {
            return Err(ctx.err(
                &format!("{p}.factor"),
                format!("{} is out of range; expected a slowdown factor from 1 to 1000", s.factor),
            ));
        }
        slow_nodes.push((id, s.factor));
    }

    let capacity = crate::scenario::capacity::capacity(ctx, c.capacity.as_ref())?;
    Ok(ClusterSection { node_count, datacenters, nodes, initial_members, service_time, capacity, slow_nodes })
}

/// `ring`: the partitioning strategy, tokens per node and partitions.
pub(super) fn ring(ctx: &Ctx, rr: &RawRing, node_count: u32) -> Result<Strategy, ScenarioError> {
    let tokens = rr.tokens_per_node.unwrap_or(8);
    if tokens == 0 || tokens > 4096 {
        return Err(ctx.err("ring.tokens_per_node", format!("{tokens} is out of range; expected 1 to 4096")));
    }
    let partitions = rr.partitions.unwrap_or((node_count * tokens).next_power_of_two().max(64));
    if rr.strategy != RawStrategy::RandomTokens && (partitions < node_count || partitions > 1 << 22) {
        return Err(ctx.err(
            "ring.partitions",
            format!("{partitions} is out of range; expected from the node count ({node_count}) to 4194304"),
        ));
    }
    Ok(match rr.strategy {
        RawStrategy::RandomTokens => Strategy::RandomTokens { tokens_per_node: tokens },
        RawStrategy::RandomTokensEqualPartitions => Strategy::RandomTokensEqualPartitions { tokens_per_node: tokens, partitions },
        RawStrategy::EqualPartitions => Strategy::EqualPartitions { partitions },
    })
}
