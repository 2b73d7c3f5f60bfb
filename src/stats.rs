//! Latency statistics: an hdrhistogram recorder for measured latencies and the summary every
//! output shares, labelled exact (every execution timed) or estimated (modelled).

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Significant decimal digits kept by the histogram: values are exact to within 0.1%.
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// How a latency figure was obtained. Every figure in every output carries one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Every execution was timed (probes, benchmarks).
    Exact,
    /// Modelled from aggregates (pg_stat_statements keeps no per-execution latencies).
    Estimated,
    /// Modelled, but the distribution fit did not match the aggregates (they contradict each
    /// other, e.g. a spread the min..max range cannot hold): a rough figure, never a verdict.
    Unconverged,
}

impl Method {
    /// Whether the figure is modelled rather than measured.
    pub fn is_estimate(self) -> bool {
        matches!(self, Method::Estimated | Method::Unconverged)
    }

    /// The mark written before a figure in text outputs: `~` for every modelled figure.
    pub fn mark(self) -> &'static str {
        if self.is_estimate() {
            "~"
        } else {
            ""
        }
    }
}

/// Summary of a latency distribution, in milliseconds. When `count` is 0 every figure is 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    pub count: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub method: Method,
}

impl LatencySummary {
    /// The summary of no executions at all.
    pub fn empty(method: Method) -> Self {
        LatencySummary {
            count: 0,
            mean_ms: 0.0,
            p50_ms: 0.0,
            p90_ms: 0.0,
            p95_ms: 0.0,
            p99_ms: 0.0,
            max_ms: 0.0,
            method,
        }
    }

    /// The JSON shape other tools read (`queries.latency`, `queries.statements[]`).
    pub fn to_query_latency(&self) -> QueryLatency {
        QueryLatency::from(self)
    }
}

/// The latency object of the JSON contract: `{calls, mean_ms, p50_ms, p95_ms, p99_ms, method}`.
/// Field names are an API: add fields, never rename them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QueryLatency {
    pub calls: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub method: Method,
}

impl From<&LatencySummary> for QueryLatency {
    fn from(s: &LatencySummary) -> Self {
        QueryLatency {
            calls: s.count,
            mean_ms: s.mean_ms,
            p50_ms: s.p50_ms,
            p95_ms: s.p95_ms,
            p99_ms: s.p99_ms,
            method: s.method,
        }
    }
}

/// Records measured latencies in microseconds (3 significant digits) and summarizes them as exact
/// figures. Mean and max are tracked exactly beside the histogram.
#[derive(Debug, Clone)]
pub struct LatencyRecorder {
    hist: Histogram<u64>,
    sum_us: u128,
    max_us: u64,
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyRecorder {
    pub fn new() -> Self {
        LatencyRecorder {
            // Auto-resizing: any u64 can be recorded, so recording never fails.
            hist: Histogram::new(SIGNIFICANT_DIGITS).expect("3 significant digits is valid"),
            sum_us: 0,
            max_us: 0,
        }
    }

    /// Record one execution of `us` microseconds.
    pub fn record_us(&mut self, us: u64) {
        // Auto-resize grows the histogram to fit; only a value beyond what the platform can index
        // fails, and that one is clamped rather than lost.
        if self.hist.record(us).is_err() {
            self.hist.saturating_record(us);
        }
        self.sum_us += u128::from(us);
        self.max_us = self.max_us.max(us);
    }

    /// Record one execution of `ms` milliseconds (negative or non-finite values count as 0).
    pub fn record_ms(&mut self, ms: f64) {
        let us = if ms.is_finite() && ms > 0.0 {
            (ms * 1000.0).round() as u64
        } else {
            0
        };
        self.record_us(us);
    }

    pub fn record_duration(&mut self, d: Duration) {
        self.record_us(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    }

    /// Add everything `other` recorded.
    pub fn merge(&mut self, other: &LatencyRecorder) {
        // Both histograms auto-resize, so addition cannot run out of range.
        self.hist
            .add(&other.hist)
            .expect("auto-resizing histograms always add");
        self.sum_us += other.sum_us;
        self.max_us = self.max_us.max(other.max_us);
    }

    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hist.is_empty()
    }

    /// Value at quantile `q` (0..=1) in milliseconds: the smallest recorded value with at least
    /// `q` of all executions at or below it (to 3 significant digits).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        // The histogram answers with the top of a bucket, which can exceed the true maximum.
        let v = self
            .hist
            .value_at_quantile(q.clamp(0.0, 1.0))
            .min(self.max_us);
        v as f64 / 1000.0
    }

