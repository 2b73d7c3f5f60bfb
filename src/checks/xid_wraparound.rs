//! `xid_wraparound`: transaction ID or multixact age near the wraparound horizon, where
//! PostgreSQL stops accepting writes. Names the oldest tables to freeze and the sessions whose
//! old snapshots hold the horizon back.

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
use crate::util::{qualified, quote_ident, round2};

/// Transaction IDs and multixacts wrap around after 2^31.
pub const WRAPAROUND_HORIZON: f64 = 2_147_483_648.0;
/// Tables named in an xid_wraparound finding.
const OLDEST_TABLES_LISTED: usize = 5;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::XidWraparound,
        section: Section::Resources,
        summary: "transaction ID or multixact age near wraparound",
    },
    severity: Severity::Warning,
    thresholds: &[
        ("xid_age_pct", th::XID_AGE_PCT),
        ("xid_age_critical_pct", th::XID_AGE_CRITICAL_PCT),
    ],
    sql: &[
        "doctor_database.sql",
        "doctor_tables.sql",
        "doctor_sessions.sql",
    ],
    missing: |s| s.activity.database.is_none().then_some("database"),
    run,
};

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(db) = snap.activity.database.as_ref() else {
        return out;
    };
    let tables = snap.schema.tables.as_deref().unwrap_or(&[]);
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
        let holders: Vec<i32> = snap
            .activity
            .sessions
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .filter(|s| s.xmin_age.unwrap_or(0) as f64 > WRAPAROUND_HORIZON * 0.05)
            .map(|s| s.pid)
            .collect();
        let mut f = Finding::new(
            CheckId::XidWraparound,
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn an_old_transaction_id_age_is_reported_with_tables_to_freeze() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].detail["kind"], "transaction ID");
        // 1.2 billion is 56% of the horizon: past 50%, under the critical 75%.
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0]
            .fix_sql
            .as_deref()
            .unwrap()
            .starts_with("VACUUM (FREEZE, VERBOSE)"));
        let mut older = sample_snapshot();
        older.activity.database.as_mut().unwrap().xid_age = 1_800_000_000;
        assert_eq!(
            run(&older, &Thresholds::default())[0].severity,
            Severity::Critical
        );
    }

    #[test]
    fn a_young_database_is_not_reported() {
        let mut s = sample_snapshot();
        s.activity.database.as_mut().unwrap().xid_age = 1_000;
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
