//! `dead_tuples`: dead rows beyond the table's autovacuum trigger (per-table settings honoured),
//! with the reason autovacuum has not caught up.

use serde_json::json;

use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::sqlfix;
use crate::analyze::thresholds::{self as th, Thresholds};
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::collect::schema::TableInfo;
use crate::snapshot::Snapshot;
use crate::util::{qualified, round2};

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::DeadTuples,
        section: Section::Tables,
        summary: "dead rows beyond the table's autovacuum trigger",
    },
    severity: Severity::Warning,
    thresholds: &[("dead_tuples_min", th::DEAD_TUPLES_MIN as f64)],
    sql: &["doctor_tables.sql", "doctor_settings.sql"],
    missing: |s| {
        super::first_missing(&[
            (s.schema.tables.is_some(), "tables"),
            (s.schema.settings.is_some(), "settings"),
        ])
    },
    run,
};

fn reloption<'a>(t: &'a TableInfo, key: &str) -> Option<&'a str> {
    t.reloptions
        .iter()
        .find_map(|o| o.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v))
}

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    let (Some(tables), Some(st)) = (snap.schema.tables.as_deref(), snap.schema.settings.as_ref())
    else {
        return out;
    };
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
                CheckId::DeadTuples,
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn dead_rows_past_the_trigger_are_reported_with_the_reason() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.meals");
        assert_eq!(f[0].detail["autovacuum_enabled"], false);
        assert!(f[0]
            .fix_sql
            .as_deref()
            .unwrap()
            .ends_with("ALTER TABLE public.meals RESET (autovacuum_enabled);"));
    }

    #[test]
    fn dead_rows_under_the_trigger_are_not_reported() {
        let mut s = sample_snapshot();
        for t in s.schema.tables.as_mut().unwrap() {
            // 200,000 rows: the trigger is 50 + 0.2 x 200,000 = 40,050.
            t.n_dead_tup = t.n_dead_tup.min(40_000);
        }
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
