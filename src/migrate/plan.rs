//! `migrate plan`: turns doctor's index findings into migration files (pure: findings and the
//! existing folder in, files and `migration-plan.json` out).

use std::collections::BTreeMap;

use pg_query::NodeEnum;
use serde::Serialize;

use super::locks::lock_of_sql;
use super::source::{Source, NO_TX_DIRECTIVE};
use super::split::split;
use crate::analyze::{Finding, Priority};
use crate::checks::CheckId;
use crate::util::one_line;

/// Version of `migration-plan.json`.
pub const PLAN_SCHEMA_VERSION: u32 = 1;
/// Rough speed of a B-tree build over table data, for the estimate only; a concurrent build
/// reads the table twice.
pub const INDEX_BUILD_BYTES_PER_SEC: f64 = 64.0 * 1024.0 * 1024.0;
/// Checks whose fixes are index operations `plan` turns into migrations.
pub const INDEX_CHECKS: &[CheckId] = &[
    CheckId::UnusedIndex,
    CheckId::DuplicateIndex,
    CheckId::RedundantIndex,
    CheckId::InvalidIndex,
    CheckId::FkWithoutIndex,
    CheckId::MissingIndex,
];

/// Sizes known for a table, keyed by its qualified name.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableSize {
    pub bytes: i64,
    pub rows: f64,
}

/// One planned migration (a pair of files).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Planned {
    pub version: i64,
    pub up_file: String,
    pub down_file: String,
    pub priority: Priority,
    pub check: CheckId,
    pub object: String,
    /// Doctor's message: why this change.
    pub rationale: String,
    pub sql: String,
    pub rollback_sql: String,
    pub no_transaction: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_bytes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_rows: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_bytes: Option<i64>,
    /// e.g. `SHARE UPDATE EXCLUSIVE on public.meals`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_lock: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_build_seconds: Option<f64>,
    /// The same statement already sits in the folder: nothing new is written for it (not in the
    /// JSON, so a second run writes the same bytes).
    #[serde(skip)]
    pub already_in_folder: bool,
    #[serde(skip)]
    pub up_contents: String,
    #[serde(skip)]
    pub down_contents: String,
}

/// A finding left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Left {
    pub check: CheckId,
    pub object: String,
    pub reason: String,
}

/// The whole plan, as written to `migration-plan.json` (no timestamps: running `plan` twice on
/// the same state writes the same bytes).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub schema_version: u32,
    pub server_version_num: i32,
    pub migrations: Vec<Planned>,
    pub left_out: Vec<Left>,
}

impl Plan {
    pub fn json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("plan serializes");
        s.push('\n');
        s
    }
}

fn normalize(sql: &str) -> String {
    sql.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(';')
        .trim()
        .to_lowercase()
}

/// Add IF [NOT] EXISTS to CREATE INDEX / DROP INDEX so a rerun is harmless.
pub fn idempotent(stmt: &str) -> String {
    let node = pg_query::parse(stmt).ok().and_then(|p| {
        p.protobuf
            .stmts
            .first()
            .and_then(|r| r.stmt.as_ref())
            .and_then(|n| n.node.clone())
    });
    let insert_after = |s: &str, anchors: &[&str], what: &str| -> String {
        for a in anchors {
            if let Some(i) = s.to_ascii_uppercase().find(a) {
                let at = i + a.len();
                return format!("{}{what}{}", &s[..at], &s[at..]);
            }
        }
        s.to_string()
    };
    match node {
        Some(NodeEnum::IndexStmt(s)) if !s.if_not_exists && !s.idxname.is_empty() => insert_after(
            stmt,
            &["INDEX CONCURRENTLY", "UNIQUE INDEX", "INDEX"],
            " IF NOT EXISTS",
        ),
        Some(NodeEnum::DropStmt(s)) if !s.missing_ok => {
            insert_after(stmt, &["INDEX CONCURRENTLY", "INDEX"], " IF EXISTS")
        }
        _ => stmt.to_string(),
    }
}

fn is_concurrent(stmt: &str) -> bool {
    let node = pg_query::parse(stmt).ok().and_then(|p| {
        p.protobuf
            .stmts
            .first()
            .and_then(|r| r.stmt.as_ref())
            .and_then(|n| n.node.clone())
    });
    match node {
        Some(NodeEnum::IndexStmt(s)) => s.concurrent,
        Some(NodeEnum::DropStmt(s)) => s.concurrent,
        Some(NodeEnum::ReindexStmt(s)) => s.params.iter().any(|p| {
            matches!(p.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "concurrently")
        }),
        _ => false,
    }
}

