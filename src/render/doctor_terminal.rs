//! The doctor report laid out for a terminal: findings first like a compiler's diagnostics, then
//! compact summaries (top statements, largest tables and indexes, resources), every line within
//! the chosen width.

use std::io::{self, Write};

use crate::analyze::report::{
    ConnectionSection, DoctorReport, IndexRow, QueriesSection, ResourcesSection, StatementRow,
    TableRow,
};
use crate::analyze::{Finding, Severity};
use crate::render::document::{
    cache_hit, connection_states, host_role, memory_used, message_with_confidence, word, Document,
    Part,
};
use crate::render::table::{number, text, Column, Table};
use crate::render::terminal::{fit, grid, thousands, width_of, wrap, Style};
use crate::util::human_bytes;

/// Rows each summary lists before "… and N more".
pub const SUMMARY_ROWS: usize = 10;
/// Statements the summary lists before "… and N more".
pub const SUMMARY_STATEMENTS: usize = 5;
/// Skipped checks listed before "… and N more".
const SUMMARY_SKIPPED: usize = 5;

/// How to lay the report out.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Columns available; every line stays within it (SQL of fixes excepted: it must stay
    /// copyable, so it is never cut).
    pub width: usize,
    pub color: bool,
    /// List every row instead of the top ones (`--all`).
    pub all: bool,
    /// Where the thresholds came from, named in the header (`budgets.toml`, `defaults`).
    pub config: Option<String>,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            width: crate::render::terminal::DEFAULT_WIDTH,
            color: false,
            all: false,
            config: None,
        }
    }
}

pub fn write(report: &DoctorReport, out: &mut dyn Write, layout: &Layout) -> io::Result<()> {
    let style = Style {
        color: layout.color,
    };
    let w = layout.width;
    let doc = Document::of(report);
    header(report, doc.connection(), out, layout, style)?;
    findings(&report.findings, out, w, style)?;
    for part in &doc.parts {
        match *part {
            // In the header above; the advisor's outcomes are markdown's.
            Part::Connection(_) | Part::Advisor(_) => {}
            Part::Queries(q) => {
                statements(report, q, out, layout, style)?;
                if let Some(p) = &report.wait_profile {
                    let (title, lines) =
                        crate::render::wait_profile::summary_lines(p, w.saturating_sub(2));
                    writeln!(out, "\n{}", style.bold(&fit(&title, w)))?;
                    for l in lines {
                        writeln!(out, "  {l}")?;
                    }
                }
            }
            Part::Tables(t) => {
                let title = largest("tables", t.total, t.total_bytes);
                listing(out, &title, TABLES, &t.rows, t.total, layout, SUMMARY_ROWS)?;
            }
            Part::Indexes(ix) => {
                let title = largest("indexes", ix.total, ix.total_bytes);
                listing(
                    out,
                    &title,
                    INDEXES,
                    &ix.rows,
                    ix.total,
                    layout,
                    SUMMARY_ROWS,
                )?;
            }
            Part::Resources(res) => resources(res, out, w, style)?,
        }
    }
    skipped(report, out, layout, style)?;
    health(report, out, w, style)
}

/// `Largest tables (1,204 tables, 3.1 GB in total)`.
fn largest(what: &str, total: usize, bytes: i64) -> String {
    format!(
        "Largest {what} ({} {what}, {} in total)",
        thousands(total as i64),
        human_bytes(bytes)
    )
}

