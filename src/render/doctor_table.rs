//! Human table output of the doctor report (comfy-table). Each listing's columns are defined
//! once, header and cell together, and shared with the markdown writer.

use std::io::{self, Write};

use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table};

use crate::analyze::queries::shorten;
use crate::analyze::report::{
    BlockedRow, DoctorReport, IndexRow, SessionRow, StatementRow, TableRow,
};
use crate::analyze::score::Deduction;
use crate::analyze::{Finding, Severity};
use crate::cli::Section;
use crate::snapshot::Skipped;
use crate::util::human_bytes;

/// One column of a listing: its header and how to render a cell.
pub struct Column<T> {
    pub header: &'static str,
    pub cell: fn(&T) -> String,
    /// Numbers align right.
    pub numeric: bool,
}

const fn col<T>(header: &'static str, cell: fn(&T) -> String) -> Column<T> {
    Column {
        header,
        cell,
        numeric: false,
    }
}

const fn num<T>(header: &'static str, cell: fn(&T) -> String) -> Column<T> {
    Column {
        header,
        cell,
        numeric: true,
    }
}

fn opt_ts(t: &Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "never".into())
}

fn latest(
    a: &Option<chrono::DateTime<chrono::Utc>>,
    b: &Option<chrono::DateTime<chrono::Utc>>,
) -> String {
    opt_ts(&match (a, b) {
        (Some(x), Some(y)) => Some(*x.max(y)),
        (x, y) => x.or(*y),
    })
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

pub const TABLE_COLUMNS: &[Column<TableRow>] = &[
    col("table", |r| r.table.clone()),
    num("rows", |r| r.rows.to_string()),
    num("total", |r| human_bytes(r.total_bytes)),
    num("table", |r| human_bytes(r.table_bytes)),
    num("indexes", |r| human_bytes(r.index_bytes)),
    num("toast", |r| human_bytes(r.toast_bytes)),
    num("seq scans", |r| r.seq_scan.to_string()),
    num("idx scans", |r| r.idx_scan.to_string()),
    num("live", |r| r.n_live_tup.to_string()),
    num("dead", |r| r.n_dead_tup.to_string()),
    col("last vacuum", |r| {
        latest(&r.last_vacuum, &r.last_autovacuum)
    }),
    col("last analyze", |r| {
        latest(&r.last_analyze, &r.last_autoanalyze)
    }),
    num("est. bloat", |r| match (r.bloat_bytes, r.bloat_pct) {
        (Some(b), Some(p)) => format!("{} ({p:.0}%)", human_bytes(b)),
        _ => "n/a".into(),
    }),
    num("cache hit", |r| {
        r.cache_hit_pct.map_or("n/a".into(), |p| format!("{p:.1}%"))
    }),
];

pub const INDEX_COLUMNS: &[Column<IndexRow>] = &[
    col("index", |r| r.index.clone()),
    col("table", |r| r.table.clone()),
    col("method", |r| r.method.clone()),
    num("size", |r| human_bytes(r.bytes)),
    num("scans", |r| r.idx_scan.to_string()),
    col("backs", |r| {
        let mut s = r.constraint.clone().unwrap_or_else(|| {
            if r.unique {
                "unique".into()
            } else {
                String::new()
            }
        });
        if !r.valid {
            s.push_str(" INVALID");
        }
        s.trim().to_string()
    }),
];

pub const STATEMENT_COLUMNS: &[Column<StatementRow>] = &[
    col("statement", |s| shorten(&s.query, 70)),
    num("calls", |s| s.latency.calls.to_string()),
    num("total ms", |s| ms(s.total_ms)),
    num("share", |s| format!("{:.1}%", s.share_of_total_time_pct)),
    num("mean ms", |s| ms(s.latency.mean_ms)),
    num("~p95 ms", |s| ms(s.latency.p95_ms)),
    num("~p99 ms", |s| ms(s.latency.p99_ms)),
    num("limit ms", |s| ms(s.threshold_ms)),
    num("rows/call", |s| format!("{:.1}", s.rows_per_call)),
    num("temp blks", |s| s.temp_blks_written.to_string()),
];

pub const SESSION_COLUMNS: &[Column<SessionRow>] = &[
    num("pid", |s| s.pid.to_string()),
    col("user", |s| s.user.clone().unwrap_or_default()),
    col("database", |s| s.database.clone().unwrap_or_default()),
    col("state", |s| {
        s.state.clone().unwrap_or_else(|| "not visible".into())
    }),
    num("for", |s| format!("{:.0} s", s.duration_ms / 1000.0)),
    col("query", |s| shorten(s.query.as_deref().unwrap_or(""), 60)),
];

pub const BLOCKED_COLUMNS: &[Column<BlockedRow>] = &[
    num("pid", |s| s.pid.to_string()),
    col("blocked by", |s| {
        s.blocked_by
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }),
    col("waiting for", |s| s.waiting_for.clone().unwrap_or_default()),
    num("waiting", |s| format!("{:.1} s", s.waiting_ms / 1000.0)),
    col("query", |s| shorten(s.query.as_deref().unwrap_or(""), 60)),
];

pub const SKIPPED_COLUMNS: &[Column<Skipped>] = &[
    col("skipped", |s| s.what.clone()),
    col("why", |s| s.reason.clone()),
    col("to enable", |s| s.enable.clone().unwrap_or_default()),
];

pub const FINDING_COLUMNS: &[Column<(usize, Finding)>] = &[
    num("#", |(i, _)| (i + 1).to_string()),
    col("priority", |(_, f)| {
        format!("{:?}", f.priority).to_lowercase()
    }),
    col("severity", |(_, f)| {
        format!("{:?}", f.severity).to_lowercase()
    }),
    col("check", |(_, f)| f.check.clone()),
    col("object", |(_, f)| f.object.clone()),
    col("finding", |(_, f)| {
        let mut m = f.message.clone();
        if let Some(c) = f.confidence {
            m.push_str(&format!(
                " [confidence: {}]",
                format!("{c:?}").to_lowercase()
            ));
        }
        m
    }),
];

pub const DEDUCTION_COLUMNS: &[Column<Deduction>] = &[
    col("check", |d| d.check.clone()),
    num("critical", |d| d.critical.to_string()),
    num("warning", |d| d.warning.to_string()),
    num("info", |d| d.info.to_string()),
    num("points", |d| format!("-{}", d.points)),
];

fn build<T>(cols: &[Column<T>], rows: &[T], color: bool) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if !color {
        t.force_no_tty();
    }
    t.set_header(cols.iter().map(|c| Cell::new(c.header)));
    for r in rows {
        t.add_row(cols.iter().map(|c| {
            let cell = Cell::new((c.cell)(r));
            if c.numeric {
                cell.set_alignment(CellAlignment::Right)
            } else {
                cell
            }
        }));
    }
    t
}

