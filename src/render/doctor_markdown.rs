//! Markdown output of the doctor report (also what `--report FILE` writes): the document's parts
//! in order, laid out with the column definitions of `doctor_table`.

use std::io::{self, Write};

use crate::analyze::report::{ConnectionSection, DoctorReport, QueriesSection, ResourcesSection};
use crate::analyze::Finding;
use crate::render::doctor_table::{
    ADVISOR_COLUMNS, BLOCKED_COLUMNS, DEDUCTION_COLUMNS, INDEX_COLUMNS, SESSION_COLUMNS,
    SKIPPED_COLUMNS, STATEMENT_COLUMNS, TABLE_COLUMNS,
};
use crate::render::document::{
    cache_hit, connection_states, host_role, memory_used, word, Document, Part,
};
use crate::render::table::{markdown, markdown_cell as esc, Column, Rule, Table};
use crate::util::human_bytes;

/// A markdown table and the blank line that ends it.
fn table<T>(out: &mut dyn Write, cols: &[Column<T>], rows: &[T]) -> io::Result<()> {
    markdown(out, &Table::build(cols, rows), Rule::Tight)?;
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
    for part in Document::of(r).parts {
        match part {
            Part::Connection(c) => connection(out, r, c)?,
            Part::Queries(q) => queries(out, r, q)?,
            Part::Tables(t) => {
                writeln!(out, "## Tables\n")?;
                sized(
                    out,
                    "tables",
                    t.total,
                    t.total_bytes,
                    TABLE_COLUMNS,
                    &t.rows,
                )?;
            }
            Part::Indexes(ix) => {
                writeln!(out, "## Indexes\n")?;
                sized(
                    out,
                    "indexes",
                    ix.total,
                    ix.total_bytes,
                    INDEX_COLUMNS,
                    &ix.rows,
                )?;
            }
            Part::Resources(res) => resources(out, res)?,
            Part::Advisor(a) => advisor_section(out, a)?,
        }
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

/// `12 tables, 3.1 MB in total.` and the listed rows.
fn sized<T>(
    out: &mut dyn Write,
    what: &str,
    total: usize,
    bytes: i64,
    cols: &[Column<T>],
    rows: &[T],
) -> io::Result<()> {
    writeln!(out, "{total} {what}, {} in total.\n", human_bytes(bytes))?;
    if rows.is_empty() {
        return Ok(());
    }
    table(out, cols, rows)
}

fn connection(out: &mut dyn Write, r: &DoctorReport, c: &ConnectionSection) -> io::Result<()> {
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
    Ok(())
}

fn queries(out: &mut dyn Write, r: &DoctorReport, q: Option<&QueriesSection>) -> io::Result<()> {
    writeln!(out, "## Query performance\n")?;
    let Some(q) = q else {
        return writeln!(out, "No statement statistics (see skipped).\n");
    };
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
    Ok(())
}

fn resources(out: &mut dyn Write, res: &ResourcesSection) -> io::Result<()> {
    writeln!(out, "## Resources\n")?;
    if let Some(c) = &res.connections {
        writeln!(
            out,
            "- Connections: {} of {} usable ({:.0}%, max_connections {}): {}",
            c.total,
            c.usable,
            c.used_pct,
            c.max_connections,
            connection_states(c)
        )?;
    }
    if let Some(d) = &res.database {
        writeln!(
            out,
            "- Database `{}`: {}, cache hit {}, xid age {} ({:.1}% of wraparound), multixact age {} ({:.1}%)",
            d.name,
            human_bytes(d.size_bytes),
            cache_hit(d.cache_hit_pct),
            d.xid_age,
            d.xid_age_pct,
            d.mxid_age,
            d.mxid_age_pct
        )?;
    }
    if let Some(h) = &res.host {
        writeln!(
            out,
            "- Host ({}, {}): {} CPUs {:.0}% busy, {}",
            h.label,
            host_role(h),
            h.host.cpu_count,
            h.host.cpu_usage_pct,
            memory_used(h)
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
    Ok(())
}

fn finding(out: &mut dyn Write, n: usize, f: &Finding) -> io::Result<()> {
    writeln!(
        out,
        "### {n}. `{}` {} ({} priority, {})\n",
        f.check,
        esc(&f.object),
        word(f.priority),
        word(f.severity)
    )?;
    writeln!(out, "{}\n", f.message)?;
    if let Some(c) = f.confidence {
        writeln!(out, "Confidence: {}.\n", word(c))?;
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
fn replica_label(c: &ConnectionSection) -> String {
    if !c.is_replica {
        return "primary".to_string();
    }
    match (c.replay_lag_seconds, c.replay_lag_bytes) {
        (Some(s), Some(b)) => format!(
            "replica, replay lag {s:.1} s, {} of WAL not yet replayed",
            human_bytes(b)
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
    table(out, ADVISOR_COLUMNS, &a.statements)
}

#[cfg(test)]
mod tests {
    use crate::advisor::{AdvisorSection, Mode, StatementOutcome};
    use crate::analyze::doctor::CheckSelection;
    use crate::analyze::report::{doctor_report, ReportOptions};
    use crate::analyze::testdata::sample_snapshot;
    use crate::analyze::thresholds::Thresholds;

    #[test]
    fn the_advisor_section_lists_every_outcome_in_one_table() {
        let mut r = doctor_report(
            &sample_snapshot(),
            &Thresholds::default(),
            &CheckSelection::default(),
            &ReportOptions::default(),
        );
        r.advisor = Some(AdvisorSection {
            mode: Mode::Hypopg,
            hypopg_version: Some("1.4.1".into()),
            enable_verification: None,
            suggestions: 1,
            statements: vec![StatementOutcome {
                queryid: 42,
                calls: 7,
                total_time_ms: 1.0,
                outcome: "helped".into(),
                detail: "cost a|b\nfell".into(),
                cost_before: Some(120.54),
                cost_after: None,
                category: "suggested".into(),
                query: "SELECT 1".into(),
                explained_as: None,
            }],
        });
        let mut out = Vec::new();
        super::write(&r, &mut out).unwrap();
        let md = String::from_utf8(out).unwrap();
        let expected = "## Index advisor\n\n\
            1 statements analysed, 1 indexes suggested (verified with HypoPG 1.4.1).\n\n\
            | Outcome | Query id | Calls | Cost before | Cost after | Why |\n\
            |---|---:|---:|---:|---:|---|\n\
            | suggested | 42 | 7 | 120.5 |  | cost a\\|b fell |\n\n\
            ## Recommendations\n";
        assert!(md.contains(expected), "{md}");
    }
}