fn header(
    r: &DoctorReport,
    connection: Option<&ConnectionSection>,
    out: &mut dyn Write,
    layout: &Layout,
    style: Style,
) -> io::Result<()> {
    let w = layout.width;
    let title = format!(
        "dbdoctor doctor: {} ({}, data read {})",
        r.target,
        r.source,
        r.generated_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    writeln!(out, "{}", style.bold(&fit(&title, w)))?;
    let count = |s: Severity| r.findings.iter().filter(|f| f.severity == s).count();
    let mut summary = format!(
        "health {}/100 · {} finding{}",
        r.health.score,
        r.findings.len(),
        if r.findings.len() == 1 { "" } else { "s" }
    );
    if !r.findings.is_empty() {
        summary.push_str(&format!(
            ": {} critical, {} warning, {} info",
            count(Severity::Critical),
            count(Severity::Warning),
            count(Severity::Info)
        ));
    }
    for l in wrap(&summary, w, "", "  ") {
        writeln!(out, "{l}")?;
    }
    if let Some(c) = &layout.config {
        // Never wrapped: people search for this line.
        writeln!(out, "thresholds: {}", fit(c, w.saturating_sub(12)))?;
    }
    if let Some(c) = connection {
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
        let line = format!(
            "server {} ({}) · role {} ({}) · connect {:.1} ms, round trip {:.3} ms · {} · extensions: {}",
            c.server_version,
            if c.is_replica { "replica" } else { "primary" },
            c.role,
            if privs.is_empty() {
                "no monitoring privileges".to_string()
            } else {
                privs.join(", ")
            },
            c.connect_ms,
            c.round_trip_ms,
            c.statistics.describe(),
            if exts.is_empty() {
                "none".into()
            } else {
                exts.join(", ")
            }
        );
        for l in wrap(&line, w, "", "  ") {
            writeln!(out, "{}", style.dim(&l))?;
        }
    }
    Ok(())
}

/// `critical[check] object (priority high)` — the first line of a finding's block, within
/// `w`: the priority goes first when room runs out, then the object is cut.
fn finding_title(f: &Finding, w: usize, style: Style) -> String {
    let sev = word(f.severity);
    let check = format!("[{}]", f.check);
    let priority = format!("(priority {})", word(f.priority));
    let fixed = width_of(&sev) + width_of(&check) + 1;
    let with_priority = fixed + width_of(&f.object) + 1 + width_of(&priority);
    let (object, priority) = if with_priority <= w {
        (f.object.to_string(), Some(priority))
    } else {
        (fit(&f.object, w.saturating_sub(fixed)), None)
    };
    let mut t = format!(
        "{}{} {}",
        style.severity(f.severity, &sev),
        style.bold(&check),
        object
    );
    if let Some(p) = priority {
        t.push(' ');
        t.push_str(&style.dim(&p));
    }
    t
}

/// One block per finding, highest priority first (the report's order): severity, check id and
/// object; why, with its numbers; then the fix and rollback SQL, indented.
fn findings(list: &[Finding], out: &mut dyn Write, w: usize, style: Style) -> io::Result<()> {
    writeln!(out)?;
    if list.is_empty() {
        writeln!(out, "{}", style.bold("no findings"))?;
        return Ok(());
    }
    for (i, f) in list.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", finding_title(f, w, style))?;
        for l in wrap(
            &message_with_confidence(f),
            w,
            "       why: ",
            "            ",
        ) {
            writeln!(out, "{l}")?;
        }
        if let Some(fix) = &f.fix_sql {
            sql_block(out, "       fix: ", fix)?;
        }
        if let Some(rb) = &f.rollback_sql {
            sql_block(out, "  rollback: ", rb)?;
        }
        if let Some(v) = &f.verification {
            for l in wrap(v, w, "verification: ", "              ") {
                writeln!(out, "{l}")?;
            }
        }
    }
    Ok(())
}

/// SQL under a label, continuation lines aligned under the first; never cut (it must stay
/// runnable when copied).
fn sql_block(out: &mut dyn Write, label: &str, sql: &str) -> io::Result<()> {
    let pad = " ".repeat(label.len());
    for (i, l) in sql.trim_end().lines().enumerate() {
        let l = l.trim_end();
        if i == 0 {
            writeln!(out, "{label}{l}")?;
        } else if l.is_empty() {
            writeln!(out)?;
        } else {
            writeln!(out, "{pad}{l}")?;
        }
    }
    Ok(())
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        thousands(v.round() as i64)
    } else {
        format!("{v:.2}")
    }
}

const STATEMENTS: &[Column<StatementRow>] = &[
    number("share", |s| format!("{:.1}%", s.share_of_total_time_pct)),
    number("total ms", |s| ms(s.total_ms)),
    number("calls", |s| thousands(s.latency.calls as i64)),
    number("mean ms", |s| ms(s.latency.mean_ms)),
    number("~p95 ms", |s| ms(s.latency.p95_ms)),
    text("statement", |s| s.query.clone()),
];

fn statements(
    r: &DoctorReport,
    q: Option<&QueriesSection>,
    out: &mut dyn Write,
    layout: &Layout,
    style: Style,
) -> io::Result<()> {
    let Some(q) = q else {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            style.bold("Statements: no statement statistics (see skipped)")
        )?;
        return Ok(());
    };
    let (title, rows) = if r.slow_queries_only {
        (format!("Slow statements ({})", q.slow.len()), &q.slow)
    } else {
        let (qps, latency) = super::workload_text(q);
        let line = format!(
            "Top statements by total time ({} analysed, {} calls, {qps}; {latency}; {} slow)",
            thousands(q.statements_analysed as i64),
            thousands(q.total_calls),
            q.slow.len()
        );
        (line, &q.statements)
    };
    let total = if r.slow_queries_only {
        q.slow.len()
    } else {
        q.statements_analysed
    };
    listing(
        out,
        &title,
        STATEMENTS,
        rows,
        total,
        layout,
        SUMMARY_STATEMENTS,
    )
}

const TABLES: &[Column<TableRow>] = &[
    text("table", |r| r.table.clone()),
    number("total", |r| human_bytes(r.total_bytes)),
    number("rows", |r| thousands(r.rows)),
    number("dead", |r| thousands(r.n_dead_tup)),
    number("est. bloat", |r| match (r.bloat_bytes, r.bloat_pct) {
        (Some(b), Some(p)) => format!("{} ({p:.0}%)", human_bytes(b)),
        _ => "n/a".into(),
    }),
    number("seq scans", |r| thousands(r.seq_scan)),
    number("idx scans", |r| thousands(r.idx_scan)),
];

