//! `migrate status` as data: what the folder holds joined with what the database recorded
//! (pure; the writers are in `render::migrate_status`).

use std::path::PathBuf;

use serde::Serialize;

use super::source::{hex, Source, SourceProblem};
use super::tracking::{State, TrackingTable};

/// One line of `migrate status`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusRow {
    pub version: i64,
    pub description: String,
    /// applied, pending, changed, missing, partial, failed
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_db: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statements: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Everything `migrate status` reports.
#[derive(Debug, Clone)]
pub struct Status {
    pub rows: Vec<StatusRow>,
    /// The folder read.
    pub dir: PathBuf,
    /// sqlx's tracking table, and whether it exists yet.
    pub table: TrackingTable,
    pub table_exists: bool,
    pub problems: Vec<SourceProblem>,
}

impl Status {
    pub fn new(source: &Source, state: &State) -> Self {
        Status {
            rows: status_rows(source, state),
            dir: source.dir.clone(),
            table: state.table.clone(),
            table_exists: state.sqlx_table,
            problems: source.problems.clone(),
        }
    }

    /// How many rows are in `state`.
    pub fn count(&self, state: &str) -> usize {
        self.rows.iter().filter(|r| r.state == state).count()
    }
}

/// Join what the folder holds with what the database recorded (pure).
pub fn status_rows(source: &Source, state: &State) -> Vec<StatusRow> {
    let mut versions: Vec<i64> = source.migrations.iter().map(|m| m.version).collect();
    versions.extend(state.applied.keys());
    versions.extend(state.extras.keys());
    versions.sort_unstable();
    versions.dedup();
    let partial: std::collections::BTreeMap<i64, String> = state.partial().into_iter().collect();
    versions
        .into_iter()
        .map(|v| {
            let m = source.get(v);
            let a = state.applied.get(&v);
            let e = state.extras.get(&v);
            let state_name = match (m, a) {
                _ if partial.contains_key(&v) => "partial",
                (Some(m), Some(a)) if m.checksum != a.checksum => "changed",
                (Some(_), Some(_)) => "applied",
                (None, Some(_)) => "missing",
                (Some(_), None) if e.is_some_and(|e| e.error.is_some()) => "failed",
                (Some(_), None) => "pending",
                (None, None) => "missing",
            };
            let detail = match state_name {
                "partial" => partial.get(&v).cloned(),
                "changed" => Some("the file changed after it was applied (checksum drift)".into()),
                "missing" => Some("recorded in the database but no file in the folder".into()),
                "failed" => e.and_then(|e| e.error.clone()),
                _ => e
                    .filter(|e| e.marked_applied)
                    .map(|_| "marked applied without running (--mark-applied)".into()),
            };
            StatusRow {
                version: v,
                description: m
                    .map(|m| m.description.clone())
                    .or_else(|| a.map(|a| a.description.clone()))
                    .unwrap_or_default(),
                state: state_name,
                installed_on: a.map(|a| a.installed_on.to_rfc3339()),
                execution_ms: a
                    .filter(|a| a.execution_time_ns >= 0)
                    .map(|a| a.execution_time_ns as f64 / 1e6),
                checksum_file: m.map(|m| hex(&m.checksum)),
                checksum_db: a.map(|a| hex(&a.checksum)),
                statements: e.map(|e| format!("{}/{}", e.statements_applied, e.statements_total)),
                backup: e.and_then(|e| e.backup_location.clone()),
                detail,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::source::from_files;
    use crate::migrate::tracking::{Applied, Extra};

    fn source() -> Source {
        let f = |n: &str, sql: &str| (n.to_string(), PathBuf::from(n), sql.to_string());
        from_files(
            std::path::Path::new("m"),
            vec![
                f("1_a.sql", "CREATE TABLE a (id int);"),
                f("2_b.sql", "CREATE TABLE b (id int);"),
                f("3_c.sql", "CREATE TABLE c (id int);"),
                f("4_d.sql", "CREATE TABLE d (id int);"),
            ],
        )
    }

    fn applied(version: i64, checksum: Vec<u8>) -> Applied {
        Applied {
            version,
            description: format!("v{version}"),
            installed_on: chrono::DateTime::UNIX_EPOCH,
            success: true,
            checksum,
            execution_time_ns: 2_000_000,
        }
    }

    #[test]
    fn joins_the_folder_with_the_record() {
        let src = source();
        let mut st = State {
            sqlx_table: true,
            ..Default::default()
        };
        st.applied
            .insert(1, applied(1, src.get(1).unwrap().checksum.clone()));
        st.applied.insert(2, applied(2, vec![0]));
        st.applied.insert(9, applied(9, vec![1]));
        st.extras.insert(
            3,
            Extra {
                version: 3,
                statements_applied: 0,
                statements_total: 1,
                success: false,
                error: Some("boom".into()),
                error_statement: None,
                backup_location: None,
                data_backup: None,
                applied_by: "me".into(),
                marked_applied: false,
            },
        );
        let s = Status::new(&src, &st);
        let got: Vec<(i64, &str)> = s.rows.iter().map(|r| (r.version, r.state)).collect();
        assert_eq!(
            got,
            vec![
                (1, "applied"),
                (2, "changed"),
                (3, "failed"),
                (4, "pending"),
                (9, "missing")
            ]
        );
        assert_eq!(s.rows[0].execution_ms, Some(2.0));
        assert_eq!(s.rows[2].detail.as_deref(), Some("boom"));
        assert_eq!(s.rows[4].description, "v9");
        assert_eq!(s.count("pending"), 1);
        assert!(s.table_exists);
    }
}