    /// Exact summary of everything recorded.
    pub fn summarize(&self) -> LatencySummary {
        let n = self.count();
        if n == 0 {
            return LatencySummary::empty(Method::Exact);
        }
        LatencySummary {
            count: n,
            mean_ms: self.sum_us as f64 / n as f64 / 1000.0,
            p50_ms: self.quantile_ms(0.50),
            p90_ms: self.quantile_ms(0.90),
            p95_ms: self.quantile_ms(0.95),
            p99_ms: self.quantile_ms(0.99),
            max_ms: self.max_us as f64 / 1000.0,
            method: Method::Exact,
        }
    }
}

/// Nearest-rank quantile of an ascending slice: the smallest value with at least `q` of the values
/// at or below it. `None` for an empty slice. The reference the histogram is tested against.
pub fn nearest_rank(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = ((q.clamp(0.0, 1.0) * n as f64).ceil() as usize).clamp(1, n);
    Some(sorted[rank - 1])
}

// ---------------------------------------------------------------------------------------------
// Estimated percentiles from per-statement aggregates.
//
// pg_stat_statements keeps, per statement, only calls, mean, population standard deviation, min
// and max of the execution time. Each statement's latencies are modelled as a lognormal shifted
// to start at its minimum and truncated at its maximum, with parameters solved so the truncated
// distribution has the observed mean and standard deviation. The workload is the mixture of the
// statements weighted by calls; its quantiles are found by bisection on the mixture's CDF.

/// The aggregates pg_stat_statements keeps for one statement (milliseconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    pub calls: u64,
    pub mean_ms: f64,
    /// Population standard deviation.
    pub stddev_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
}

/// A fitted per-statement latency distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fitted {
    /// Every execution took the same time (one call, zero spread, or min = max).
    Point(f64),
    /// `shift + LogNormal(mu, sigma)` restricted to `[lo, hi]`.
    ShiftedLognormal {
        shift: f64,
        mu: f64,
        sigma: f64,
        lo: f64,
        hi: f64,
    },
}

/// Standard normal CDF.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// Complementary error function (W. J. Cody's rational approximations via the classic
/// Numerical Recipes Chebyshev fit; relative error below 1.2e-7 everywhere).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Inverse of the standard normal CDF (Acklam's algorithm, relative error below 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let plow = 0.024_25;
    if p < plow {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - plow {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    }
}

/// Mean and standard deviation of `LogNormal(mu, sigma)` restricted to `[0, b]` (b may be
/// infinite), from the closed-form partial moments.
fn truncated_lognormal_moments(mu: f64, sigma: f64, b: f64) -> Option<(f64, f64)> {
    let lb = if b.is_finite() { b.ln() } else { f64::INFINITY };
    let z = |k: f64| {
        if lb.is_finite() {
            normal_cdf((lb - mu - k * sigma * sigma) / sigma)
        } else {
            1.0
        }
    };
    let mass = z(0.0);
    if mass < 1e-12 {
        return None;
    }
    let m1 = (mu + sigma * sigma / 2.0).exp() * z(1.0) / mass;
    let m2 = (2.0 * mu + 2.0 * sigma * sigma).exp() * z(2.0) / mass;
    let var = (m2 - m1 * m1).max(0.0);
    Some((m1, var.sqrt()))
}

