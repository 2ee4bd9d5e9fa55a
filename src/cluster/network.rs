//! The network model: a decision per message, not a loop.
//!
//! [`Network::route`] decides, when a message departs, whether it is lost and when it (and a
//! possible duplicate) arrives. Settings resolve per field from the most specific matching rule:
//! a rule naming nodes beats one naming datacenters, which beats one naming only message kinds,
//! which beats the global default; among equally specific rules the later one in the scenario
//! wins. Each message costs the network stream exactly one draw, so the stream's sequence does
//! not depend on the workload or on which distributions are configured.
//!
//! Partitions and crashes are checked when a message *arrives* ([`Network::is_cut`], and the
//! world's liveness check): a partition also cuts messages already in flight, and a message in
//! flight to a node that crashes is lost. Clients sit outside partitions unless the scenario
//! places them with a node.

use crate::sim::distribution::Distribution;
use crate::sim::engine::{SimDuration, SimTime};
use crate::sim::fastmap::FastMap;
use crate::sim::ids::{ClientId, Endpoint, NodeId};
use crate::sim::rng::{chance, Draw, SimRng, SplitMix};

/// Every kind of message, in report order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageKind {
    ClientRequest,
    ClientReply,
    Forward,
    GetRequest,
    GetReply,
    PutRequest,
    PutAck,
    ReadRepair,
    Hint,
    HintAck,
    Reap,
    Ping,
    Pong,
    Gossip,
    AntiEntropy,
    Transfer,
    TransferAck,
}

impl MessageKind {
    pub const ALL: [MessageKind; 17] = [
        MessageKind::ClientRequest,
        MessageKind::ClientReply,
        MessageKind::Forward,
        MessageKind::GetRequest,
        MessageKind::GetReply,
        MessageKind::PutRequest,
        MessageKind::PutAck,
        MessageKind::ReadRepair,
        MessageKind::Hint,
        MessageKind::HintAck,
        MessageKind::Reap,
        MessageKind::Ping,
        MessageKind::Pong,
        MessageKind::Gossip,
        MessageKind::AntiEntropy,
        MessageKind::Transfer,
        MessageKind::TransferAck,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MessageKind::ClientRequest => "client_request",
            MessageKind::ClientReply => "client_reply",
            MessageKind::Forward => "forward",
            MessageKind::GetRequest => "get_request",
            MessageKind::GetReply => "get_reply",
            MessageKind::PutRequest => "put_request",
            MessageKind::PutAck => "put_ack",
            MessageKind::ReadRepair => "read_repair",
            MessageKind::Hint => "hint",
            MessageKind::HintAck => "hint_ack",
            MessageKind::Reap => "reap",
            MessageKind::Ping => "ping",
            MessageKind::Pong => "pong",
            MessageKind::Gossip => "gossip",
            MessageKind::AntiEntropy => "anti_entropy",
            MessageKind::Transfer => "transfer",
            MessageKind::TransferAck => "transfer_ack",
        }
    }

    pub fn from_name(name: &str) -> Option<MessageKind> {
        MessageKind::ALL.iter().copied().find(|k| k.name() == name)
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Settings for one message after resolution.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkSettings {
    pub latency: Distribution,
    pub loss_probability: f64,
    pub duplicate_probability: f64,
}

/// An override: which messages it matches and which fields it sets.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkRule {
    pub from_node: Option<NodeId>,
    pub to_node: Option<NodeId>,
    pub from_datacenter: Option<u16>,
    pub to_datacenter: Option<u16>,
    /// Empty matches every kind.
    pub kinds: Vec<MessageKind>,
    pub latency: Option<Distribution>,
    pub loss_probability: Option<f64>,
    pub duplicate_probability: Option<f64>,
}

impl LinkRule {
    fn specificity(&self) -> u32 {
        let nodes = self.from_node.is_some() as u32 + self.to_node.is_some() as u32;
        let dcs = self.from_datacenter.is_some() as u32 + self.to_datacenter.is_some() as u32;
        nodes * 16 + dcs * 4 + (!self.kinds.is_empty()) as u32
    }
}

/// What happens to one message.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Lost,
    Deliver(SimTime),
    /// Delivered twice: the original and a duplicate.
    Duplicate(SimTime, SimTime),
}

/// The static description of the network, from the scenario.
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    pub default: LinkSettings,
    /// Rules sorted by specificity (stable, so file order breaks ties).
    pub rules: Vec<LinkRule>,
    pub fifo_per_link: bool,
}

/// A directed cut: messages from any node in `from` to any node in `to` are dropped.
#[derive(Clone, Debug)]
struct Cut {
    from: Vec<bool>,
    to: Vec<bool>,
}

