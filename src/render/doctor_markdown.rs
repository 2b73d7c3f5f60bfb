//! Markdown output of the doctor report (also what `--report FILE` writes), using the same
//! column definitions as the table output.

use std::io::{self, Write};

use crate::analyze::report::DoctorReport;
use crate::analyze::Finding;
use crate::cli::Section;
use crate::render::doctor_table::{
    Column, BLOCKED_COLUMNS, DEDUCTION_COLUMNS, INDEX_COLUMNS, SESSION_COLUMNS, SKIPPED_COLUMNS,
    STATEMENT_COLUMNS, TABLE_COLUMNS,
};
use crate::util::human_bytes;

fn esc(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn table<T>(out: &mut dyn Write, cols: &[Column<T>], rows: &[T]) -> io::Result<()> {
    let head: Vec<&str> = cols.iter().map(|c| c.header).collect();
    writeln!(out, "| {} |", head.join(" | "))?;
    let rule: Vec<&str> = cols
        .iter()
        .map(|c| if c.numeric { "---:" } else { "---" })
        .collect();
    writeln!(out, "|{}|", rule.join("|"))?;
    for r in rows {
        let cells: Vec<String> = cols.iter().map(|c| esc(&(c.cell)(r))).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    writeln!(out)
}

pub fn write(report: &DoctorReport, out: &mut dyn Write) -> io::Result<()> {
    let r = report;
    writeln!(out, "# Database health report\n")?;
    writeln!(
        out,
        "Target `{}` ({}, data read {}). **Health score: {}/100.**\n",
        r.target,
        r.source,
        r.generated_at.format("%Y-%m-%d %H:%M:%S UTC"),
        r.health.score
    )?;
    let has = |s: Section| r.sections.contains(&s);
    if has(Section::Connection) {
        let c = &r.connection;
        writeln!(out, "## Connection\n")?;
        writeln!(
            out,
            "- Server {} ({}), role `{}` (superuser: {}, pg_monitor: {}, pg_read_all_stats: {})",
            c.server_version,
            replica_label(c),
            c.role,
            c.superuser,
            c.pg_monitor,
            c.pg_read_all_stats
        )?;
        writeln!(
            out,
            "- Connect {:.1} ms, round trip {:.3} ms (median of {} `SELECT 1`)",
            c.connect_ms, c.round_trip_ms, c.round_trip_samples
        )?;
        writeln!(out, "- {}\n", c.statistics.describe())?;
        if !r.skipped.is_empty() {
            writeln!(out, "Skipped:\n")?;
            table(out, SKIPPED_COLUMNS, &r.skipped)?;
        }
    }
    if has(Section::Queries) {
        writeln!(out, "## Query performance\n")?;
        match &r.queries {
            None => writeln!(out, "No statement statistics (see skipped).\n")?,
            Some(q) => {
                if !r.slow_queries_only {
                    let (qps, latency) = super::workload_text(q);
                    writeln!(
                        out,
                        "{} statements, {} calls, {:.0} ms total, {qps} ({}). Workload latency: {latency} (~ estimated from aggregates).\n",
                        q.statements_analysed,
                        q.total_calls,
                        q.total_ms,
                        q.qps_basis,
                    )?;
                    writeln!(out, "Top statements by total time:\n")?;
                    table(out, STATEMENT_COLUMNS, &q.statements)?;
                }
                writeln!(out, "Slow statements: {}\n", q.slow.len())?;
                if !q.slow.is_empty() {
                    table(out, STATEMENT_COLUMNS, &q.slow)?;
                }
                if !r.slow_queries_only && !q.temp_spilling.is_empty() {
                    writeln!(out, "Statements spilling to temporary files:\n")?;
                    table(out, STATEMENT_COLUMNS, &q.temp_spilling)?;
                }
            }
        }
    }
    if let Some(t) = r.tables.as_ref().filter(|_| has(Section::Tables)) {
        writeln!(out, "## Tables\n")?;
        writeln!(
            out,
            "{} tables, {} in total.\n",
            t.total,
            human_bytes(t.total_bytes)
        )?;
        if !t.rows.is_empty() {
            table(out, TABLE_COLUMNS, &t.rows)?;
        }
    }
    if let Some(ix) = r.indexes.as_ref().filter(|_| has(Section::Indexes)) {
        writeln!(out, "## Indexes\n")?;
        writeln!(
            out,
            "{} indexes, {} in total.\n",
            ix.total,
            human_bytes(ix.total_bytes)
        )?;
        if !ix.rows.is_empty() {
            table(out, INDEX_COLUMNS, &ix.rows)?;
        }
    }
    if let Some(res) = r.resources.as_ref().filter(|_| has(Section::Resources)) {
        writeln!(out, "## Resources\n")?;
        if let Some(c) = &res.connections {
            let states: Vec<String> = c.by_state.iter().map(|(k, v)| format!("{k} {v}")).collect();
            writeln!(
                out,
                "- Connections: {} of {} usable ({:.0}%, max_connections {}): {}",
                c.total,
                c.usable,
                c.used_pct,
                c.max_connections,
                states.join(", ")
            )?;
        }
        if let Some(d) = &res.database {
            writeln!(
                out,
                "- Database `{}`: {}, cache hit {}, xid age {} ({:.1}% of wraparound), multixact age {} ({:.1}%)",
                d.name,
                human_bytes(d.size_bytes),
                d.cache_hit_pct.map_or("n/a".into(), |p| format!("{p:.2}%")),
                d.xid_age,
                d.xid_age_pct,
                d.mxid_age,
                d.mxid_age_pct
            )?;
        }
        if let Some(h) = &res.host {
            writeln!(
                out,
                "- Host ({}, {}): {} CPUs {:.0}% busy, memory {} of {} used",
                h.label,
                if h.is_database_host {
                    "also the database host"
                } else {
                    "not the database host"
                },
                h.host.cpu_count,
                h.host.cpu_usage_pct,
                human_bytes(
                    h.host
                        .memory_total_bytes
                        .saturating_sub(h.host.memory_available_bytes) as i64
                ),
                human_bytes(h.host.memory_total_bytes as i64)
            )?;
        }
        writeln!(out)?;
        for (title, rows) in [
            ("Long-running queries", &res.long_running),
            ("Idle in transaction", &res.idle_in_transaction),
        ] {
            if !rows.is_empty() {
                writeln!(out, "{title}:\n")?;
                table(out, SESSION_COLUMNS, rows)?;
            }
        }
        if !res.blocked.is_empty() {
            writeln!(out, "Blocked sessions:\n")?;
            table(out, BLOCKED_COLUMNS, &res.blocked)?;
        }
    }
    if let Some(a) = &r.advisor {
        advisor_section(out, a)?;
    }
    if let Some(p) = &r.wait_profile {
        let (title, lines) = crate::render::wait_profile::summary_lines(p, 200);
        writeln!(out, "## {title}\n\n```")?;
        for l in lines {
            writeln!(out, "{l}")?;
        }
        writeln!(out, "```\n")?;
    }
    writeln!(out, "## Recommendations\n")?;
    if r.findings.is_empty() {
        writeln!(out, "No findings.\n")?;
    }
    for (i, f) in r.findings.iter().enumerate() {
        finding(out, i + 1, f)?;
    }
    writeln!(out, "## Health score: {}/100\n", r.health.score)?;
    if !r.health.deductions.is_empty() {
        table(out, DEDUCTION_COLUMNS, &r.health.deductions)?;
    }
    Ok(())
}

fn finding(out: &mut dyn Write, n: usize, f: &Finding) -> io::Result<()> {
    let lower = |s: String| s.to_lowercase();
    writeln!(
        out,
        "### {n}. `{}` {} ({} priority, {})\n",
        f.check,
        esc(&f.object),
        lower(format!("{:?}", f.priority)),
        lower(format!("{:?}", f.severity))
    )?;
    writeln!(out, "{}\n", f.message)?;
    if let Some(c) = f.confidence {
        writeln!(out, "Confidence: {}.\n", lower(format!("{c:?}")))?;
    }
    if let Some(fix) = &f.fix_sql {
        writeln!(out, "Fix:\n\n```sql\n{fix}\n```\n")?;
    }
    if let Some(rb) = &f.rollback_sql {
        writeln!(out, "Rollback:\n\n```sql\n{rb}\n```\n")?;
    }
    if let Some(v) = &f.verification {
        writeln!(out, "Verification: {}\n", esc(v))?;
    }
    Ok(())
}

/// `primary`, or `replica (replay lag 1.2 s, 4.0 kB behind)`.
fn replica_label(c: &crate::analyze::report::ConnectionSection) -> String {
    if !c.is_replica {
        return "primary".to_string();
    }
    match (c.replay_lag_seconds, c.replay_lag_bytes) {
        (Some(s), Some(b)) => format!(
            "replica, replay lag {s:.1} s, {} of WAL not yet replayed",
            crate::util::human_bytes(b)
        ),
        _ => "replica, replay lag unknown".to_string(),
    }
}

/// Every statement the index advisor analysed, with its outcome and the reason.
fn advisor_section(out: &mut dyn Write, a: &crate::advisor::AdvisorSection) -> io::Result<()> {
    writeln!(out, "## Index advisor\n")?;
    writeln!(
        out,
        "{} statements analysed, {} indexes suggested ({}).\n",
        a.statements.len(),
        a.suggestions,
        match (&a.mode, &a.hypopg_version) {
            (crate::advisor::Mode::Hypopg, Some(v)) => format!("verified with HypoPG {v}"),
            _ => "unverified: statistics only".to_string(),
        }
    )?;
    if a.statements.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "| Outcome | Query id | Calls | Cost before | Cost after | Why |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---|")?;
    let cost = |c: Option<f64>| c.map_or(String::new(), |v| format!("{v:.1}"));
    for o in &a.statements {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            o.category,
            o.queryid,
            o.calls,
            cost(o.cost_before),
            cost(o.cost_after),
            esc(&o.detail)
        )?;
    }
    writeln!(out)
}