impl Fitted {
    /// Fit one statement's aggregates.
    pub fn fit(m: &Moments) -> Fitted {
        Fitted::fit_checked(m).0
    }

    /// Fit one statement's aggregates; the flag says whether the fitted distribution reproduces
    /// the observed mean and standard deviation (within `FIT_TOLERANCE`).
    pub fn fit_checked(m: &Moments) -> (Fitted, bool) {
        let (lo, hi) = (m.min_ms.max(0.0), m.max_ms.max(m.min_ms.max(0.0)));
        let mean = m.mean_ms.clamp(lo, hi);
        if m.calls <= 1 || m.stddev_ms <= 0.0 || hi - lo <= 1e-9 || mean - lo <= 1e-9 {
            return (Fitted::Point(mean), true);
        }
        // Work on the excess over the minimum: latencies have a floor, and min estimates it.
        let (em, es, eb) = (mean - lo, m.stddev_ms, hi - lo);
        // Untruncated moment matching as the starting point.
        let s2 = (1.0 + (es / em).powi(2)).ln();
        let mut sigma = s2.sqrt();
        let mut mu = em.ln() - s2 / 2.0;
        // Solve for the parameters whose truncated moments match the observed ones: truncation
        // at the maximum removes tail mass, so the fit must put a little more there.
        let (mut best, mut best_err) = ((mu, sigma), f64::INFINITY);
        // The remaining misfit in milliseconds (mean plus standard deviation) at the best point.
        let mut best_miss = f64::INFINITY;
        for _ in 0..60 {
            let Some((tm, ts)) = truncated_lognormal_moments(mu, sigma, eb) else {
                break;
            };
            let err = ((tm - em) / em).abs() + ((ts - es) / es).abs();
            if err < best_err {
                best = (mu, sigma);
                best_err = err;
                best_miss = (tm - em).abs() + (ts - es).abs();
            }
            if err < 1e-6 {
                break;
            }
            mu += 0.7 * (em / tm).ln();
            sigma = (sigma * (es / ts.max(1e-12)).powf(0.7)).clamp(1e-3, 6.0);
        }
        let (mu, sigma) = best;
        (
            Fitted::ShiftedLognormal {
                shift: lo,
                mu,
                sigma,
                lo,
                hi,
            },
            // Judged against the latency itself, not the excess over min: a few tight executions
            // (50.1..50.3 ms) miss the excess moments by a lot but the figures by little.
            best_miss <= FIT_TOLERANCE * hi,
        )
    }

    /// P(X <= x).
    pub fn cdf(&self, x: f64) -> f64 {
        Part::new(1.0, self).weighted_cdf(x)
    }

    /// The value at quantile `q`.
    pub fn quantile(&self, q: f64) -> f64 {
        match *self {
            Fitted::Point(v) => v,
            Fitted::ShiftedLognormal {
                shift,
                mu,
                sigma,
                lo,
                hi,
            } => {
                let f = |v| shifted_lognormal_cdf(v, shift, mu, sigma);
                let (flo, fhi) = (f(lo), f(hi));
                let u = flo + q.clamp(0.0, 1.0) * (fhi - flo);
                (shift + (mu + sigma * normal_quantile(u)).exp()).clamp(lo, hi)
            }
        }
    }
}

/// P(X <= v) of the lognormal shifted by `shift` (untruncated).
fn shifted_lognormal_cdf(v: f64, shift: f64, mu: f64, sigma: f64) -> f64 {
    let e = v - shift;
    if e <= 0.0 {
        0.0
    } else {
        normal_cdf((e.ln() - mu) / sigma)
    }
}

/// One mixture part with what its CDF needs computed once: a bisection evaluates every part at
/// every step, and the truncation bounds' CDF values do not depend on the point.
enum Part {
    Point {
        w: f64,
        v: f64,
    },
    Lognormal {
        w: f64,
        shift: f64,
        mu: f64,
        sigma: f64,
        lo: f64,
        hi: f64,
        /// CDF at `lo` and `hi - lo`'s CDF mass; `None` when the mass is nil (all of it at `lo`).
        flo: f64,
        mass: Option<f64>,
    },
}

