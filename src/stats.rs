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
}
