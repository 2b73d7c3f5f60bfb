//! The tracking tables: sqlx's `_sqlx_migrations`, read and written exactly as sqlx does, and
//! dbdoctor's extra record `_dbdoctor_migrations` beside it.

use std::collections::BTreeMap;

use anyhow::Context;
use sqlx::{PgConnection, Row};

/// sqlx's table, as sqlx 0.8 creates it.
pub const SQLX_TABLE_DDL: &str = include_str!("../sql/migrate_sqlx_table.sql");
/// dbdoctor's extra record.
pub const DBDOCTOR_TABLE_DDL: &str = include_str!("../sql/migrate_dbdoctor_table.sql");

/// The row sqlx writes, with the statement inside the migration's transaction. sqlx stores
/// execution_time in nanoseconds.
pub const INSERT_SQLX: &str = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES ($1, $2, TRUE, $3, $4)";
pub const DELETE_SQLX: &str = "DELETE FROM _sqlx_migrations WHERE version = $1";
pub const UPSERT_DBDOCTOR: &str = "INSERT INTO _dbdoctor_migrations (version, description, statements_applied, statements_total, success, error, error_statement, backup_location, applied_by, marked_applied, dbdoctor_version, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CASE WHEN $5 THEN now() END) ON CONFLICT (version) DO UPDATE SET description = EXCLUDED.description, statements_applied = EXCLUDED.statements_applied, statements_total = EXCLUDED.statements_total, success = EXCLUDED.success, error = EXCLUDED.error, error_statement = EXCLUDED.error_statement, backup_location = EXCLUDED.backup_location, applied_by = EXCLUDED.applied_by, marked_applied = EXCLUDED.marked_applied, dbdoctor_version = EXCLUDED.dbdoctor_version, started_at = CASE WHEN EXCLUDED.statements_applied = 0 AND NOT EXCLUDED.success THEN now() ELSE _dbdoctor_migrations.started_at END, finished_at = EXCLUDED.finished_at";
pub const DELETE_DBDOCTOR: &str = "DELETE FROM _dbdoctor_migrations WHERE version = $1";
/// Where the data a migration removes was saved (a column added by dbdoctor after the first
/// release, hence added when absent).
pub const ADD_DATA_BACKUP_COLUMN: &str =
    "ALTER TABLE _dbdoctor_migrations ADD COLUMN IF NOT EXISTS data_backup TEXT";
pub const SET_DATA_BACKUP: &str =
    "UPDATE _dbdoctor_migrations SET data_backup = $2 WHERE version = $1";
pub const PROGRESS_DBDOCTOR: &str = "UPDATE _dbdoctor_migrations SET statements_applied = $2, error = $3, error_statement = $4 WHERE version = $1";

/// A row of `_sqlx_migrations`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Applied {
    pub version: i64,
    pub description: String,
    pub installed_on: chrono::DateTime<chrono::Utc>,
    pub success: bool,
    #[serde(serialize_with = "ser_hex")]
    pub checksum: Vec<u8>,
    /// Nanoseconds (-1 when the process died between commit and the timing update, as in sqlx).
    pub execution_time_ns: i64,
}

fn ser_hex<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&super::source::hex(v))
}

/// A row of `_dbdoctor_migrations`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Extra {
    pub version: i64,
    pub statements_applied: i32,
    pub statements_total: i32,
    pub success: bool,
    pub error: Option<String>,
    pub error_statement: Option<String>,
    pub backup_location: Option<String>,
    /// One line per saved table or column: `what: restore file`.
    pub data_backup: Option<String>,
    pub applied_by: String,
    pub marked_applied: bool,
}

/// What the database says is applied.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// `_sqlx_migrations` exists.
    pub sqlx_table: bool,
    pub dbdoctor_table: bool,
    pub applied: BTreeMap<i64, Applied>,
    pub extras: BTreeMap<i64, Extra>,
}

impl State {
    /// Versions left half done: a failed no-transaction migration with some statements applied,
    /// or an sqlx row with success = false.
    pub fn partial(&self) -> Vec<(i64, String)> {
        let mut out = Vec::new();
        for a in self.applied.values().filter(|a| !a.success) {
            out.push((
                a.version,
                "recorded with success = false in _sqlx_migrations".to_string(),
            ));
        }
        for e in self.extras.values() {
            if !e.success && !self.applied.contains_key(&e.version) && e.statements_applied > 0 {
                out.push((
                    e.version,
                    format!(
                        "{} of {} statements applied before it failed{}",
                        e.statements_applied,
                        e.statements_total,
                        e.error
                            .as_deref()
                            .map(|x| format!(": {x}"))
                            .unwrap_or_default()
                    ),
                ));
            }
        }
        out.sort();
        out
    }
}