impl Part {
    fn new(w: f64, f: &Fitted) -> Part {
        match *f {
            Fitted::Point(v) => Part::Point { w, v },
            Fitted::ShiftedLognormal {
                shift,
                mu,
                sigma,
                lo,
                hi,
            } => {
                let flo = shifted_lognormal_cdf(lo, shift, mu, sigma);
                let fhi = shifted_lognormal_cdf(hi, shift, mu, sigma);
                Part::Lognormal {
                    w,
                    shift,
                    mu,
                    sigma,
                    lo,
                    hi,
                    flo,
                    mass: (fhi - flo > 1e-15).then_some(fhi - flo),
                }
            }
        }
    }

    /// `w * P(X <= x)` of the part's distribution.
    fn weighted_cdf(&self, x: f64) -> f64 {
        match *self {
            Part::Point { w, v } => {
                if x >= v {
                    w
                } else {
                    0.0
                }
            }
            Part::Lognormal {
                w,
                shift,
                mu,
                sigma,
                lo,
                hi,
                flo,
                mass,
            } => {
                if x < lo {
                    return 0.0;
                }
                let Some(mass) = mass.filter(|_| x < hi) else {
                    return w;
                };
                w * ((shifted_lognormal_cdf(x, shift, mu, sigma) - flo) / mass).clamp(0.0, 1.0)
            }
        }
    }
}

/// Smallest x with mixture CDF >= q, by bisection between the smallest and largest bound.
fn mixture_quantile(parts: &[Part], lo: f64, hi: f64, q: f64) -> f64 {
    let total: f64 = parts
        .iter()
        .map(|p| match p {
            Part::Point { w, .. } | Part::Lognormal { w, .. } => w,
        })
        .sum();
    let cdf = |x: f64| parts.iter().map(|p| p.weighted_cdf(x)).sum::<f64>() / total;
    let (mut a, mut b) = (lo, hi);
    if cdf(a) >= q {
        return a;
    }
    for _ in 0..100 {
        let mid = 0.5 * (a + b);
        if cdf(mid) >= q {
            b = mid;
        } else {
            a = mid;
        }
        if b - a <= 1e-6 * b.max(1e-3) {
            break;
        }
    }
    b
}

/// Largest misfit (mean plus standard deviation, as a share of the statement's max) of a fit
/// still called converged.
pub const FIT_TOLERANCE: f64 = 0.05;

/// Estimated latency distribution of one statement; `method` is `unconverged` when the fit could
/// not reproduce the statement's aggregates.
pub fn estimate_statement(m: &Moments) -> LatencySummary {
    let mut s = estimate_workload(std::slice::from_ref(m));
    if s.count > 0 && m.mean_ms.is_finite() && !Fitted::fit_checked(m).1 {
        s.method = Method::Unconverged;
    }
    s
}

/// Total calls and the call-weighted mean of the statements `estimate_workload` uses (those with
/// calls and a finite mean); the mean is 0 when there are none, as in an empty summary.
fn calls_and_mean(statements: &[Moments]) -> (u64, f64) {
    let used = statements
        .iter()
        .filter(|m| m.calls > 0 && m.mean_ms.is_finite());
    let calls: u64 = used.clone().map(|m| m.calls).sum();
    if calls == 0 {
        return (0, 0.0);
    }
    let mean = used.map(|m| m.calls as f64 * m.mean_ms).sum::<f64>() / calls as f64;
    (calls, mean)
}

/// The `mean_ms` that `estimate_statement` reports for `m`, without fitting anything.
pub fn statement_mean_ms(m: &Moments) -> f64 {
    calls_and_mean(std::slice::from_ref(m)).1
}

