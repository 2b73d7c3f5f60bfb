//! The tracking tables: sqlx's (`_sqlx_migrations` unless sqlx.toml names another), read and
//! written exactly as sqlx does, and dbdoctor's extra record `_dbdoctor_migrations` beside it.

use std::collections::BTreeMap;

use anyhow::Context;
use sqlx::PgConnection;

pub use super::tracking_table::TrackingTable;

/// SQL text with `{table}` replaced by a table's quoted name (never a value: values are bound).
fn with_table(sql: &str, table: &TrackingTable) -> String {
    sql.replace("{table}", &table.ident())
}

/// sqlx's table, as sqlx 0.8 creates it.
pub fn sqlx_table_ddl(t: &TrackingTable) -> String {
    with_table(include_str!("../sql/migrate_sqlx_table.sql"), t)
}

/// dbdoctor's extra record (beside sqlx's table).
pub fn dbdoctor_table_ddl(t: &TrackingTable) -> String {
    with_table(
        include_str!("../sql/migrate_dbdoctor_table.sql"),
        &t.extra(),
    )
}

/// The row sqlx writes, with the statement inside the migration's transaction. sqlx stores
/// execution_time in nanoseconds.
pub fn insert_sqlx(t: &TrackingTable) -> String {
    with_table("INSERT INTO {table} (version, description, success, checksum, execution_time) VALUES ($1, $2, TRUE, $3, $4)", t)
}

pub fn delete_sqlx(t: &TrackingTable) -> String {
    with_table("DELETE FROM {table} WHERE version = $1", t)
}

fn upsert_dbdoctor(t: &TrackingTable) -> String {
    with_table("INSERT INTO {table} AS d (version, description, statements_applied, statements_total, success, error, error_statement, backup_location, applied_by, marked_applied, dbdoctor_version, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CASE WHEN $5 THEN now() END) ON CONFLICT (version) DO UPDATE SET description = EXCLUDED.description, statements_applied = EXCLUDED.statements_applied, statements_total = EXCLUDED.statements_total, success = EXCLUDED.success, error = EXCLUDED.error, error_statement = EXCLUDED.error_statement, backup_location = EXCLUDED.backup_location, applied_by = EXCLUDED.applied_by, marked_applied = EXCLUDED.marked_applied, dbdoctor_version = EXCLUDED.dbdoctor_version, started_at = CASE WHEN EXCLUDED.statements_applied = 0 AND NOT EXCLUDED.success THEN now() ELSE d.started_at END, finished_at = EXCLUDED.finished_at", &t.extra())
}

pub fn delete_dbdoctor(t: &TrackingTable) -> String {
    with_table("DELETE FROM {table} WHERE version = $1", &t.extra())
}

/// Where the data a migration removes was saved (a column added by dbdoctor after the first
/// release, hence added when absent).
pub fn add_data_backup_column(t: &TrackingTable) -> String {
    with_table(
        "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS data_backup TEXT",
        &t.extra(),
    )
}

pub fn set_data_backup(t: &TrackingTable) -> String {
    with_table(
        "UPDATE {table} SET data_backup = $2 WHERE version = $1",
        &t.extra(),
    )
}

pub fn progress_dbdoctor(t: &TrackingTable) -> String {
    with_table("UPDATE {table} SET statements_applied = $2, error = $3, error_statement = $4 WHERE version = $1", &t.extra())
}

/// A row of `_sqlx_migrations`.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Applied {
    pub version: i64,
    pub description: String,
    pub installed_on: chrono::DateTime<chrono::Utc>,
    pub success: bool,
    #[serde(serialize_with = "ser_hex")]
    pub checksum: Vec<u8>,
    /// Nanoseconds (-1 when the process died between commit and the timing update, as in sqlx).
    #[sqlx(rename = "execution_time")]
    pub execution_time_ns: i64,
}

fn ser_hex<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&super::source::hex(v))
}

/// A row of `_dbdoctor_migrations`.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
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
    /// The table read (sqlx.toml's `table-name`, else `_sqlx_migrations`).
    pub table: TrackingTable,
    /// That table exists.
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
                format!("recorded with success = false in {}", self.table),
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

async fn table_exists(conn: &mut PgConnection, table: &TrackingTable) -> anyhow::Result<bool> {
    let name = table.ident();
    let exists: bool =
        sqlx::query_scalar("/* dbdoctor */ SELECT /* dbdoctor */ to_regclass($1) IS NOT NULL")
            .bind(&name)
            .fetch_one(conn)
            .await
            .with_context(|| format!("look for the {name} table"))?;
    Ok(exists)
}

/// Read both tables (read-only: creates nothing).
pub async fn read_state(conn: &mut PgConnection, table: &TrackingTable) -> anyhow::Result<State> {
    let extra = table.extra();
    let mut st = State {
        table: table.clone(),
        sqlx_table: table_exists(conn, table).await?,
        dbdoctor_table: table_exists(conn, &extra).await?,
        ..Default::default()
    };
    if st.sqlx_table {
        let sql = with_table(include_str!("../sql/migrate_read_sqlx.sql"), table);
        let rows: Vec<Applied> = sqlx::query_as(&sql)
            .fetch_all(&mut *conn)
            .await
            .with_context(|| format!("read {table}"))?;
        st.applied = rows.into_iter().map(|a| (a.version, a)).collect();
    }
    if st.dbdoctor_table {
        let sql = with_table(include_str!("../sql/migrate_read_dbdoctor.sql"), &extra);
        let rows: Vec<Extra> = sqlx::query_as(&sql)
            .fetch_all(&mut *conn)
            .await
            .with_context(|| format!("read {extra}"))?;
        st.extras = rows.into_iter().map(|e| (e.version, e)).collect();
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

impl<'a> ExtraRow<'a> {
    /// The row of a migration with `applied` of its `total` statements run, no error, not
    /// marked.
    pub fn progress(
        version: i64,
        description: &'a str,
        (applied, total): (i32, i32),
        success: bool,
        backup: Option<&'a str>,
        applied_by: &'a str,
    ) -> Self {
        ExtraRow {
            version,
            description,
            applied,
            total,
            success,
            error: None,
            error_statement: None,
            backup,
            applied_by,
            marked: false,
        }
    }
}

pub async fn upsert_extra(
    conn: &mut PgConnection,
    t: &TrackingTable,
    r: &ExtraRow<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(&upsert_dbdoctor(t))
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

pub async fn record_sqlx(
    conn: &mut PgConnection,
    t: &TrackingTable,
    version: i64,
    description: &str,
    checksum: &[u8],
    execution_time_ns: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(&insert_sqlx(t))
        .bind(version)
        .bind(description)
        .bind(checksum)
        .bind(execution_time_ns)
        .execute(conn)
        .await
        .map(|_| ())
}
