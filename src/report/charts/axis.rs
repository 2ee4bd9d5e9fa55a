//! Axis ranges and tick labels: the range from the data (constant and all-zero data included),
//! linear or log, and labels whose precision comes from the tick step, so no two are the same.

/// How an axis maps values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    Linear,
    /// Linear from zero: bars, counts and fractions whose size is the point.
    FromZero,
    /// Exactly 0 to 1: a probability or a fraction of a whole.
    Unit,
    Log,
    /// Log when every value is positive and they span `decades` or more (e.g. 0.6 for a
    /// factor of 4: tokens per node 1..32), else linear.
    Auto {
        decades: f64,
    },
    /// Exactly `lo` to `hi`, whatever the data: the one time axis of every chart of a run.
    Range {
        lo: f64,
        hi: f64,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    /// Positions and their labels, in increasing order, labels distinct.
    pub ticks: Vec<(f64, String)>,
}

impl Axis {
    /// The axis for `values` (non-finite ones ignored; on a log axis, non-positive ones too).
    pub fn fit(values: impl IntoIterator<Item = f64>, scale: Scale) -> Axis {
        let values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        let positive: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0).collect();
        let (min, max) = bounds(&values);
        let log = match scale {
            Scale::Log => !positive.is_empty(),
            Scale::Auto { decades } => {
                !values.is_empty() && positive.len() == values.len() && (max / min).log10() >= decades - 1e-9
            }
            _ => false,
        };
        if log {
            let (min, max) = bounds(&positive);
            return log_axis(min, max);
        }
        if scale == Scale::Unit {
            return linear_axis(0.0, 1.0);
        }
        if let Scale::Range { lo, hi } = scale {
            if hi > lo {
                return linear_axis(lo, hi);
            }
        }
        let (mut lo, mut hi) = if values.is_empty() {
            (0.0, 1.0)
        } else if max - min <= 1e-12 * max.abs().max(1.0) {
            // Constant data: a range around it, from zero when it is zero.
            if min == 0.0 {
                (0.0, 1.0)
            } else {
                (min - min.abs() * 0.1, max + max.abs() * 0.1)
            }
        } else {
            let pad = (max - min) * 0.03;
            (min - pad, max + pad)
        };
        // Non-negative data near zero anyway (or bars, whose length is the point) start at zero.
        if min >= 0.0 && (scale == Scale::FromZero || min < 0.3 * max) {
            lo = 0.0;
        }
        if hi <= lo {
            hi = lo + 1.0;
        }
        linear_axis(lo, hi)
    }

    /// Where `v` falls, 0 at `lo` and 1 at `hi` (outside for values beyond them).
    pub fn fraction(&self, v: f64) -> f64 {
        if self.log {
            (v.max(f64::MIN_POSITIVE).log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }
}

fn bounds(values: &[f64]) -> (f64, f64) {
    values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

/// About five ticks at a step of 1, 2, 2.5 or 5 times a power of ten, inside the range.
fn linear_axis(lo: f64, hi: f64) -> Axis {
    let raw = (hi - lo) / 5.0;
    let power = 10f64.powf(raw.log10().floor());
    let mantissa = [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().find(|m| m * power >= raw * 0.999).unwrap_or(10.0);
    let step = mantissa * power;
    let (first, last) = ((lo / step - 1e-9).ceil() as i64, (hi / step + 1e-9).floor() as i64);
    let digits = decimals(step);
    let scientific = hi.abs().max(lo.abs()) >= 1e6 || step < 1e-4;
    let ticks = (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
            (v, if scientific { sci(v, step) } else { format!("{v:.digits$}") })
        })
        .collect();
    Axis { lo, hi, log: false, ticks }
}

/// Decimal places that tell apart multiples of `step`.
fn decimals(step: f64) -> usize {
    (0..12).find(|&d| ((step * 10f64.powi(d)).round() - step * 10f64.powi(d)).abs() < 1e-6 * step * 10f64.powi(d)).unwrap_or(12)
        as usize
}

/// Scientific notation with the significant digits that tell apart multiples of `step`.
fn sci(v: f64, step: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let step_exponent = step.log10().floor();
    let extra = usize::from(decimals(step / 10f64.powf(step_exponent)) > 0);
    let digits = (v.abs().log10().floor() - step_exponent).max(0.0) as usize + extra;
    let text = format!("{v:.digits$e}");
    // 1.0e-4 reads as 1e-4; dropping zeros never makes two labels equal.
    match text.split_once('e') {
        Some((mantissa, exponent)) if mantissa.contains('.') => {
            format!("{}e{exponent}", mantissa.trim_end_matches('0').trim_end_matches('.'))
        }
        _ => text,
    }
}

/// A little beyond the data each way; ticks at the decades, with 2 and 5 between them when the
/// range spans fewer than three, and at its two ends when no tick falls inside.
fn log_axis(min: f64, max: f64) -> Axis {
    let (lo, hi) = (min / 1.15, max * 1.15);
    let fine = (hi / lo).log10() < 3.0;
    let mut ticks = Vec::new();
    for e in lo.log10().floor() as i32..=hi.log10().ceil() as i32 {
        for m in if fine { &[1.0, 2.0, 5.0][..] } else { &[1.0][..] } {
            let v = m * 10f64.powi(e);
            if (lo..=hi).contains(&v) {
                ticks.push((v, compact(v)));
            }
        }
    }
    if ticks.len() < 2 {
        ticks = vec![(lo, significant(lo, 2)), (hi, significant(hi, 2))];
    }
    Axis { lo, hi, log: true, ticks }
}

/// A short label for a value of the form m × 10^e (m one digit): 0.01, 200, 5e-6, 1e6.
pub fn compact(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) {
        let e = v.abs().log10().floor();
        let m = v / 10f64.powf(e);
        return if (m - m.round()).abs() < 1e-9 { format!("{}e{}", m.round(), e as i32) } else { format!("{m:.1}e{}", e as i32) };
    }
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A value for a label next to data (a heatmap cell, a bar): `significant` digits, however small.
pub fn significant(v: f64, significant: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v == 0.0 { "0".into() } else { "–".into() };
    }
    let e = v.abs().log10().floor() as i32;
    if !(-3..6).contains(&e) {
        return format!("{:.*e}", significant.saturating_sub(1), v);
    }
    let decimals = (significant as i32 - 1 - e).max(0) as usize;
    format!("{v:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(a: &Axis) -> Vec<&str> {
        a.ticks.iter().map(|t| t.1.as_str()).collect()
    }

    fn distinct(a: &Axis) {
        let mut l = labels(a);
        l.dedup();
        assert_eq!(l.len(), a.ticks.len(), "{:?}", a.ticks);
    }

    #[test]
    fn tiny_ranges_get_the_precision_they_need() {
        // The old axis printed "0.0, 0.0, 0.00001, 0.00002, 0.00002, 0.00003".
        let a = Axis::fit([0.0, 3e-5], Scale::Linear);
        distinct(&a);
        assert_eq!(labels(&a).first(), Some(&"0"));
        assert!(a.ticks.len() >= 4 && a.ticks.len() <= 8, "{:?}", a.ticks);
        let b = Axis::fit([0.001, 0.004], Scale::Linear);
        distinct(&b);
        assert!(labels(&b).contains(&"0.002"), "{:?}", b.ticks);
    }

    #[test]
    fn constant_and_all_zero_data_get_a_sensible_range() {
        let zero = Axis::fit([0.0, 0.0, 0.0], Scale::Linear);
        assert_eq!((zero.lo, zero.hi), (0.0, 1.0));
        distinct(&zero);
        let one = Axis::fit([1.0; 4], Scale::Linear);
        assert!(one.lo < 1.0 && one.hi > 1.0);
        distinct(&one);
        assert_eq!(Axis::fit([], Scale::Linear).ticks.len(), 6);
    }

    #[test]
    fn values_spanning_decades_get_a_log_axis() {
        let tokens = Axis::fit([8.0, 64.0, 256.0], Scale::Auto { decades: 0.6 });
        assert!(tokens.log);
        distinct(&tokens);
        assert_eq!(labels(&tokens), ["10", "20", "50", "100", "200"]);
        let tails = Axis::fit([1e-5, 0.3], Scale::Log);
        assert_eq!(labels(&tails), ["1e-5", "1e-4", "0.001", "0.01", "0.1"]);
        let narrow = Axis::fit([0.002, 0.003], Scale::Log);
        assert_eq!(narrow.ticks.len(), 2, "{:?}", narrow.ticks);
        distinct(&narrow);
        assert!(!Axis::fit([0.0, 8.0, 64.0], Scale::Auto { decades: 0.6 }).log, "a zero keeps it linear");
    }

    #[test]
    fn large_values_and_fine_steps_use_scientific_notation_without_repeats() {
        let big = Axis::fit([1.0e7, 1.3e7], Scale::Linear);
        distinct(&big);
        assert!(labels(&big).iter().all(|l| l.contains('e')), "{:?}", big.ticks);
        let fine = Axis::fit([1.00001, 1.00004], Scale::Linear);
        distinct(&fine);
    }

    #[test]
    fn cell_values_keep_their_significant_digits() {
        assert_eq!(significant(3.2e-5, 2), "3.2e-5");
        assert_eq!(significant(0.01234, 2), "0.012");
        assert_eq!(significant(123.4, 3), "123");
        assert_eq!(significant(0.0, 3), "0");
    }
}