/// Estimated latency distribution of a workload: each statement fitted to its aggregates and
/// mixed in proportion to its calls. Statements without calls are ignored.
pub fn estimate_workload(statements: &[Moments]) -> LatencySummary {
    let parts: Vec<Part> = statements
        .iter()
        .filter(|m| m.calls > 0 && m.mean_ms.is_finite())
        .map(|m| Part::new(m.calls as f64, &Fitted::fit(m)))
        .collect();
    if parts.is_empty() {
        return LatencySummary::empty(Method::Estimated);
    }
    let used = statements
        .iter()
        .filter(|m| m.calls > 0 && m.mean_ms.is_finite());
    let (calls, mean) = calls_and_mean(statements);
    let lo = used
        .clone()
        .map(|m| m.min_ms.max(0.0))
        .fold(f64::INFINITY, f64::min);
    let hi = used
        .clone()
        .map(|m| m.max_ms.max(m.mean_ms))
        .fold(0.0, f64::max);
    let lo = lo.min(hi);
    let q = |p| mixture_quantile(&parts, lo, hi, p);
    LatencySummary {
        count: calls,
        mean_ms: mean,
        p50_ms: q(0.50),
        p90_ms: q(0.90),
        p95_ms: q(0.95),
        p99_ms: q(0.99),
        max_ms: hi,
        method: Method::Estimated,
    }
}

