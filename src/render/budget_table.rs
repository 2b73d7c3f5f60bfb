//! Human table output of the budget report: verdicts, probes with a latency histogram, and the
//! statements that could not be classified. Each listing's columns are defined once.

use std::io::Write;

use crate::budget::probe::{Bucket, ProbeResult};
use crate::budget::report::BudgetReport;
use crate::budget::verdict::{fmt_figure, fmt_num, Bound, Status, Verdict};
use crate::render::table::{boxed, number, text, Column, Table};

pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        Status::Breach => "BREACH",
        Status::NoData => "NO DATA",
    }
}

fn measured(v: &Verdict) -> String {
    match v.measured {
        None => "-".to_string(),
        Some(m) => format!("{} {}", fmt_figure(m, v.method), v.unit),
    }
}

fn limit(v: &Verdict) -> String {
    let op = match v.bound {
        Bound::Max => "<=",
        Bound::Min => ">=",
    };
    format!("{op} {} {}", fmt_num(v.limit), v.unit)
}

fn detail(v: &Verdict) -> String {
    let mut s = match (&v.subject, &v.reason) {
        (Some(s), _) => s.clone(),
        (None, Some(r)) => r.clone(),
        (None, None) => String::new(),
    };
    if let Some(q) = v.queryid {
        s.push_str(&format!(" [queryid {q}]"));
    }
    let others = v.offenders.len().saturating_sub(1);
    if others > 0 {
        s.push_str(&format!(" (+{others} more)"));
    }
    s
}

pub const VERDICT_COLUMNS: &[Column<Verdict>] = &[
    text("Status", |v| status_label(v.status).to_string()),
    text("Budget", |v| v.id.clone()),
    number("Measured", measured),
    number("Limit", limit),
    text("Source", |v| v.source.to_string()),
    text("Statement / reason", detail),
];

pub const PROBE_COLUMNS: &[Column<ProbeResult>] = &[
    text("Probe", |p| p.name.clone()),
    text("Class", |p| {
        format!("{} / {}", p.class.as_str(), p.workload.as_str())
    }),
    number("Conns", |p| p.concurrency.to_string()),
    number("Executions", |p| p.executions.to_string()),
    number("QPS", |p| format!("{:.0}", p.qps)),
    number("P50 ms", |p| fmt_num(p.latency.p50_ms)),
    number("P95 ms", |p| fmt_num(p.latency.p95_ms)),
    number("P99 ms", |p| fmt_num(p.latency.p99_ms)),
    number("Max ms", |p| fmt_num(p.latency.max_ms)),
];

/// A horizontal bar histogram of a probe's latencies.
pub fn histogram(buckets: &[Bucket], width: usize) -> Vec<String> {
    let max = buckets.iter().map(|b| b.count).max().unwrap_or(0);
    let total: u64 = buckets.iter().map(|b| b.count).sum();
    if max == 0 {
        return Vec::new();
    }
    buckets
        .iter()
        .map(|b| {
            let label = match b.le_ms {
                Some(e) => format!("<= {} ms", fmt_edge(e)),
                None => "slower".to_string(),
            };
            let n = ((b.count as f64 / max as f64) * width as f64).round() as usize;
            let n = if b.count > 0 { n.max(1) } else { 0 };
            format!(
                "{label:>11} |{:<width$} {:>5.1}% ({})",
                "#".repeat(n),
                b.count as f64 / total as f64 * 100.0,
                b.count
            )
        })
        .collect()
}

fn fmt_edge(e: f64) -> String {
    // 0.25 and 2.5 must stay exact; whole numbers print without a fraction.
    if e.fract() == 0.0 {
        format!("{e:.0}")
    } else {
        format!("{e}")
    }
}

pub fn render(r: &BudgetReport, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "Performance budgets for {} ({})",
        r.database, r.budgets_file
    )?;
    let period = match r.measurement.period_s {
        Some(s) => format!(", {s:.0} s"),
        None => String::new(),
    };
    writeln!(
        out,
        "pg_stat_statements: {}{period}; latency marked ~ is estimated from aggregates (server time); probe latency is client time\n",
        r.measurement.mode
    )?;
    if r.measurement.reset_detected {
        writeln!(
            out,
            "note: pg_stat_statements was reset during the measured period; some executions are not counted\n"
        )?;
    }
    writeln!(
        out,
        "{}",
        boxed(&Table::build(VERDICT_COLUMNS, &r.verdicts))
    )?;

    let breaches: Vec<&Verdict> = r
        .verdicts
        .iter()
        .filter(|v| {
            v.status >= Status::Warn && v.status != Status::NoData && !v.offenders.is_empty()
        })
        .collect();
    for v in breaches {
        writeln!(out, "\n{} {}:", status_label(v.status), v.id)?;
        for o in &v.offenders {
            writeln!(
                out,
                "  {:>7} {} {}  {}{}",
                status_label(o.status),
                o.measured_text(),
                v.unit,
                o.query,
                o.queryid
                    .map(|q| format!("  [queryid {q}]"))
                    .unwrap_or_default()
            )?;
        }
    }

    if !r.probes.is_empty() {
        writeln!(out, "\nProbes (exact: every execution timed, client time)")?;
        writeln!(out, "{}", boxed(&Table::build(PROBE_COLUMNS, &r.probes)))?;
        for p in &r.probes {
            writeln!(out, "\n{}: {}", p.name, p.sql)?;
            for line in histogram(&p.histogram, 40) {
                writeln!(out, "  {line}")?;
            }
        }
    }

    if !r.unclassified.is_empty() {
        writeln!(
            out,
            "\nStatements that did not parse (class unknown, not judged):"
        )?;
        for u in &r.unclassified {
            writeln!(
                out,
                "  [queryid {}] {} calls: {}  ({})",
                u.queryid, u.calls, u.query, u.error
            )?;
        }
    }
    let o = &r.observed;
    if let (Some(rq), Some(wq)) = (o.read_qps, o.write_qps) {
        writeln!(
            out,
            "\nObserved traffic (information only): {} statements, {} calls, {rq:.1} read/s, {wq:.1} write/s",
            o.statements, o.calls
        )?;
    } else {
        writeln!(
            out,
            "\nObserved traffic (information only): {} statements, {} calls, rates: no data (no calls, or a period shorter than a second)",
            o.statements, o.calls
        )?;
    }
    let s = &r.summary;
    writeln!(
        out,
        "\n{}: {} budgets, {} pass, {} warn, {} breach, {} no data",
        if r.failed() { "FAILED" } else { "OK" },
        s.verdicts,
        s.pass,
        s.warn,
        s.breach,
        s.no_data
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_bars_scale_to_the_largest_bucket() {
        let h = histogram(
            &[
                Bucket {
                    le_ms: Some(0.5),
                    count: 10,
                },
                Bucket {
                    le_ms: Some(1.0),
                    count: 90,
                },
                Bucket {
                    le_ms: None,
                    count: 0,
                },
            ],
            10,
        );
        assert_eq!(h.len(), 3);
        assert!(h[1].contains("##########"), "{}", h[1]);
        assert!(h[0].contains("| #") || h[0].contains("|#"), "{}", h[0]);
        assert!(h[1].contains("90.0%"));
    }
}

#[cfg(test)]
mod snapshot {
    #[test]
    fn budget_table_output() {
        insta::assert_snapshot!(crate::budget::report::sample_output(super::render));
    }
}