fn heading(out: &mut dyn Write, title: &str, color: bool) -> io::Result<()> {
    if color {
        writeln!(out, "\n\x1b[1m== {title} ==\x1b[0m")
    } else {
        writeln!(out, "\n== {title} ==")
    }
}

fn paint(s: &str, sev: Severity, color: bool) -> String {
    if !color {
        return s.to_string();
    }
    let code = match sev {
        Severity::Critical => "31",
        Severity::Warning => "33",
        Severity::Info => "36",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

pub fn write(report: &DoctorReport, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let r = report;
    writeln!(
        out,
        "dbdoctor doctor: {} ({}, data read {})",
        r.target,
        r.source,
        r.generated_at.format("%Y-%m-%d %H:%M:%S UTC")
    )?;
    writeln!(out, "Health score: {}/100", r.health.score)?;
    let has = |s: Section| r.sections.contains(&s);
    if has(Section::Connection) {
        heading(out, "Connection", color)?;
        let c = &r.connection;
        let mut privs = Vec::new();
        if c.superuser {
            privs.push("superuser");
        }
        if c.pg_monitor {
            privs.push("pg_monitor");
        }
        if c.pg_read_all_stats {
            privs.push("pg_read_all_stats");
        }
        writeln!(
            out,
            "server {} ({}), role {} ({})",
            c.server_version,
            replica_label(c),
            c.role,
            if privs.is_empty() {
                "no monitoring privileges".to_string()
            } else {
                privs.join(", ")
            }
        )?;
        writeln!(
            out,
            "connect {:.1} ms, round trip {:.3} ms (median of {} SELECT 1)",
            c.connect_ms, c.round_trip_ms, c.round_trip_samples
        )?;
        writeln!(out, "{}", c.statistics.describe())?;
        let exts: Vec<String> = r
            .capabilities
            .extensions
            .iter()
            .filter_map(|e| {
                e.installed_version
                    .as_ref()
                    .map(|v| format!("{} {v}", e.name))
            })
            .collect();
        writeln!(
            out,
            "extensions: {}",
            if exts.is_empty() {
                "none".into()
            } else {
                exts.join(", ")
            }
        )?;
        if !r.skipped.is_empty() {
            writeln!(out, "{}", build(SKIPPED_COLUMNS, &r.skipped, color))?;
        }
    }
    if has(Section::Queries) {
        heading(out, "Query performance", color)?;
        match &r.queries {
            None => writeln!(out, "no statement statistics (see skipped)")?,
            Some(q) => {
                if !r.slow_queries_only {
                    writeln!(
                        out,
                        "{} statements, {} calls, {:.0} ms total, {} ({}); workload latency mean {:.2} ms, ~p95 {:.2} ms, ~p99 {:.2} ms (~ estimated from aggregates)",
                        q.statements_analysed,
                        q.total_calls,
                        q.total_ms,
                        q.qps.map_or("QPS n/a".into(), |v| format!("{v:.1} QPS")),
                        q.qps_basis,
                        q.latency.mean_ms,
                        q.latency.p95_ms,
                        q.latency.p99_ms
                    )?;
                    writeln!(out, "top statements by total time:")?;
                    writeln!(out, "{}", build(STATEMENT_COLUMNS, &q.statements, color))?;
                }
                writeln!(out, "slow statements: {}", q.slow.len())?;
                if !q.slow.is_empty() {
                    writeln!(out, "{}", build(STATEMENT_COLUMNS, &q.slow, color))?;
                }
                if !r.slow_queries_only && !q.temp_spilling.is_empty() {
                    writeln!(out, "statements spilling to temporary files:")?;
                    writeln!(out, "{}", build(STATEMENT_COLUMNS, &q.temp_spilling, color))?;
                }
            }
        }
    }
    if let Some(t) = r.tables.as_ref().filter(|_| has(Section::Tables)) {
        heading(out, "Tables", color)?;
        writeln!(
            out,
            "{} tables, {} in total{}",
            t.total,
            human_bytes(t.total_bytes),
            if t.total > t.rows.len() {
                format!("; the {} largest:", t.rows.len())
            } else {
                String::new()
            }
        )?;
        if !t.rows.is_empty() {
            writeln!(out, "{}", build(TABLE_COLUMNS, &t.rows, color))?;
        }
    }
    if let Some(ix) = r.indexes.as_ref().filter(|_| has(Section::Indexes)) {
        heading(out, "Indexes", color)?;
        writeln!(
            out,
            "{} indexes, {} in total{}",
            ix.total,
            human_bytes(ix.total_bytes),
            if ix.total > ix.rows.len() {
                format!("; the {} largest:", ix.rows.len())
            } else {
                String::new()
            }
        )?;
        if !ix.rows.is_empty() {
            writeln!(out, "{}", build(INDEX_COLUMNS, &ix.rows, color))?;
        }
    }
    if let Some(res) = r.resources.as_ref().filter(|_| has(Section::Resources)) {
        heading(out, "Resources", color)?;
        if let Some(c) = &res.connections {
            let states: Vec<String> = c.by_state.iter().map(|(k, v)| format!("{k} {v}")).collect();
            writeln!(
                out,
                "connections: {} of {} usable ({:.0}%; max_connections {}): {}",
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
                "database {}: {}, cache hit {}, xid age {} ({:.1}% of wraparound), multixact age {} ({:.1}%), deadlocks {}, temp files {}",
                d.name,
                human_bytes(d.size_bytes),
                d.cache_hit_pct.map_or("n/a".into(), |p| format!("{p:.2}%")),
                d.xid_age,
                d.xid_age_pct,
                d.mxid_age,
                d.mxid_age_pct,
                d.deadlocks,
                human_bytes(d.temp_bytes)
            )?;
        }
        for (title, rows) in [
            ("long-running queries", &res.long_running),
            ("idle in transaction", &res.idle_in_transaction),
        ] {
            writeln!(out, "{title}: {}", rows.len())?;
            if !rows.is_empty() {
                writeln!(out, "{}", build(SESSION_COLUMNS, rows, color))?;
            }
        }
        writeln!(out, "blocked sessions: {}", res.blocked.len())?;
        if !res.blocked.is_empty() {
            writeln!(out, "{}", build(BLOCKED_COLUMNS, &res.blocked, color))?;
        }
        if let Some(h) = &res.host {
            writeln!(
                out,
                "{} ({}; {}): {} CPUs {:.0}% busy, load {:.2}, memory {} of {} used",
                h.label,
                h.host.hostname.as_deref().unwrap_or("?"),
                if h.is_database_host {
                    "also the database host"
                } else {
                    "not the database host"
                },
                h.host.cpu_count,
                h.host.cpu_usage_pct,
                h.host.load_average_1m,
                human_bytes(
                    h.host
                        .memory_total_bytes
                        .saturating_sub(h.host.memory_available_bytes) as i64
                ),
                human_bytes(h.host.memory_total_bytes as i64)
            )?;
            for d in &h.host.disks {
                writeln!(
                    out,
                    "  disk {}: {} free of {}",
                    d.mount_point,
                    human_bytes(d.available_bytes as i64),
                    human_bytes(d.total_bytes as i64)
                )?;
            }
        }
    }
    heading(out, "Recommendations", color)?;
    if r.findings.is_empty() {
        writeln!(out, "no findings")?;
    } else {
        let rows: Vec<(usize, Finding)> = r.findings.iter().cloned().enumerate().collect();
        writeln!(out, "{}", build(FINDING_COLUMNS, &rows, color))?;
        for (i, f) in r.findings.iter().enumerate() {
            if let Some(fix) = &f.fix_sql {
                writeln!(
                    out,
                    "#{} {} {}",
                    i + 1,
                    paint(&f.check, f.severity, color),
                    f.object
                )?;
                writeln!(out, "  fix:      {}", fix.replace('\n', "\n            "))?;
                if let Some(rb) = &f.rollback_sql {
                    writeln!(out, "  rollback: {}", rb.replace('\n', "\n            "))?;
                }
                if let Some(v) = &f.verification {
                    writeln!(out, "  verification: {v}")?;
                }
            }
        }
    }
    heading(out, "Health score", color)?;
    writeln!(out, "{}/100", r.health.score)?;
    if !r.health.deductions.is_empty() {
        writeln!(
            out,
            "{}",
            build(DEDUCTION_COLUMNS, &r.health.deductions, color)
        )?;
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
