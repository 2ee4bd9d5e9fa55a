//! `workload` and `probe`: clients, keys, values, arrivals and the consistency levels they ask for.

use super::*;

/// `workload`: keys and their popularity, the value model, arrivals and client timeouts.
/// `workload.get_consistency` or `put_consistency`: level names with probabilities summing to 1.
pub(super) fn level_mix(ctx: &Ctx, path: &str, raw: Option<&BTreeMap<String, f64>>, n: usize) -> Result<LevelMix, ScenarioError> {
    let Some(raw) = raw else { return Ok(LevelMix::default()) };
    let names = || ConsistencyLevel::EVERY.map(|l| l.name()).join(", ");
    if raw.is_empty() {
        return Err(ctx.err(
            path,
            format!("empty; expected levels with probabilities, e.g. {{\"QUORUM\": 0.9, \"ONE\": 0.1}}, from {}", names()),
        ));
    }
    let mut weights = Vec::new();
    for (name, &p) in raw {
        let field = format!("{path}.{name}");
        let Some(level) = ConsistencyLevel::from_name(name) else {
            return Err(ctx.err(&field, format!("unknown consistency level; expected one of {}", names())));
        };
        if !(p.is_finite() && p > 0.0 && p <= 1.0) {
            return Err(ctx.err(&field, format!("{p} is out of range; expected a probability in (0, 1]")));
        }
        if level.fixed_count().is_some_and(|c| c > n) {
            return Err(ctx.err(&field, format!("{name} asks for more replicas than protocol.n = {n}")));
        }
        weights.push((level, p));
    }
    let total: f64 = weights.iter().map(|(_, p)| p).sum();
    if (total - 1.0).abs() > 1e-9 {
        return Err(ctx.err(path, format!("the probabilities sum to {total}; expected 1")));
    }
    weights.sort_by_key(|(l, _)| *l);
    Ok(LevelMix::new(&weights))
}

pub(super) fn workload(ctx: &Ctx, rw: &RawWorkload, clients_placed: bool, n: usize) -> Result<WorkloadConfig, ScenarioError> {
    let key_count = rw.keys.unwrap_or(1000);
    if key_count == 0 || key_count > 50_000_000 {
        return Err(ctx.err("workload.keys", format!("{key_count} is out of range; expected 1 to 50000000")));
    }
    let popularity = popularity(ctx, rw.popularity.clone().unwrap_or(RawPopularity::Uniform))?;
    let value_model = match rw.value.clone().unwrap_or(RawValue::Register { read_before_write: true }) {
        RawValue::Register { read_before_write } => ValueModel::Register { read_before_write },
        RawValue::Cart { remove_probability, merge } => ValueModel::Cart {
            remove_probability: probability(ctx, "workload.value.remove_probability", remove_probability)?,
            merge: match merge {
                RawCartMerge::Union => CartMerge::Union,
                RawCartMerge::ObservedRemove => CartMerge::ObservedRemove,
            },
        },
    };
    let value_bytes = rw.value_bytes.as_ref().map_or(Ok(ValueBytes::DEFAULT), |raw| value_bytes(ctx, raw))?;
    let arrivals = rw.arrivals.as_ref().map_or(Ok(Arrivals::DEFAULT_CLOSED), |raw| arrivals(ctx, raw))?;
    let read_fraction = probability(ctx, "workload.read_fraction", rw.read_fraction.unwrap_or(0.5))?;
    let delete_fraction = probability(ctx, "workload.delete_fraction", rw.delete_fraction.unwrap_or(0.0))?;
    if read_fraction + delete_fraction > 1.0 + 1e-9 {
        return Err(ctx.err(
            "workload.delete_fraction",
            format!(
                "{delete_fraction} with a read_fraction of {read_fraction} is over 1; expected at most {}",
                1.0 - read_fraction
            ),
        ));
    }
    if delete_fraction > 0.0 && matches!(value_model, ValueModel::Cart { .. }) {
        return Err(ctx.err("workload.delete_fraction", "deletes need the register value model; a cart removes items instead"));
    }
    Ok(WorkloadConfig {
        key_count,
        popularity,
        read_fraction,
        delete_fraction,
        value_model,
        value_bytes,
        arrivals,
        client_timeout: ms(ctx, "workload.client_timeout_ms", rw.client_timeout_ms.unwrap_or(2000.0), false)?,
        avoid_after_timeout: ms(ctx, "workload.avoid_after_timeout_ms", rw.avoid_after_timeout_ms.unwrap_or(1000.0), true)?,
        client_semantics: match rw.client_semantics {
            RawClientSemantics::Session => ClientSemantics::Session,
            RawClientSemantics::ReadModifyWrite => ClientSemantics::ReadModifyWrite,
            RawClientSemantics::Blind => ClientSemantics::Blind,
        },
        key_lock: rw.key_lock,
        get_levels: level_mix(ctx, "workload.get_consistency", rw.get_consistency.as_ref(), n)?,
        put_levels: level_mix(ctx, "workload.put_consistency", rw.put_consistency.as_ref(), n)?,
        local_coordinators: match (rw.local_datacenter_coordinators, clients_placed) {
            (true, false) => {
                return Err(ctx.err(
                    "workload.local_datacenter_coordinators",
                    "needs workload.client_datacenter: the datacenter (or datacenters) whose nodes the clients send to",
                ))
            }
            (local, _) => local,
        },
        client_ring_refresh: ms(ctx, "workload.client_ring_refresh_ms", rw.client_ring_refresh_ms.unwrap_or(10_000.0), true)?,
        client_retries: match rw.client_retries.unwrap_or(0) {
            r @ 0..=10 => r as u8,
            r => return Err(ctx.err("workload.client_retries", format!("{r} is out of range; expected 0 to 10"))),
        },
        session_keys_per_client: match rw.session_keys_per_client.unwrap_or(DEFAULT_SESSION_KEYS_PER_CLIENT) {
            k @ 1..=MAX_SESSION_KEYS_PER_CLIENT => k as usize,
            k => {
                return Err(ctx.err(
                    "workload.session_keys_per_client",
                    format!("{k} is out of range; expected 1 to {MAX_SESSION_KEYS_PER_CLIENT}"),
                ))
            }
        },
    })
}