fn builds_index(stmt: &str) -> bool {
    let u = stmt.to_ascii_uppercase();
    (u.starts_with("CREATE") && u.contains(" INDEX ")) || u.starts_with("REINDEX")
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    out.chars()
        .take(60)
        .collect::<String>()
        .trim_end_matches('_')
        .to_string()
}

/// PostgreSQL 14.0 to 14.3 can corrupt indexes built or rebuilt CONCURRENTLY (fixed in 14.4).
pub fn concurrent_build_is_unsafe(server_version_num: i32) -> bool {
    (140_000..140_004).contains(&server_version_num)
}

/// Build the plan. `tables` gives sizes for the estimates.
pub fn plan(
    findings: &[Finding],
    existing: &Source,
    tables: &BTreeMap<String, TableSize>,
    server_version_num: i32,
) -> Result<Plan, crate::error::Error> {
    // Statements already in the folder, to never write a duplicate.
    let mut present: BTreeMap<String, (i64, String, String)> = BTreeMap::new();
    for m in &existing.migrations {
        for st in split(&m.up.sql) {
            present.entry(normalize(&st.text)).or_insert((
                m.version,
                m.up.name.clone(),
                m.down.as_ref().map(|d| d.name.clone()).unwrap_or_default(),
            ));
        }
    }
    let mut next = existing
        .migrations
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
        + 1;
    let mut ordered: Vec<&Finding> = findings.iter().collect();
    ordered.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(a.check.cmp(&b.check))
            .then(a.object.cmp(&b.object))
    });
    let mut migrations = Vec::new();
    let mut left_out = Vec::new();
    let mut planned = std::collections::BTreeSet::new();
    for f in ordered {
        if !INDEX_CHECKS.contains(&f.check) {
            continue;
        }
        if f.confidence == Some(crate::analyze::Confidence::Low) {
            left_out.push(Left {
                check: f.check,
                object: f.object.to_string(),
                reason: "doctor's confidence is low (statistics too young to trust); run plan again later".into(),
            });
            continue;
        }
        let Some(fix) = f.fix_sql.as_deref() else {
            left_out.push(Left {
                check: f.check,
                object: f.object.to_string(),
                reason: "doctor gave no fix SQL".into(),
            });
            continue;
        };
        let fixes: Vec<String> = split(fix).into_iter().map(|s| s.text).collect();
        // `SELECT 1` is doctor's do-nothing rollback: the down file then says why in a comment.
        let rollbacks: Vec<String> = f
            .rollback_sql
            .as_deref()
            .map(|r| {
                split(r)
                    .into_iter()
                    .map(|s| s.text)
                    .filter(|t| normalize(t) != "select 1")
                    .collect()
            })
            .unwrap_or_default();
        if fixes.is_empty() {
            left_out.push(Left {
                check: f.check,
                object: f.object.to_string(),
                reason: "the fix holds no statement".into(),
            });
            continue;
        }
        let comment_rollback = f
            .rollback_sql
            .as_deref()
            .filter(|r| rollbacks.is_empty() && !r.trim().is_empty())
            .map(|r| one_line(r.trim_end().trim_end_matches("SELECT 1;")));
        let pairs: Vec<(String, Option<String>)> = if rollbacks.len() == fixes.len() {
            fixes
                .into_iter()
                .zip(rollbacks.into_iter().map(Some))
                .collect()
        } else {
            // Doctor's fixes are one statement each; if not, the rollback goes with the last.
            let n = fixes.len();
            fixes
                .into_iter()
                .enumerate()
                .map(|(i, s)| {
                    (
                        s,
                        (i + 1 == n && !rollbacks.is_empty()).then(|| rollbacks.join(";\n")),
                    )
                })
                .collect()
        };
        for (fix, rollback) in pairs {
            let sql = format!("{};", idempotent(&fix).trim_end_matches(';'));
            if concurrent_build_is_unsafe(server_version_num)
                && is_concurrent(&sql)
                && builds_index(&sql)
            {
                return Err(crate::error::Error::MigrationInvalid(format!(
                    "refusing to plan `{}`: the server runs PostgreSQL {}.{}, where CREATE INDEX CONCURRENTLY and REINDEX CONCURRENTLY can silently corrupt indexes (fixed in 14.4); upgrade to the latest 14.x minor release first",
                    one_line(&sql),
                    server_version_num / 10_000,
                    server_version_num % 100
                )));
            }
            if !planned.insert(normalize(&sql)) {
                // Two findings with the same fix (a duplicate that is also unused): once is enough.
                continue;
            }
            let no_tx = is_concurrent(&sql);
            let down_sql = match &rollback {
                Some(r) => format!("{};", idempotent(r).trim_end_matches(';')),
                None => format!(
                    "-- {}",
                    comment_rollback
                        .clone()
                        .unwrap_or_else(|| "nothing to roll back".into())
                ),
            };
            let down_no_tx = rollback.as_deref().is_some_and(is_concurrent);
            let table_size = f.table.as_deref().and_then(|t| tables.get(t)).copied();
            let index_bytes = f.detail.get("bytes").and_then(|b| b.as_i64());
            let lock = lock_of_sql(&sql).map(|l| l.describe());
            let estimate = (builds_index(&sql))
                .then(|| {
                    table_size.map(|t| {
                        t.bytes as f64 * if no_tx { 2.0 } else { 1.0 } / INDEX_BUILD_BYTES_PER_SEC
                    })
                })
                .flatten()
                .map(|s| (s * 10.0).ceil() / 10.0);
            let (version, up_file, down_file, already) = match present.get(&normalize(&sql)) {
                Some((v, up, down)) => (*v, up.clone(), down.clone(), true),
                None => {
                    let v = next;
                    next += 1;
                    let desc = slug(&format!("{:?}_{}_{}", f.priority, f.check, f.object));
                    (
                        v,
                        format!("{v}_{desc}.up.sql"),
                        format!("{v}_{desc}.down.sql"),
                        false,
                    )
                }
            };
            let header = |no_tx: bool| {
                let mut h = String::new();
                if no_tx {
                    h.push_str(NO_TX_DIRECTIVE);
                    h.push('\n');
                }
                h.push_str(&format!(
                    "-- dbdoctor plan: {} {} ({} priority)\n-- {}\n",
                    f.check,
                    f.object,
                    format!("{:?}", f.priority).to_lowercase(),
                    one_line(&f.message)
                ));
                h
            };
            migrations.push(Planned {
                version,
                up_file,
                down_file,
                priority: f.priority,
                check: f.check,
                object: f.object.to_string(),
                rationale: one_line(&f.message),
                up_contents: format!("{}{sql}\n", header(no_tx)),
                down_contents: format!("{}{down_sql}\n", header(down_no_tx)),
                sql,
                rollback_sql: down_sql,
                no_transaction: no_tx,
                table: f.table.as_ref().map(|t| t.to_string()),
                table_bytes: table_size.map(|t| t.bytes),
                table_rows: table_size.map(|t| t.rows.max(0.0) as i64),
                index_bytes,
                expected_lock: lock,
                estimated_build_seconds: estimate,
                already_in_folder: already,
            });
        }
    }
    Ok(Plan {
        schema_version: PLAN_SCHEMA_VERSION,
        server_version_num,
        migrations,
        left_out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::Severity;
    use std::path::{Path, PathBuf};

    fn findings() -> Vec<Finding> {
        vec![
            Finding::new(CheckId::UnusedIndex, Severity::Warning, Priority::Low, "public.meals_name_idx", "never scanned")
                .table("public.meals")
                .detail(serde_json::json!({"bytes": 8192}))
                .fix(
                    "DROP INDEX CONCURRENTLY IF EXISTS public.meals_name_idx;",
                    Some("CREATE INDEX CONCURRENTLY meals_name_idx ON public.meals USING btree (name);".into()),
                ),
            Finding::new(CheckId::FkWithoutIndex, Severity::Warning, Priority::High, "public.meals.meals_user_id_fkey", "fk\nwithout index")
                .table("public.meals")
                .fix(
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS meals_user_id_idx ON public.meals (user_id);",
                    Some("DROP INDEX CONCURRENTLY IF EXISTS public.meals_user_id_idx;".into()),
                ),
            Finding::new(CheckId::DeadTuples, Severity::Warning, Priority::High, "public.x", "other check").fix("VACUUM x;", None),
        ]
    }

    fn tables() -> BTreeMap<String, TableSize> {
        [(
            "public.meals".to_string(),
            TableSize {
                bytes: 64 * 1024 * 1024,
                rows: 45_000.0,
            },
        )]
        .into()
    }

    fn folder(files: &[(String, String)]) -> Source {
        crate::migrate::source::from_files(
            Path::new("m"),
            files
                .iter()
                .map(|(n, s)| (n.clone(), PathBuf::from(n), s.clone()))
                .collect(),
        )
    }

    #[test]
    fn high_priority_first_one_statement_per_file_with_rollback() {
        let p = plan(&findings(), &folder(&[]), &tables(), 150_000).unwrap();
        assert_eq!(p.migrations.len(), 2);
        let m = &p.migrations[0];
        assert_eq!(m.check, CheckId::FkWithoutIndex);
        assert_eq!(m.version, 1);
        assert_eq!(
            m.up_file,
            "1_high_fk_without_index_public_meals_meals_user_id_fkey.up.sql"
        );
        assert!(m
            .up_contents
            .starts_with("-- no-transaction\n-- dbdoctor plan: fk_without_index"));
        assert!(m.up_contents.contains("-- fk without index\n"));
        assert_eq!(
            m.expected_lock.as_deref(),
            Some("SHARE UPDATE EXCLUSIVE on public.meals")
        );
        assert_eq!(m.estimated_build_seconds, Some(2.0));
        assert!(m.down_contents.starts_with("-- no-transaction\n"));
        // The rollback of the drop gets IF NOT EXISTS.
        let d = &p.migrations[1];
        assert_eq!(
            d.rollback_sql,
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS meals_name_idx ON public.meals USING btree (name);"
        );
        assert_eq!(d.index_bytes, Some(8192));
        assert!(p.left_out.is_empty());
        // Lint accepts what plan writes.
        for m in &p.migrations {
            let f = crate::migrate::source::SqlFile {
                path: m.up_file.clone().into(),
                name: m.up_file.clone(),
                no_tx: true,
                sql: m.up_contents.clone(),
            };
            let d = crate::migrate::lint::lint_file(&f, &m.up_file);
            assert!(d.is_empty(), "{d:?}");
        }
    }

    #[test]
    fn second_run_reuses_files_and_is_byte_identical() {
        let first = plan(
            &findings(),
            &folder(&[
                ("5_init.up.sql".into(), "SELECT 1;".into()),
                ("5_init.down.sql".into(), "SELECT 1;".into()),
            ]),
            &tables(),
            150_000,
        )
        .unwrap();
        assert_eq!(first.migrations[0].version, 6);
        let mut files = vec![
            ("5_init.up.sql".to_string(), "SELECT 1;".to_string()),
            ("5_init.down.sql".into(), "SELECT 1;".into()),
        ];
        for m in &first.migrations {
            files.push((m.up_file.clone(), m.up_contents.clone()));
            files.push((m.down_file.clone(), m.down_contents.clone()));
        }
        let second = plan(&findings(), &folder(&files), &tables(), 150_000).unwrap();
        assert!(second.migrations.iter().all(|m| m.already_in_folder));
        assert_eq!(first.json(), second.json());
        for (a, b) in first.migrations.iter().zip(&second.migrations) {
            assert_eq!((&a.up_file, &a.up_contents), (&b.up_file, &b.up_contents));
        }
    }

    #[test]
    fn refuses_concurrent_builds_on_14_0_to_14_3() {
        let e = plan(&findings(), &folder(&[]), &tables(), 140_002).unwrap_err();
        assert!(e.to_string().contains("14.4"), "{e}");
        assert!(plan(&findings(), &folder(&[]), &tables(), 140_004).is_ok());
        assert!(concurrent_build_is_unsafe(140_000) && !concurrent_build_is_unsafe(130_010));
    }

    #[test]
    fn idempotent_adds_if_exists() {
        assert_eq!(
            idempotent("DROP INDEX CONCURRENTLY a.b"),
            "DROP INDEX CONCURRENTLY IF EXISTS a.b"
        );
        assert_eq!(
            idempotent("CREATE UNIQUE INDEX x ON t (a)"),
            "CREATE UNIQUE INDEX IF NOT EXISTS x ON t (a)"
        );
        assert_eq!(
            idempotent("DROP INDEX IF EXISTS b"),
            "DROP INDEX IF EXISTS b"
        );
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;
    use crate::analyze::{Confidence, Severity};

    #[test]
    fn low_confidence_and_duplicate_fixes_are_left_out() {
        let drop = "DROP INDEX CONCURRENTLY IF EXISTS public.a;";
        let fs = vec![
            Finding::new(
                CheckId::DuplicateIndex,
                Severity::Warning,
                Priority::Medium,
                "public.a",
                "dup",
            )
            .fix(drop, None),
            Finding::new(
                CheckId::UnusedIndex,
                Severity::Warning,
                Priority::Medium,
                "public.a",
                "unused",
            )
            .fix(drop, None),
            Finding::new(
                CheckId::UnusedIndex,
                Severity::Info,
                Priority::Low,
                "public.b",
                "young",
            )
            .fix("DROP INDEX CONCURRENTLY IF EXISTS public.b;", None)
            .confidence(Confidence::Low),
        ];
        let src = Source::default();
        let p = plan(&fs, &src, &BTreeMap::new(), 160_000).unwrap();
        assert_eq!(p.migrations.len(), 1);
        assert_eq!(p.migrations[0].check, CheckId::DuplicateIndex);
        assert_eq!(p.left_out.len(), 1);
        assert!(p.left_out[0].reason.contains("confidence is low"));
    }
}