async fn table_exists(conn: &mut PgConnection, name: &str) -> anyhow::Result<bool> {
    let exists: bool =
        sqlx::query_scalar("/* dbdoctor */ SELECT /* dbdoctor */ to_regclass($1) IS NOT NULL")
            .bind(name)
            .fetch_one(conn)
            .await
            .with_context(|| format!("look for the {name} table"))?;
    Ok(exists)
}

/// Read both tables (read-only: creates nothing).
pub async fn read_state(conn: &mut PgConnection) -> anyhow::Result<State> {
    let mut st = State {
        sqlx_table: table_exists(conn, "_sqlx_migrations").await?,
        dbdoctor_table: table_exists(conn, "_dbdoctor_migrations").await?,
        ..Default::default()
    };
    if st.sqlx_table {
        let rows = sqlx::query(include_str!("../sql/migrate_read_sqlx.sql"))
            .fetch_all(&mut *conn)
            .await
            .context("read _sqlx_migrations")?;
        for r in rows {
            let a = Applied {
                version: r.try_get("version").context("_sqlx_migrations.version")?,
                description: r
                    .try_get("description")
                    .context("_sqlx_migrations.description")?,
                installed_on: r
                    .try_get("installed_on")
                    .context("_sqlx_migrations.installed_on")?,
                success: r.try_get("success").context("_sqlx_migrations.success")?,
                checksum: r.try_get("checksum").context("_sqlx_migrations.checksum")?,
                execution_time_ns: r
                    .try_get("execution_time")
                    .context("_sqlx_migrations.execution_time")?,
            };
            st.applied.insert(a.version, a);
        }
    }
    if st.dbdoctor_table {
        let rows = sqlx::query(include_str!("../sql/migrate_read_dbdoctor.sql"))
            .fetch_all(&mut *conn)
            .await
            .context("read _dbdoctor_migrations")?;
        for r in rows {
            let e = Extra {
                version: r
                    .try_get("version")
                    .context("_dbdoctor_migrations.version")?,
                statements_applied: r
                    .try_get("statements_applied")
                    .context("statements_applied")?,
                statements_total: r.try_get("statements_total").context("statements_total")?,
                success: r.try_get("success").context("success")?,
                error: r.try_get("error").context("error")?,
                error_statement: r.try_get("error_statement").context("error_statement")?,
                backup_location: r.try_get("backup_location").context("backup_location")?,
                data_backup: r.try_get("data_backup").context("data_backup")?,
                applied_by: r.try_get("applied_by").context("applied_by")?,
                marked_applied: r.try_get("marked_applied").context("marked_applied")?,
            };
            st.extras.insert(e.version, e);
        }
    }
    Ok(st)
}

/// Values of one `_dbdoctor_migrations` row.
#[derive(Debug, Clone)]
pub struct ExtraRow<'a> {
    pub version: i64,
    pub description: &'a str,
    pub applied: i32,
    pub total: i32,
    pub success: bool,
    pub error: Option<&'a str>,
    pub error_statement: Option<&'a str>,
    pub backup: Option<&'a str>,
    pub applied_by: &'a str,
    pub marked: bool,
}

pub async fn upsert_extra(conn: &mut PgConnection, r: &ExtraRow<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(UPSERT_DBDOCTOR)
        .bind(r.version)
        .bind(r.description)
        .bind(r.applied)
        .bind(r.total)
        .bind(r.success)
        .bind(r.error)
        .bind(r.error_statement)
        .bind(r.backup)
        .bind(r.applied_by)
        .bind(r.marked)
        .bind(env!("CARGO_PKG_VERSION"))
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn insert_sqlx(
    conn: &mut PgConnection,
    version: i64,
    description: &str,
    checksum: &[u8],
    execution_time_ns: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(INSERT_SQLX)
        .bind(version)
        .bind(description)
        .bind(checksum)
        .bind(execution_time_ns)
        .execute(conn)
        .await
        .map(|_| ())
}