/// Faults in force (cuts, loss bursts), in the order they started, each under the id that
/// lifts it. Lifting costs O(log n) amortised, not a pass over every fault in force: a
/// nemesis with 10^5 partitions open at once heals each in constant time.
#[derive(Clone, Debug)]
struct InForce<T> {
    items: Vec<Option<(u32, T)>>,
    /// Where each id's items sit in `items`.
    at: std::collections::BTreeMap<u32, Vec<usize>>,
    live: usize,
}

impl<T> Default for InForce<T> {
    fn default() -> Self {
        InForce { items: Vec::new(), at: Default::default(), live: 0 }
    }
}

impl<T> InForce<T> {
    fn push(&mut self, id: u32, item: T) {
        self.at.entry(id).or_default().push(self.items.len());
        self.items.push(Some((id, item)));
        self.live += 1;
    }

    /// Lifts every item with this id; false if there was none.
    fn remove(&mut self, id: u32) -> bool {
        let Some(places) = self.at.remove(&id) else { return false };
        for p in places {
            self.items[p] = None;
            self.live -= 1;
        }
        // Compact once the holes outnumber the items, keeping the order.
        if self.items.len() > 2 * self.live + 16 {
            self.items.retain(Option::is_some);
            self.at.clear();
            for (p, (id, _)) in self.items.iter().flatten().enumerate() {
                self.at.entry(*id).or_default().push(p);
            }
        }
        true
    }

    fn is_empty(&self) -> bool {
        self.live == 0
    }

    fn iter(&self) -> impl Iterator<Item = &(u32, T)> {
        self.items.iter().flatten()
    }
}

/// Client `c`'s datacenter when clients are spread over `datacenters` in turn.
pub fn client_datacenter(datacenters: &[u16], c: ClientId) -> Option<u16> {
    (!datacenters.is_empty()).then(|| datacenters[c.index() % datacenters.len()])
}

pub struct Network {
    config: NetworkConfig,
    rng: SimRng,
    node_datacenter: Vec<u16>,
    /// Client i's datacenter is entry i mod the length; empty: clients are in none.
    client_datacenters: Vec<u16>,
    /// Latency multiplier for messages a node sends (the slow-node fault).
    slow_factor: Vec<f64>,
    last_arrival: FastMap<(Endpoint, Endpoint), SimTime>,
    cuts: InForce<Cut>,
    /// Set when any rule or default needs more than the global settings.
    has_rules: bool,
    /// The first latency samples drawn, in draw order: lets tests show that the network's
    /// randomness does not depend on the workload.
    first_delays: Vec<u64>,
    clients_with_nodes: bool,
    /// Loss bursts in force: (id, probability); loss is at least the largest.
    bursts: InForce<f64>,
}

/// How many latency samples [`Network::first_delays`] keeps.
pub const DELAY_FINGERPRINT_LEN: usize = 256;

impl Network {
    pub fn new(mut config: NetworkConfig, rng: SimRng, node_datacenter: Vec<u16>, client_datacenters: Vec<u16>) -> Network {
        config.rules.sort_by_key(|r| r.specificity());
        let has_rules = !config.rules.is_empty();
        let n = node_datacenter.len();
        Network {
            config,
            rng,
            node_datacenter,
            client_datacenters,
            slow_factor: vec![1.0; n],
            last_arrival: FastMap::default(),
            cuts: InForce::default(),
            has_rules,
            first_delays: Vec::new(),
            clients_with_nodes: false,
            bursts: InForce::default(),
        }
    }

    pub fn set_slow_factor(&mut self, node: NodeId, factor: f64) {
        if let Some(f) = self.slow_factor.get_mut(node.index()) {
            *f = factor;
        }
    }

    pub fn first_delays(&self) -> &[u64] {
        &self.first_delays
    }

    pub fn slow_factor(&self, node: NodeId) -> f64 {
        self.slow_factor.get(node.index()).copied().unwrap_or(1.0)
    }

    fn datacenter(&self, e: Endpoint) -> Option<u16> {
        match e {
            Endpoint::Node(n) => self.node_datacenter.get(n.index()).copied(),
            Endpoint::Client(c) => client_datacenter(&self.client_datacenters, c),
        }
    }

    fn matches(&self, rule: &LinkRule, from: Endpoint, to: Endpoint, kind: MessageKind) -> bool {
        let node_ok = |want: Option<NodeId>, e: Endpoint| want.is_none_or(|n| e == Endpoint::Node(n));
        let dc_ok = |want: Option<u16>, e: Endpoint| want.is_none_or(|d| self.datacenter(e) == Some(d));
        node_ok(rule.from_node, from)
            && node_ok(rule.to_node, to)
            && dc_ok(rule.from_datacenter, from)
            && dc_ok(rule.to_datacenter, to)
            && (rule.kinds.is_empty() || rule.kinds.contains(&kind))
    }

