//! Columns of the doctor report's listings, each defined once (header and cell together) and
//! shared by the writers; `write` is the terminal layout at its default width.

use std::io::{self, Write};

use crate::advisor::StatementOutcome;
use crate::analyze::queries::shorten;
use crate::analyze::report::{
    BlockedRow, DoctorReport, IndexRow, SessionRow, StatementRow, TableRow,
};
use crate::analyze::score::Deduction;
use crate::render::table::{number as num, text as col, Column};
use crate::snapshot::Skipped;
use crate::util::human_bytes;

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

/// The index advisor's outcome for each statement it analysed.
pub const ADVISOR_COLUMNS: &[Column<StatementOutcome>] = &[
    col("Outcome", |o| o.category.clone()),
    num("Query id", |o| o.queryid.to_string()),
    num("Calls", |o| o.calls.to_string()),
    num("Cost before", |o| cost(o.cost_before)),
    num("Cost after", |o| cost(o.cost_after)),
    col("Why", |o| o.detail.clone()),
];

fn cost(c: Option<f64>) -> String {
    c.map_or(String::new(), |v| format!("{v:.1}"))
}

pub const DEDUCTION_COLUMNS: &[Column<Deduction>] = &[
    col("check", |d| d.check.to_string()),
    num("critical", |d| d.critical.to_string()),
    num("warning", |d| d.warning.to_string()),
    num("info", |d| d.info.to_string()),
    num("points", |d| format!("-{}", d.points)),
];

/// The report for a terminal at the default width (see `doctor_terminal` for the layout).
pub fn write(report: &DoctorReport, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let layout = crate::render::doctor_terminal::Layout {
        color,
        ..Default::default()
    };
    crate::render::doctor_terminal::write(report, out, &layout)
}