const INDEXES: &[Column<IndexRow>] = &[
    text("index", |r| {
        if r.valid {
            r.index.clone()
        } else {
            format!("{} (INVALID)", r.index)
        }
    }),
    text("table", |r| r.table.clone()),
    number("size", |r| human_bytes(r.bytes)),
    number("scans", |r| thousands(r.idx_scan)),
];

/// A titled grid of the first rows (all with `--all`), then "… and N more" for the rest of
/// `total`.
fn listing<T>(
    out: &mut dyn Write,
    title: &str,
    cols: &[Column<T>],
    rows: &[T],
    total: usize,
    layout: &Layout,
    shown: usize,
) -> io::Result<()> {
    let style = Style {
        color: layout.color,
    };
    writeln!(out)?;
    for l in wrap(title, layout.width, "", "  ") {
        writeln!(out, "{}", style.bold(&l))?;
    }
    if rows.is_empty() {
        return Ok(());
    }
    let n = if layout.all {
        rows.len()
    } else {
        shown.min(rows.len())
    };
    // The flexible column is the text one (statement or name).
    let flex = cols.iter().position(|c| !c.numeric).unwrap_or(0);
    let flex = if cols[cols.len() - 1].numeric {
        flex
    } else {
        cols.len() - 1
    };
    let table = Table::build(cols, &rows[..n]);
    grid(out, &table, flex, layout.width, 2, style)?;
    let more = total.saturating_sub(n);
    if more > 0 {
        writeln!(
            out,
            "  … and {} more (`--all` lists them)",
            thousands(more as i64)
        )?;
    }
    Ok(())
}

fn resources(
    res: &ResourcesSection,
    out: &mut dyn Write,
    w: usize,
    style: Style,
) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{}", style.bold("Resources"))?;
    let mut lines = Vec::new();
    if let Some(c) = &res.connections {
        lines.push(format!(
            "connections {} of {} usable ({:.0}%): {}",
            c.total,
            c.usable,
            c.used_pct,
            connection_states(c)
        ));
    }
    if let Some(d) = &res.database {
        lines.push(format!(
            "database {} {}, cache hit {}, xid age {} ({:.1}% of wraparound), deadlocks {}, temp files {}",
            d.name,
            human_bytes(d.size_bytes),
            cache_hit(d.cache_hit_pct),
            thousands(d.xid_age),
            d.xid_age_pct,
            thousands(d.deadlocks),
            human_bytes(d.temp_bytes)
        ));
    }
    lines.push(format!(
        "sessions: {} long-running, {} idle in transaction, {} blocked",
        res.long_running.len(),
        res.idle_in_transaction.len(),
        res.blocked.len()
    ));
    if let Some(h) = &res.host {
        lines.push(format!(
            "{} ({}): {} CPUs {:.0}% busy, load {:.2}, {}",
            h.label,
            host_role(h),
            h.host.cpu_count,
            h.host.cpu_usage_pct,
            h.host.load_average_1m,
            memory_used(h)
        ));
    }
    for line in lines {
        for l in wrap(&line, w, "  ", "    ") {
            writeln!(out, "{l}")?;
        }
    }
    Ok(())
}

fn skipped(r: &DoctorReport, out: &mut dyn Write, layout: &Layout, style: Style) -> io::Result<()> {
    if r.skipped.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        style.bold(&format!("Skipped ({})", r.skipped.len()))
    )?;
    let n = if layout.all {
        r.skipped.len()
    } else {
        SUMMARY_SKIPPED.min(r.skipped.len())
    };
    for s in &r.skipped[..n] {
        let mut line = format!("{}: {}", s.what, s.reason);
        if let Some(e) = &s.enable {
            line.push_str(&format!(" (to enable: {e})"));
        }
        writeln!(out, "  {}", fit(&line, layout.width.saturating_sub(2)))?;
    }
    if r.skipped.len() > n {
        writeln!(
            out,
            "  … and {} more (`--all` lists them)",
            thousands((r.skipped.len() - n) as i64)
        )?;
    }
    Ok(())
}

fn health(r: &DoctorReport, out: &mut dyn Write, w: usize, style: Style) -> io::Result<()> {
    writeln!(out)?;
    let parts: Vec<String> = r
        .health
        .deductions
        .iter()
        .map(|d| format!("{} -{}", d.check, d.points))
        .collect();
    let line = if parts.is_empty() {
        format!("Health score {}/100", r.health.score)
    } else {
        format!("Health score {}/100 ({})", r.health.score, parts.join(", "))
    };
    for (i, l) in wrap(&line, w, "", "  ").into_iter().enumerate() {
        if i == 0 {
            writeln!(out, "{}", style.bold(&l))?;
        } else {
            writeln!(out, "{l}")?;
        }
    }
    Ok(())
}