/// `workload.popularity`: which keys the clients pick.
fn popularity(ctx: &Ctx, raw: RawPopularity) -> Result<KeyPopularity, ScenarioError> {
    Ok(match raw {
        RawPopularity::Uniform => KeyPopularity::Uniform,
        RawPopularity::Zipf { exponent } => {
            if !(exponent.is_finite() && exponent > 0.0) {
                return Err(ctx.err("workload.popularity.exponent", format!("{exponent} is out of range; expected a number > 0")));
            }
            KeyPopularity::Zipf { exponent }
        }
        RawPopularity::HotSet { key_fraction, access_fraction } => {
            if !(key_fraction > 0.0 && key_fraction <= 1.0) {
                return Err(ctx.err(
                    "workload.popularity.key_fraction",
                    format!("{key_fraction} is out of range; expected a fraction in (0, 1]"),
                ));
            }
            KeyPopularity::HotSet {
                key_fraction,
                access_fraction: probability(ctx, "workload.popularity.access_fraction", access_fraction)?,
            }
        }
    })
}

/// `workload.value_bytes`: how large a value is.
fn value_bytes(ctx: &Ctx, raw: &RawValueBytes) -> Result<ValueBytes, ScenarioError> {
    Ok(match raw {
        RawValueBytes::Constant { bytes } => {
            if !(bytes.is_finite() && (0.0..=ValueBytes::MAX as f64).contains(bytes)) {
                return Err(ctx.err(
                    "workload.value_bytes.bytes",
                    format!("{bytes} is out of range; expected 0 to {} (1 MiB)", ValueBytes::MAX),
                ));
            }
            ValueBytes::Constant(bytes.round() as u32)
        }
        RawValueBytes::Lognormal { median_bytes, sigma } => {
            if !(median_bytes.is_finite() && *median_bytes >= 1.0 && *median_bytes <= ValueBytes::MAX as f64) {
                return Err(ctx.err(
                    "workload.value_bytes.median_bytes",
                    format!("{median_bytes} is out of range; expected 1 to {} (1 MiB)", ValueBytes::MAX),
                ));
            }
            if !(sigma.is_finite() && (0.0..=4.0).contains(sigma)) {
                return Err(ctx.err("workload.value_bytes.sigma", format!("{sigma} is out of range; expected 0 to 4")));
            }
            ValueBytes::LogNormal { median: *median_bytes, sigma: *sigma }
        }
    })
}

