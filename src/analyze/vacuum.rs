//! Vacuum checks: dead tuples beyond the autovacuum trigger (per-table settings honoured) and
//! transaction ID / multixact age against the wraparound horizon.

use serde_json::json;

use crate::analyze::doctor::{needs, needs_either, Input, Sink};
use crate::analyze::indexes::round2;
use crate::analyze::sqlfix;
use crate::analyze::{Finding, Priority, Severity};
use crate::collect::schema::{ServerSettings, TableInfo};
use crate::util::{qualified, quote_ident};

/// Transaction IDs and multixacts wrap around after 2^31.
pub const WRAPAROUND_HORIZON: f64 = 2_147_483_648.0;
/// Tables named in an xid_wraparound finding.
const OLDEST_TABLES_LISTED: usize = 5;

pub fn run(input: &Input, sink: &mut Sink) {
    let s = &input.snap.schema;
    let snap = input.snap;
    let tables = s.tables.as_deref();
    sink.check(
        "dead_tuples",
        tables.zip(s.settings.as_ref()),
        || needs_either(snap, "tables", tables.is_some(), "settings"),
        |(t, st), out| dead_tuples(input, t, st, out),
    );
    sink.check(
        "xid_wraparound",
        input.snap.activity.database.as_ref(),
        || needs(snap, "database"),
        |db, out| wraparound(input, db, tables.unwrap_or(&[]), out),
    );
}

fn reloption<'a>(t: &'a TableInfo, key: &str) -> Option<&'a str> {
    t.reloptions
        .iter()
        .find_map(|o| o.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v))
}

fn dead_tuples(input: &Input, tables: &[TableInfo], st: &ServerSettings, out: &mut Vec<Finding>) {
    let th = input.th;
    for t in tables.iter().filter(|t| t.kind == "r" || t.kind == "m") {
        if t.n_dead_tup < th.dead_tuples_min {
            continue;
        }
        let threshold = reloption(t, "autovacuum_vacuum_threshold")
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(st.autovacuum_vacuum_threshold as f64);
        let scale = reloption(t, "autovacuum_vacuum_scale_factor")
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(st.autovacuum_vacuum_scale_factor);
        let table_off = reloption(t, "autovacuum_enabled").is_some_and(|v| {
            matches!(
                v.to_ascii_lowercase().as_str(),
                "false" | "off" | "0" | "no"
            )
        });
        let trigger = threshold + scale * t.reltuples.max(0.0);
        if (t.n_dead_tup as f64) <= trigger {
            continue;
        }
        let name = qualified(&t.schema, &t.name);
        let live = t.n_live_tup.max(0) as f64;
        let dead_pct = t.n_dead_tup as f64 / (live + t.n_dead_tup as f64).max(1.0) * 100.0;
        let why = if !st.autovacuum {
            "autovacuum is off for the whole server".to_string()
        } else if table_off {
            "autovacuum is disabled on this table (autovacuum_enabled = false)".to_string()
        } else {
            "autovacuum is falling behind (busy workers, long transactions holding the xmin horizon, or cost limits)".to_string()
        };
        let mut fix = format!("VACUUM (ANALYZE) {name};");
        let mut rollback = sqlfix::nothing_to_undo("VACUUM only removes dead rows");
        if table_off {
            fix.push_str(&format!("\nALTER TABLE {name} RESET (autovacuum_enabled);"));
            rollback = format!("ALTER TABLE {name} SET (autovacuum_enabled = false);");
        }
        out.push(
            Finding::new(
                "dead_tuples",
                if dead_pct >= 50.0 { Severity::Critical } else { Severity::Warning },
                if dead_pct >= 50.0 { Priority::High } else { Priority::Medium },
                name.clone(),
                format!(
                    "table {} has {} dead rows ({:.0}% of its rows), past its autovacuum trigger of {:.0} ({} + {} x {:.0} rows): {}",
                    name, t.n_dead_tup, dead_pct, trigger, threshold, scale, t.reltuples.max(0.0), why
                ),
            )
            .table(name)
            .detail(json!({
                "n_dead_tup": t.n_dead_tup,
                "n_live_tup": t.n_live_tup,
                "dead_pct": round2(dead_pct),
                "autovacuum_trigger": trigger.round() as i64,
                "autovacuum_vacuum_threshold": threshold,
                "autovacuum_vacuum_scale_factor": scale,
                "autovacuum_enabled": st.autovacuum && !table_off,
                "last_vacuum": t.last_vacuum,
                "last_autovacuum": t.last_autovacuum,
            }))
            .fix(fix, Some(rollback)),
        );
    }
}

fn wraparound(
    input: &Input,
    db: &crate::collect::activity::DatabaseStats,
    tables: &[TableInfo],
    out: &mut Vec<Finding>,
) {
    let th = input.th;
    for (kind, age) in [("transaction ID", db.xid_age), ("multixact", db.mxid_age)] {
        let p = age as f64 / WRAPAROUND_HORIZON * 100.0;
        if p < th.xid_age_pct {
            continue;
        }
        let critical = p >= th.xid_age_critical_pct;
        let mut oldest: Vec<&TableInfo> = tables
            .iter()
            .filter(|t| {
                if kind == "multixact" {
                    t.mxid_age.is_some()
                } else {
                    t.xid_age.is_some()
                }
            })
            .collect();
        let key = |t: &TableInfo| {
            if kind == "multixact" {
                t.mxid_age.unwrap_or(0)
            } else {
                t.xid_age.unwrap_or(0)
            }
        };
        oldest.sort_by_key(|t| std::cmp::Reverse(key(t)));
        oldest.truncate(OLDEST_TABLES_LISTED);
        let fix: Vec<String> = oldest
            .iter()
            .map(|t| {
                format!(
                    "VACUUM (FREEZE, VERBOSE) {};",
                    qualified(&t.schema, &t.name)
                )
            })
            .collect();
        let holders: Vec<i32> = input
            .snap
            .activity
            .sessions
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .filter(|s| s.xmin_age.unwrap_or(0) as f64 > WRAPAROUND_HORIZON * 0.05)
            .map(|s| s.pid)
            .collect();
        let mut f = Finding::new(
            "xid_wraparound",
            if critical { Severity::Critical } else { Severity::Warning },
            Priority::High,
            quote_ident(&db.name),
            format!(
                "database {} has {} age {} ({:.1}% of the wraparound horizon): at 100% PostgreSQL stops accepting writes; freeze the oldest tables{}",
                quote_ident(&db.name),
                kind,
                age,
                p,
                if holders.is_empty() {
                    String::new()
                } else {
                    format!(" and end the old transactions of pids {holders:?}")
                }
            ),
        )
        .detail(json!({
            "kind": kind,
            "age": age,
            "horizon_pct": round2(p),
            "oldest_tables": oldest.iter().map(|t| json!({"table": qualified(&t.schema, &t.name), "age": key(t)})).collect::<Vec<_>>(),
            "old_snapshot_pids": holders,
        }));
        if !fix.is_empty() {
            f = f.fix(
                fix.join("\n"),
                Some(sqlfix::nothing_to_undo("freezing changes no data")),
            );
        }
        out.push(f);
    }
}
