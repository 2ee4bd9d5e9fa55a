//! Delay distributions in simulated time: latency, service time, think time, probe gaps.
//!
//! Sampling is by inversion from uniforms drawn from the caller's stream, so the number of draws
//! per sample is fixed for each kind (one, or two for log-normal), which keeps streams aligned
//! between runs that differ only in a distribution's parameters.

use crate::sim::engine::{millis_to_nanos, SimDuration};
use crate::sim::rng::{unit, unit_open0, Draw};

/// A validated delay distribution; parameters are in milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub enum Distribution {
    Constant {
        ms: f64,
    },
    Uniform {
        min_ms: f64,
        max_ms: f64,
    },
    /// `offset_ms` plus an exponential with the given mean.
    Exponential {
        mean_ms: f64,
        offset_ms: f64,
    },
    /// exp(N(ln median, sigma^2)).
    LogNormal {
        median_ms: f64,
        sigma: f64,
    },
    /// Pareto type I: scale / U^(1/shape), never below `scale_ms`.
    Pareto {
        scale_ms: f64,
        shape: f64,
    },
    /// Picks a component with probability proportional to its weight.
    Mixture {
        components: Vec<(f64, Distribution)>,
    },
    /// `offset_ms` plus a sample of `body`: a propagation delay under any body (PBS's WAN legs).
    Shifted {
        offset_ms: f64,
        body: Box<Distribution>,
    },
}

/// Samples above this are clamped: one simulated day is longer than any run is meant to be.
const MAX_SAMPLE_MS: f64 = 86_400_000.0;

impl Distribution {
    pub const ZERO: Distribution = Distribution::Constant { ms: 0.0 };

    pub fn sample(&self, rng: &mut impl Draw) -> SimDuration {
        SimDuration(millis_to_nanos(self.sample_ms(rng).min(MAX_SAMPLE_MS)))
    }

    pub fn is_zero(&self) -> bool {
        matches!(self, Distribution::Constant { ms } if *ms == 0.0)
    }

    pub(crate) fn sample_ms(&self, rng: &mut impl Draw) -> f64 {
        match self {
            Distribution::Constant { ms } => *ms,
            Distribution::Uniform { min_ms, max_ms } => min_ms + (max_ms - min_ms) * unit(rng),
            Distribution::Exponential { mean_ms, offset_ms } => offset_ms - mean_ms * unit_open0(rng).ln(),
            Distribution::LogNormal { median_ms, sigma } => {
                // Box-Muller; the second normal is discarded so every sample costs two draws.
                let u1 = unit_open0(rng);
                let u2 = unit(rng);
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                median_ms * (sigma * z).exp()
            }
            Distribution::Pareto { scale_ms, shape } => scale_ms / unit_open0(rng).powf(1.0 / shape),
            Distribution::Mixture { components } => {
                let total: f64 = components.iter().map(|(w, _)| w).sum();
                let mut pick = unit(rng) * total;
                for (w, d) in components {
                    if pick < *w {
                        return d.sample_ms(rng);
                    }
                    pick -= w;
                }
                // Rounding left `pick` just past the last weight.
                components.last().map_or(0.0, |(_, d)| d.sample_ms(rng))
            }
            Distribution::Shifted { offset_ms, body } => offset_ms + body.sample_ms(rng),
        }
    }

    /// The distribution's mean in milliseconds (infinite for Pareto with shape <= 1).
    pub fn mean_ms(&self) -> f64 {
        match self {
            Distribution::Constant { ms } => *ms,
            Distribution::Uniform { min_ms, max_ms } => (min_ms + max_ms) / 2.0,
            Distribution::Exponential { mean_ms, offset_ms } => mean_ms + offset_ms,
            Distribution::LogNormal { median_ms, sigma } => median_ms * (sigma * sigma / 2.0).exp(),
            Distribution::Pareto { scale_ms, shape } => {
                if *shape <= 1.0 {
                    f64::INFINITY
                } else {
                    shape * scale_ms / (shape - 1.0)
                }
            }
            Distribution::Mixture { components } => {
                let total: f64 = components.iter().map(|(w, _)| w).sum();
                components.iter().map(|(w, d)| w * d.mean_ms()).sum::<f64>() / total
            }
            Distribution::Shifted { offset_ms, body } => offset_ms + body.mean_ms(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Seeds, Stream};

    fn empirical_mean(d: &Distribution, n: usize) -> f64 {
        let mut rng = Seeds::new(3).stream(Stream::Network, 0);
        (0..n).map(|_| d.sample(&mut rng).as_millis_f64()).sum::<f64>() / n as f64
    }

    #[test]
    fn sample_means_match_analytic_means() {
        let cases = [
            Distribution::Constant { ms: 2.0 },
            Distribution::Uniform { min_ms: 1.0, max_ms: 3.0 },
            Distribution::Exponential { mean_ms: 5.0, offset_ms: 0.5 },
            Distribution::LogNormal { median_ms: 2.0, sigma: 0.5 },
            Distribution::Pareto { scale_ms: 1.0, shape: 3.0 },
            Distribution::Mixture {
                components: vec![(0.9, Distribution::Constant { ms: 1.0 }), (0.1, Distribution::Constant { ms: 11.0 })],
            },
            Distribution::Shifted { offset_ms: 20.0, body: Box::new(Distribution::Pareto { scale_ms: 1.0, shape: 3.0 }) },
        ];
        for d in &cases {
            let m = empirical_mean(d, 200_000);
            let want = d.mean_ms();
            assert!((m - want).abs() / want < 0.02, "{d:?}: sample mean {m} vs {want}");
        }
    }

    #[test]
    fn pareto_never_below_scale_and_uniform_within_bounds() {
        let mut rng = Seeds::new(9).stream(Stream::Network, 1);
        let p = Distribution::Pareto { scale_ms: 2.0, shape: 1.5 };
        let u = Distribution::Uniform { min_ms: 1.0, max_ms: 2.0 };
        for _ in 0..10_000 {
            assert!(p.sample(&mut rng).as_millis_f64() >= 2.0 - 1e-6);
            let x = u.sample(&mut rng).as_millis_f64();
            assert!((1.0..=2.0).contains(&x));
        }
    }
}