/// `workload.arrivals`: closed-loop clients with think times, or an open arrival rate.
fn arrivals(ctx: &Ctx, raw: &RawArrivals) -> Result<Arrivals, ScenarioError> {
    Ok(match raw {
        RawArrivals::Closed { clients, think_time } => {
            if *clients > 1_000_000 {
                return Err(ctx.err("workload.arrivals.clients", format!("{clients} is out of range; expected 0 to 1000000")));
            }
            Arrivals::Closed { clients: *clients, think_time: distribution(ctx, "workload.arrivals.think_time", think_time)? }
        }
        RawArrivals::Open { rate_per_s, clients, profile } => {
            // One arrival per nanosecond is the clock's resolution.
            if !(rate_per_s.is_finite() && *rate_per_s > 0.0 && *rate_per_s <= 1e9) {
                return Err(ctx.err(
                    "workload.arrivals.rate_per_s",
                    format!("{rate_per_s} is out of range; expected a rate > 0 per second, at most 1e9"),
                ));
            }
            if *clients == 0 || *clients > 1_000_000 {
                return Err(ctx.err("workload.arrivals.clients", format!("{clients} is out of range; expected 1 to 1000000")));
            }
            let profile = profile.as_ref().map(|p| rate_profile(ctx, p)).transpose()?;
            if let Some(p) = &profile {
                if rate_per_s * p.max_factor() > 1e9 {
                    return Err(ctx.err(
                        "workload.arrivals.profile",
                        format!("peaks at {} per second; expected at most 1e9", rate_per_s * p.max_factor()),
                    ));
                }
            }
            Arrivals::Open { rate_per_s: *rate_per_s, clients: *clients, profile }
        }
    })
}

/// `probe`: write-then-read probes for t-visibility.
pub(super) fn probe(ctx: &Ctx, raw: Option<&RawProbe>) -> Result<Option<ProbeConfig>, ScenarioError> {
    Ok(match raw {
        None => None,
        Some(p) => {
            if p.delays_ms.is_empty() {
                return Err(ctx.err("probe.delays_ms", "empty; expected a list of delays in milliseconds, e.g. [0, 1, 5, 10]"));
            }
            let mut delays = Vec::new();
            for (i, d) in p.delays_ms.iter().enumerate() {
                delays.push(ms(ctx, &format!("probe.delays_ms.{i}"), *d, true)?);
            }
            let clients = p.clients.unwrap_or(1);
            if clients == 0 || clients > 10_000 {
                return Err(ctx.err("probe.clients", format!("{clients} is out of range; expected 1 to 10000")));
            }
            let gap = match &p.gap {
                Some(g) => distribution(ctx, "probe.gap", g)?,
                None => Distribution::Exponential { mean_ms: 10.0, offset_ms: 0.0 },
            };
            let versions = p.versions.unwrap_or(1);
            if !(1..=VERSIONS_TRACKED).contains(&versions) {
                return Err(ctx.err("probe.versions", format!("{versions} is out of range; expected 1 to {VERSIONS_TRACKED}")));
            }
            Some(ProbeConfig { clients, delays, gap, versions })
        }
    })
}

/// `workload.arrivals.profile`: a diurnal cycle or steps, as factors of the rate.
pub(super) fn rate_profile(ctx: &Ctx, raw: &RawRateProfile) -> Result<RateProfile, ScenarioError> {
    let p = "workload.arrivals.profile";
    match raw {
        RawRateProfile::Diurnal { period_ms, amplitude, peak_ms } => {
            let period = ms(ctx, &format!("{p}.period_ms"), *period_ms, false)?;
            if !(0.0..=1.0).contains(amplitude) {
                return Err(ctx.err(&format!("{p}.amplitude"), format!("{amplitude} is out of range; expected 0 to 1")));
            }
            let peak = ms(ctx, &format!("{p}.peak_ms"), *peak_ms, true)?;
            Ok(RateProfile::Diurnal { period_ns: period.as_nanos(), amplitude: *amplitude, peak_ns: peak.as_nanos() })
        }
        RawRateProfile::Steps { steps } => {
            if steps.is_empty() {
                return Err(ctx.err(&format!("{p}.steps"), "empty; expected steps like [{\"from_ms\": 0, \"factor\": 1}]"));
            }
            let mut out: Vec<(u64, f64)> = Vec::new();
            for (i, step) in steps.iter().enumerate() {
                let from = ms(ctx, &format!("{p}.steps.{i}.from_ms"), step.from_ms, true)?.as_nanos();
                if out.last().is_some_and(|last| last.0 >= from) {
                    return Err(
                        ctx.err(&format!("{p}.steps.{i}.from_ms"), "not after the step before; expected steps in time order")
                    );
                }
                if !(step.factor.is_finite() && step.factor > 0.0 && step.factor <= 1e6) {
                    return Err(ctx.err(
                        &format!("{p}.steps.{i}.factor"),
                        format!("{} is out of range; expected a factor > 0, at most 1e6", step.factor),
                    ));
                }
                out.push((from, step.factor));
            }
            Ok(RateProfile::Steps(out))
        }
    }
}