/// The naive estimate, kept for comparison: every execution assumed to take its statement's mean
/// (a histogram of means weighted by calls). It cannot see any spread inside a statement.
pub fn naive_workload(statements: &[Moments]) -> LatencySummary {
    let mut items: Vec<(f64, u64)> = statements
        .iter()
        .filter(|m| m.calls > 0)
        .map(|m| (m.mean_ms, m.calls))
        .collect();
    if items.is_empty() {
        return LatencySummary::empty(Method::Estimated);
    }
    items.sort_by(|a, b| a.0.total_cmp(&b.0));
    let calls: u64 = items.iter().map(|i| i.1).sum();
    let q = |p: f64| {
        let rank = ((p * calls as f64).ceil() as u64).clamp(1, calls);
        let mut seen = 0;
        for &(v, n) in &items {
            seen += n;
            if seen >= rank {
                return v;
            }
        }
        items.last().map(|i| i.0).unwrap_or(0.0)
    };
    LatencySummary {
        count: calls,
        mean_ms: items.iter().map(|(v, n)| v * *n as f64).sum::<f64>() / calls as f64,
        p50_ms: q(0.50),
        p90_ms: q(0.90),
        p95_ms: q(0.95),
        p99_ms: q(0.99),
        max_ms: statements.iter().map(|m| m.max_ms).fold(0.0, f64::max),
        method: Method::Estimated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic generator so the tests need no randomness crate.
    struct SplitMix(u64);
    impl SplitMix {
        fn next_f64(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            // 53 random bits in (0, 1).
            ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }
        fn normal(&mut self) -> f64 {
            let (u1, u2) = (self.next_f64(), self.next_f64());
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        }
    }

    /// Record `values_us`, then compare every summary figure with the exact sorted-array answer.
    fn check_against_exact(values_us: &[u64]) {
        let mut rec = LatencyRecorder::new();
        for &v in values_us {
            rec.record_us(v);
        }
        let s = rec.summarize();
        let mut sorted: Vec<f64> = values_us.iter().map(|&v| v as f64 / 1000.0).collect();
        sorted.sort_by(f64::total_cmp);
        assert_eq!(s.count, values_us.len() as u64);
        assert_eq!(s.method, Method::Exact);
        let exact_mean = sorted.iter().sum::<f64>() / sorted.len() as f64;
        assert!((s.mean_ms - exact_mean).abs() <= 1e-9 * exact_mean.max(1.0));
        assert_eq!(s.max_ms, *sorted.last().unwrap());
        for (q, got) in [
            (0.50, s.p50_ms),
            (0.90, s.p90_ms),
            (0.95, s.p95_ms),
            (0.99, s.p99_ms),
        ] {
            let want = nearest_rank(&sorted, q).unwrap();
            // 3 significant digits: within 0.1% (plus one microsecond of rounding).
            let tol = want * 0.001 + 0.001;
            assert!(
                (got - want).abs() <= tol,
                "q={q}: histogram {got} ms, exact {want} ms"
            );
        }
    }

    #[test]
    fn uniform_matches_exact_percentiles() {
        let mut rng = SplitMix(1);
        let v: Vec<u64> = (0..50_000)
            .map(|_| (rng.next_f64() * 100_000.0) as u64)
            .collect();
        check_against_exact(&v);
    }

    #[test]
    fn lognormal_matches_exact_percentiles() {
        let mut rng = SplitMix(2);
        let v: Vec<u64> = (0..50_000)
            .map(|_| (2_000.0 * (0.9 * rng.normal()).exp()) as u64)
            .collect();
        check_against_exact(&v);
    }

    #[test]
    fn bimodal_matches_exact_percentiles() {
        let mut rng = SplitMix(3);
        let v: Vec<u64> = (0..40_000)
            .map(|i| {
                if i % 10 == 0 {
                    250_000 + (rng.next_f64() * 50_000.0) as u64
                } else {
                    300 + (rng.next_f64() * 200.0) as u64
                }
            })
            .collect();
        check_against_exact(&v);
        // The slow mode is 10%: p95 and p99 sit in it, p50 and p90 do not.
        let mut rec = LatencyRecorder::new();
        v.iter().for_each(|&x| rec.record_us(x));
        let s = rec.summarize();
        assert!(s.p50_ms < 1.0 && s.p90_ms < 1.0);
        assert!(s.p95_ms >= 250.0 && s.p99_ms >= 250.0);
    }

    #[test]
    fn single_value_is_every_percentile() {
        let mut rec = LatencyRecorder::new();
        rec.record_ms(12.345);
        let s = rec.summarize();
        assert_eq!(s.count, 1);
        for v in [s.mean_ms, s.p50_ms, s.p90_ms, s.p95_ms, s.p99_ms, s.max_ms] {
            assert!((v - 12.345).abs() < 0.0125, "{v}");
        }
        assert_eq!(s.max_ms, 12.345);
        check_against_exact(&[12_345]);
    }

    #[test]
    fn empty_input_is_all_zero() {
        let s = LatencyRecorder::new().summarize();
        assert_eq!(s, LatencySummary::empty(Method::Exact));
        assert_eq!(nearest_rank(&[], 0.5), None);
    }

    #[test]
    fn merge_equals_recording_everything_in_one() {
        let mut rng = SplitMix(4);
        let v: Vec<u64> = (0..10_000)
            .map(|_| (rng.next_f64() * 9_000.0) as u64)
            .collect();
        let (mut a, mut b, mut all) = (
            LatencyRecorder::new(),
            LatencyRecorder::new(),
            LatencyRecorder::new(),
        );
        for (i, &x) in v.iter().enumerate() {
            if i % 3 == 0 { &mut a } else { &mut b }.record_us(x);
            all.record_us(x);
        }
        a.merge(&b);
        assert_eq!(a.summarize(), all.summarize());
    }

    #[test]
    fn durations_and_bad_values() {
        let mut rec = LatencyRecorder::new();
        rec.record_duration(Duration::from_millis(3));
        rec.record_ms(f64::NAN);
        rec.record_ms(-1.0);
        let s = rec.summarize();
        assert_eq!(s.count, 3);
        assert_eq!(s.max_ms, 3.0);
        assert_eq!(s.p50_ms, 0.0);
    }

    #[test]
    fn method_and_json_contract() {
        assert_eq!(
            serde_json::to_string(&Method::Estimated).unwrap(),
            "\"estimated\""
        );
        assert_eq!(serde_json::to_string(&Method::Exact).unwrap(), "\"exact\"");
        let mut rec = LatencyRecorder::new();
        rec.record_ms(2.0);
        let j = serde_json::to_value(rec.summarize().to_query_latency()).unwrap();
        let mut keys: Vec<&str> = j.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["calls", "mean_ms", "method", "p50_ms", "p95_ms", "p99_ms"]
        );
        assert_eq!(j["method"], "exact");
        assert_eq!(j["calls"], 1);
    }
    fn moments_of(v: &[f64]) -> Moments {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        Moments {
            calls: v.len() as u64,
            mean_ms: mean,
            stddev_ms: var.sqrt(),
            min_ms: v.iter().cloned().fold(f64::INFINITY, f64::min),
            max_ms: v.iter().cloned().fold(0.0, f64::max),
        }
    }

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b
    }

    #[test]
    fn normal_functions_are_inverse() {
        for p in [1e-6, 0.01, 0.3, 0.5, 0.9, 0.95, 0.99, 0.999999] {
            let z = normal_quantile(p);
            assert!((normal_cdf(z) - p).abs() < 1e-6 * p.max(1e-3), "{p}");
        }
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-5);
    }

    /// Several statement shapes; returns (exact, estimated, naive) p95 and p99 relative errors.
    fn mixture_errors(shapes: &[Vec<f64>]) -> ((f64, f64), (f64, f64)) {
        let mut all: Vec<f64> = shapes.iter().flatten().cloned().collect();
        all.sort_by(f64::total_cmp);
        let m: Vec<Moments> = shapes.iter().map(|s| moments_of(s)).collect();
        let est = estimate_workload(&m);
        let naive = naive_workload(&m);
        let p95 = nearest_rank(&all, 0.95).unwrap();
        let p99 = nearest_rank(&all, 0.99).unwrap();
        println!(
            "true p95 {p95:.2} p99 {p99:.2} | est {:.2} {:.2} | naive {:.2} {:.2}",
            est.p95_ms, est.p99_ms, naive.p95_ms, naive.p99_ms
        );
        assert_eq!(est.count, all.len() as u64);
        assert_eq!(est.method, Method::Estimated);
        (
            (rel(est.p95_ms, p95), rel(est.p99_ms, p99)),
            (rel(naive.p95_ms, p95), rel(naive.p99_ms, p99)),
        )
    }

    #[test]
    fn single_lognormal_statement_is_recovered() {
        let mut rng = SplitMix(11);
        let v: Vec<f64> = (0..20_000)
            .map(|_| 1.0 + 4.0 * (0.8 * rng.normal()).exp())
            .collect();
        let ((e95, e99), _) = mixture_errors(&[v]);
        assert!(e95 < 0.05 && e99 < 0.05, "{e95} {e99}");
    }

    #[test]
    fn skewed_workload_is_within_20_percent_and_beats_naive() {
        let mut rng = SplitMix(12);
        let mut shape = |n: usize, base: f64, scale: f64, sigma: f64| -> Vec<f64> {
            (0..n)
                .map(|_| base + scale * (sigma * rng.normal()).exp())
                .collect()
        };
        let shapes = vec![
            shape(6_000, 0.05, 0.3, 0.5),
            shape(2_500, 0.5, 2.0, 0.7),
            shape(1_000, 2.0, 8.0, 0.9),
            shape(400, 10.0, 30.0, 0.6),
            shape(100, 40.0, 80.0, 0.5),
        ];
        let ((e95, e99), (n95, n99)) = mixture_errors(&shapes);
        println!("estimated {e95:.3} {e99:.3} naive {n95:.3} {n99:.3}");
        assert!(e95 < 0.2 && e99 < 0.2, "{e95} {e99}");
        assert!(e95 < n95 && e99 < n99);
    }

    #[test]
    fn other_shapes_stay_reasonable() {
        let mut rng = SplitMix(13);
        // Uniform and exponential statements are not lognormal; the fit is still close.
        let uniform: Vec<f64> = (0..5_000).map(|_| 5.0 + 10.0 * rng.next_f64()).collect();
        let expo: Vec<f64> = (0..5_000)
            .map(|_| 1.0 - 3.0 * rng.next_f64().ln())
            .collect();
        for (name, v) in [("uniform", uniform), ("exponential", expo)] {
            let ((e95, e99), (n95, n99)) = mixture_errors(&[v]);
            println!("{name}: estimated {e95:.3} {e99:.3} naive {n95:.3} {n99:.3}");
            assert!(e95 < 0.2 && e99 < 0.2, "{name} {e95} {e99}");
        }
    }

    /// The known limit: one statement with two latency modes (say, cached and uncached) is fitted
    /// with one mode, so a percentile that falls in the gap between the modes is not recovered.
    #[test]
    fn bimodal_statement_is_the_known_limit() {
        let mut rng = SplitMix(14);
        let v: Vec<f64> = (0..5_000)
            .map(|i| {
                if i % 20 == 0 {
                    40.0 + rng.next_f64() * 10.0
                } else {
                    2.0 + rng.next_f64()
                }
            })
            .collect();
        let s = estimate_statement(&moments_of(&v));
        // True p95 is ~3 ms (top of the fast mode) and p99 ~48 ms; the fit lands in between.
        assert!(s.p95_ms > 3.0 && s.p95_ms < 48.0, "{s:?}");
        assert!(s.p99_ms > 3.0 && s.p99_ms <= 50.0, "{s:?}");
    }

    #[test]
    fn degenerate_statements() {
        let point = Moments {
            calls: 1,
            mean_ms: 3.0,
            stddev_ms: 0.0,
            min_ms: 3.0,
            max_ms: 3.0,
        };
        let s = estimate_statement(&point);
        assert_eq!((s.p50_ms, s.p99_ms, s.count), (3.0, 3.0, 1));
        let empty = estimate_workload(&[]);
        assert_eq!(empty, LatencySummary::empty(Method::Estimated));
        let no_calls = Moments { calls: 0, ..point };
        assert_eq!(estimate_workload(&[no_calls]).count, 0);
        // Quantiles never leave [min, max].
        let wide = Moments {
            calls: 100,
            mean_ms: 2.0,
            stddev_ms: 50.0,
            min_ms: 1.0,
            max_ms: 9.0,
        };
        let s = estimate_statement(&wide);
        assert!(s.p99_ms <= 9.0 && s.p50_ms >= 1.0, "{s:?}");
        assert!(s.p50_ms <= s.p90_ms && s.p90_ms <= s.p95_ms && s.p95_ms <= s.p99_ms);
    }

    #[test]
    fn a_fit_that_does_not_converge_says_so() {
        // A mean of 1 ms inside [0, 10] ms allows a standard deviation of at most 3 ms: 4.5 ms
        // cannot be matched by any distribution on that range.
        let impossible = Moments {
            calls: 100,
            mean_ms: 1.0,
            stddev_ms: 4.5,
            min_ms: 0.0,
            max_ms: 10.0,
        };
        assert!(!Fitted::fit_checked(&impossible).1);
        let s = estimate_statement(&impossible);
        assert_eq!(s.method, Method::Unconverged);
        assert_eq!(serde_json::to_string(&s.method).unwrap(), "\"unconverged\"");
        assert_eq!(s.method.mark(), "~");
        // Consistent aggregates converge and stay a plain estimate.
        let fine = Moments {
            calls: 100,
            mean_ms: 3.0,
            stddev_ms: 2.0,
            min_ms: 0.5,
            max_ms: 40.0,
        };
        assert!(Fitted::fit_checked(&fine).1);
        assert_eq!(estimate_statement(&fine).method, Method::Estimated);
        assert_eq!(Method::Exact.mark(), "");
        // Five tight executions (50.12..50.30 ms) no lognormal matches exactly, but the misfit
        // is a fraction of a millisecond on 50 ms: a plain estimate.
        let tight = Moments {
            calls: 5,
            mean_ms: 50.192,
            stddev_ms: 0.0618,
            min_ms: 50.12,
            max_ms: 50.3,
        };
        assert_eq!(estimate_statement(&tight).method, Method::Estimated);
    }
}
