//! `network`: latency, loss and the per-link rules between datacenters and nodes.

use super::*;

/// `network`: the default link and per-link or per-kind rules.
pub(super) fn network(ctx: &Ctx, rn: &RawNetwork, cluster: &ClusterSection) -> Result<NetworkConfig, ScenarioError> {
    let default = LinkSettings {
        latency: match &rn.latency {
            Some(d) => distribution(ctx, "network.latency", d)?,
            None => Distribution::Exponential { mean_ms: 1.0, offset_ms: 0.2 },
        },
        loss_probability: probability(ctx, "network.loss_probability", rn.loss_probability.unwrap_or(0.0))?,
        duplicate_probability: probability(ctx, "network.duplicate_probability", rn.duplicate_probability.unwrap_or(0.0))?,
    };
    let mut rules = Vec::new();
    for (i, rule) in rn.rules.iter().enumerate() {
        let p = format!("network.rules.{i}");
        let mut kinds = Vec::new();
        for (j, k) in rule.kinds.iter().enumerate() {
            match MessageKind::from_name(k) {
                Some(kind) => kinds.push(kind),
                None => {
                    let names = MessageKind::ALL.map(|k| k.name());
                    let mut m = format!("unknown message kind \"{k}\"; expected one of {}", names.join(", "));
                    if let Some(s) = suggest(k, names) {
                        m.push_str(&format!(" (did you mean \"{s}\"?)"));
                    }
                    return Err(ctx.err(&format!("{p}.kinds.{j}"), m));
                }
            }
        }
        rules.push(LinkRule {
            from_node: rule.from_node.map(|n| cluster.node(ctx, &format!("{p}.from_node"), n)).transpose()?,
            to_node: rule.to_node.map(|n| cluster.node(ctx, &format!("{p}.to_node"), n)).transpose()?,
            from_datacenter: rule
                .from_datacenter
                .as_deref()
                .map(|d| cluster.dc_index(ctx, &format!("{p}.from_datacenter"), d))
                .transpose()?,
            to_datacenter: rule
                .to_datacenter
                .as_deref()
                .map(|d| cluster.dc_index(ctx, &format!("{p}.to_datacenter"), d))
                .transpose()?,
            kinds,
            latency: rule.latency.as_ref().map(|d| distribution(ctx, &format!("{p}.latency"), d)).transpose()?,
            loss_probability: rule.loss_probability.map(|x| probability(ctx, &format!("{p}.loss_probability"), x)).transpose()?,
            duplicate_probability: rule
                .duplicate_probability
                .map(|x| probability(ctx, &format!("{p}.duplicate_probability"), x))
                .transpose()?,
        });
    }
    Ok(NetworkConfig { default, rules, fifo_per_link: rn.fifo_per_link })
}