    /// The settings for one message, each field from the most specific rule that sets it.
    fn resolve(&self, from: Endpoint, to: Endpoint, kind: MessageKind) -> (&Distribution, f64, f64) {
        let d = &self.config.default;
        let (mut latency, mut loss, mut dup) = (&d.latency, d.loss_probability, d.duplicate_probability);
        if self.has_rules {
            // Rules are sorted by specificity, so later matches override earlier ones.
            for rule in &self.config.rules {
                if !self.matches(rule, from, to, kind) {
                    continue;
                }
                if let Some(l) = &rule.latency {
                    latency = l;
                }
                if let Some(p) = rule.loss_probability {
                    loss = p;
                }
                if let Some(p) = rule.duplicate_probability {
                    dup = p;
                }
            }
        }
        (latency, loss, dup)
    }

    /// Decides the fate of a message departing at `depart`.
    pub fn route(&mut self, depart: SimTime, from: Endpoint, to: Endpoint, kind: MessageKind) -> Route {
        let mut draw = SplitMix(self.rng.next_word());
        let (latency, mut loss, dup) = self.resolve(from, to, kind);
        for &(_, p) in self.bursts.iter() {
            loss = loss.max(p);
        }
        let lost = chance(&mut draw, loss);
        let duplicated = chance(&mut draw, dup);
        let mut delay = latency.sample(&mut draw);
        // Drawn last from this message's own stream, so only duplicates need pay for it.
        let second_delay = duplicated.then(|| latency.sample(&mut draw));
        if self.first_delays.len() < DELAY_FINGERPRINT_LEN {
            self.first_delays.push(delay.as_nanos());
        }
        if lost {
            return Route::Lost;
        }
        if let Endpoint::Node(n) = from {
            let f = self.slow_factor(n);
            if f != 1.0 {
                delay = SimDuration((delay.0 as f64 * f) as u64);
            }
        }
        let mut at = depart.after(delay);
        if self.config.fifo_per_link {
            let last = self.last_arrival.entry((from, to)).or_insert(SimTime::ZERO);
            at = at.max(*last);
            *last = at;
        }
        match second_delay {
            Some(second) => Route::Duplicate(at, depart.after(second).max(at)),
            None => Route::Deliver(at),
        }
    }

    /// Starts dropping messages from `from` nodes to `to` nodes, under a cut id for healing.
    pub fn cut(&mut self, id: u32, from: &[NodeId], to: &[NodeId]) {
        let n = self.node_datacenter.len();
        let set = |nodes: &[NodeId]| {
            let mut v = vec![false; n];
            for x in nodes {
                if let Some(slot) = v.get_mut(x.index()) {
                    *slot = true;
                }
            }
            v
        };
        self.cuts.push(id, Cut { from: set(from), to: set(to) });
    }

    pub fn start_loss_burst(&mut self, id: u32, probability: f64) {
        self.bursts.push(id, probability);
    }

    /// Ends a loss burst; false if it was not in force.
    pub fn end_loss_burst(&mut self, id: u32) -> bool {
        self.bursts.remove(id)
    }

    /// Removes every cut with this id; false if there was none.
    pub fn heal(&mut self, id: u32) -> bool {
        self.cuts.remove(id)
    }

    pub fn is_cut(&self, from: Endpoint, to: Endpoint) -> bool {
        self.cut_by(from, to).is_some()
    }

    /// Places each client with a home node: partitions then cut a client off from the nodes its
    /// home node is cut off from (client i lives with node i mod the node count).
    pub fn place_clients_with_nodes(&mut self) {
        self.clients_with_nodes = true;
    }

    fn home(&self, e: Endpoint) -> Endpoint {
        match e {
            Endpoint::Client(c) if self.clients_with_nodes && !self.node_datacenter.is_empty() => {
                Endpoint::Node(NodeId(c.0 % self.node_datacenter.len() as u32))
            }
            other => other,
        }
    }

