//! Reads what the advisor needs about the tables the statements name: sizes, row estimates,
//! write counts, column statistics and existing indexes. Read-only, parameters bound.

use std::collections::BTreeMap;

use sqlx::PgPool;

use crate::advisor::candidates::{ColumnInfo, ExistingIndex, TableInfo};
use crate::advisor::extract::TableName;
use crate::collect::{decode, CollectError};

const TABLES: &str = include_str!("../sql/advisor_tables.sql");
const COLUMNS: &str = include_str!("../sql/advisor_columns.sql");
const INDEXES: &str = include_str!("../sql/advisor_indexes.sql");

/// The row of `advisor_tables.sql`: a table under the name a statement wrote it.
#[derive(sqlx::FromRow)]
struct TableRow {
    /// Empty when the statement named no schema.
    wanted_schema: String,
    wanted_name: String,
    window_seconds: f64,
    #[sqlx(flatten)]
    table: TableInfo,
}

/// The row of `advisor_columns.sql`.
#[derive(sqlx::FromRow)]
struct ColumnRow {
    table_oid: i64,
    #[sqlx(flatten)]
    column: ColumnInfo,
}

/// The row of `advisor_indexes.sql`.
#[derive(sqlx::FromRow)]
struct IndexRow {
    table_oid: i64,
    #[sqlx(flatten)]
    index: ExistingIndex,
}

/// The tables found, keyed by the name as the statements wrote it. Names that resolve to nothing
/// (temporary tables of other sessions, dropped tables, a different search_path) are absent.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub by_name: BTreeMap<TableName, i64>,
    pub tables: BTreeMap<i64, TableInfo>,
}

impl Catalog {
    pub fn lookup(&self, name: &TableName) -> Option<&TableInfo> {
        self.by_name.get(name).and_then(|oid| self.tables.get(oid))
    }
}

/// Resolve `names` and read their statistics.
pub async fn collect(pool: &PgPool, names: &[TableName]) -> Result<Catalog, CollectError> {
    let mut cat = Catalog::default();
    if names.is_empty() {
        return Ok(cat);
    }
    let schemas: Vec<String> = names
        .iter()
        .map(|n| n.schema.clone().unwrap_or_default())
        .collect();
    let tables: Vec<String> = names.iter().map(|n| n.name.clone()).collect();
    let rows = sqlx::query(TABLES)
        .bind(&schemas)
        .bind(&tables)
        .fetch_all(pool)
        .await
        .map_err(|e| CollectError::query("advisor_tables", e))?;
    for r in &rows {
        let row: TableRow = decode("advisor_tables", r)?;
        let wanted = TableName {
            schema: (!row.wanted_schema.is_empty()).then_some(row.wanted_schema),
            name: row.wanted_name,
        };
        let mut table = row.table;
        let window_s = row.window_seconds;
        table.writes_per_hour = (window_s >= 60.0).then(|| table.writes as f64 * 3600.0 / window_s);
        cat.by_name.insert(wanted, table.oid);
        cat.tables.entry(table.oid).or_insert(table);
    }
    let oids: Vec<i64> = cat.tables.keys().copied().collect();
    if oids.is_empty() {
        return Ok(cat);
    }

    let rows = sqlx::query(COLUMNS)
        .bind(&oids)
        .fetch_all(pool)
        .await
        .map_err(|e| CollectError::query("advisor_columns", e))?;
    for r in &rows {
        let row: ColumnRow = decode("advisor_columns", r)?;
        if let Some(t) = cat.tables.get_mut(&row.table_oid) {
            t.columns.push(row.column);
        }
    }

    let rows = sqlx::query(INDEXES)
        .bind(&oids)
        .fetch_all(pool)
        .await
        .map_err(|e| CollectError::query("advisor_indexes", e))?;
    for r in &rows {
        let row: IndexRow = decode("advisor_indexes", r)?;
        if let Some(t) = cat.tables.get_mut(&row.table_oid) {
            t.indexes.push(row.index);
        }
    }
    Ok(cat)
}