    /// The id of a cut that drops messages from `from` to `to`, if any.
    pub fn cut_by(&self, from: Endpoint, to: Endpoint) -> Option<u32> {
        if self.cuts.is_empty() {
            return None; // every delivery asks; most runs have no partition in force
        }
        let (from, to) = (self.home(from), self.home(to));
        if from == to {
            return None;
        }
        match (from, to) {
            (Endpoint::Node(a), Endpoint::Node(b)) => self
                .cuts
                .iter()
                .find(|(_, c)| c.from.get(a.index()).copied().unwrap_or(false) && c.to.get(b.index()).copied().unwrap_or(false))
                .map(|(id, _)| *id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Seeds, Stream};

    fn net(rules: Vec<LinkRule>, fifo: bool) -> Network {
        let config = NetworkConfig {
            default: LinkSettings {
                latency: Distribution::Constant { ms: 1.0 },
                loss_probability: 0.0,
                duplicate_probability: 0.0,
            },
            rules,
            fifo_per_link: fifo,
        };
        Network::new(config, Seeds::new(1).stream(Stream::Network, 0), vec![0, 0, 1, 1], vec![0])
    }

    fn n(i: u32) -> Endpoint {
        Endpoint::Node(NodeId(i))
    }

    fn arrival(r: Route) -> f64 {
        match r {
            Route::Deliver(t) => t.as_millis_f64(),
            other => panic!("expected delivery, got {other:?}"),
        }
    }

    #[test]
    fn the_most_specific_rule_wins_per_field() {
        let rules = vec![
            LinkRule {
                kinds: vec![MessageKind::GetRequest],
                latency: Some(Distribution::Constant { ms: 5.0 }),
                ..Default::default()
            },
            LinkRule {
                from_datacenter: Some(0),
                to_datacenter: Some(1),
                latency: Some(Distribution::Constant { ms: 50.0 }),
                ..Default::default()
            },
            LinkRule {
                from_node: Some(NodeId(0)),
                to_node: Some(NodeId(3)),
                latency: Some(Distribution::Constant { ms: 7.0 }),
                ..Default::default()
            },
        ];
        let mut net = net(rules, false);
        let t0 = SimTime::ZERO;
        assert_eq!(arrival(net.route(t0, n(0), n(1), MessageKind::PutRequest)), 1.0);
        assert_eq!(arrival(net.route(t0, n(0), n(1), MessageKind::GetRequest)), 5.0);
        assert_eq!(arrival(net.route(t0, n(1), n(2), MessageKind::GetRequest)), 50.0, "dc pair beats kind");
        assert_eq!(arrival(net.route(t0, n(0), n(3), MessageKind::GetRequest)), 7.0, "link beats dc pair");
    }

    #[test]
    fn loss_and_duplication_happen_at_their_rates() {
        let rules = vec![LinkRule { loss_probability: Some(0.25), duplicate_probability: Some(0.1), ..Default::default() }];
        let mut net = net(rules, false);
        let (mut lost, mut dup) = (0, 0);
        for _ in 0..20_000 {
            match net.route(SimTime::ZERO, n(0), n(1), MessageKind::PutRequest) {
                Route::Lost => lost += 1,
                Route::Duplicate(..) => dup += 1,
                Route::Deliver(_) => {}
            }
        }
        assert!((lost as f64 / 20_000.0 - 0.25).abs() < 0.02, "lost {lost}");
        assert!((dup as f64 / 15_000.0 - 0.1).abs() < 0.02, "duplicated {dup}");
    }

    #[test]
    fn fifo_option_keeps_per_link_order() {
        let rules =
            vec![LinkRule { latency: Some(Distribution::Exponential { mean_ms: 10.0, offset_ms: 0.0 }), ..Default::default() }];
        let mut free = net(rules.clone(), false);
        let mut fifo = net(rules, true);
        let (mut overtakes, mut last_free, mut last_fifo) = (0, 0.0, 0.0);
        for i in 0..1000 {
            let depart = SimTime(i * 100_000);
            let a = arrival(free.route(depart, n(0), n(1), MessageKind::PutRequest));
            let b = arrival(fifo.route(depart, n(0), n(1), MessageKind::PutRequest));
            if a < last_free {
                overtakes += 1;
            }
            assert!(b >= last_fifo, "fifo link reordered");
            last_free = a;
            last_fifo = b;
        }
        assert!(overtakes > 0, "independent delays should let messages overtake");
    }

    #[test]
    fn one_way_cut_drops_one_direction_until_healed() {
        let mut net = net(vec![], false);
        net.cut(1, &[NodeId(0)], &[NodeId(2), NodeId(3)]);
        assert!(net.is_cut(n(0), n(2)));
        assert!(!net.is_cut(n(2), n(0)));
        assert!(!net.is_cut(n(1), n(2)));
        net.heal(1);
        assert!(!net.is_cut(n(0), n(2)));
    }

    #[test]
    fn slow_node_stretches_what_it_sends() {
        let mut net = net(vec![], false);
        net.set_slow_factor(NodeId(1), 10.0);
        assert_eq!(arrival(net.route(SimTime::ZERO, n(1), n(0), MessageKind::GetReply)), 10.0);
        assert_eq!(arrival(net.route(SimTime::ZERO, n(0), n(1), MessageKind::GetRequest)), 1.0);
    }
}
