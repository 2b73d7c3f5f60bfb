//! Reads what the advisor needs about the tables the statements name: sizes, row estimates,
//! write counts, column statistics and existing indexes. Read-only, parameters bound.

use std::collections::BTreeMap;

use sqlx::{PgPool, Row};

use crate::advisor::candidates::{ColumnInfo, ExistingIndex, TableInfo};
use crate::advisor::extract::TableName;
use crate::collect::CollectError;

const TABLES: &str = include_str!("../sql/advisor_tables.sql");
const COLUMNS: &str = include_str!("../sql/advisor_columns.sql");
const INDEXES: &str = include_str!("../sql/advisor_indexes.sql");

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
    let dec = |e| CollectError::decode("advisor_tables", e);
    for r in rows {
        let wanted_schema: String = r.try_get("wanted_schema").map_err(dec)?;
        let wanted = TableName {
            schema: (!wanted_schema.is_empty()).then_some(wanted_schema),
            name: r.try_get("wanted_name").map_err(dec)?,
        };
        let oid: i64 = r.try_get("oid").map_err(dec)?;
        let writes: i64 = r.try_get("writes").map_err(dec)?;
        let window_s: f64 = r.try_get("window_seconds").map_err(dec)?;
        cat.by_name.insert(wanted, oid);
        cat.tables.entry(oid).or_insert(TableInfo {
            oid,
            schema: r.try_get("schema").map_err(dec)?,
            name: r.try_get("name").map_err(dec)?,
            relkind: r.try_get("relkind").map_err(dec)?,
            rows: r.try_get("rows").map_err(dec)?,
            total_bytes: r.try_get("total_bytes").map_err(dec)?,
            writes,
            writes_per_hour: (window_s >= 60.0).then(|| writes as f64 * 3600.0 / window_s),
            analyzed: r.try_get("analyzed").map_err(dec)?,
            columns: Vec::new(),
            indexes: Vec::new(),
        });
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
    let dec = |e| CollectError::decode("advisor_columns", e);
    for r in rows {
        let oid: i64 = r.try_get("table_oid").map_err(dec)?;
        let col = ColumnInfo {
            name: r.try_get("name").map_err(dec)?,
            type_name: r.try_get("type_name").map_err(dec)?,
            btree: r.try_get("btree").map_err(dec)?,
            null_frac: r.try_get("null_frac").map_err(dec)?,
            n_distinct: r.try_get("n_distinct").map_err(dec)?,
            max_mcv_freq: r.try_get("max_mcv_freq").map_err(dec)?,
        };
        if let Some(t) = cat.tables.get_mut(&oid) {
            t.columns.push(col);
        }
    }

    let rows = sqlx::query(INDEXES)
        .bind(&oids)
        .fetch_all(pool)
        .await
        .map_err(|e| CollectError::query("advisor_indexes", e))?;
    let dec = |e| CollectError::decode("advisor_indexes", e);
    for r in rows {
        let oid: i64 = r.try_get("table_oid").map_err(dec)?;
        let idx = ExistingIndex {
            name: r.try_get("name").map_err(dec)?,
            am: r.try_get("am").map_err(dec)?,
            columns: r.try_get("columns").map_err(dec)?,
            valid: r.try_get("valid").map_err(dec)?,
            partial: r.try_get("partial").map_err(dec)?,
            unique: r.try_get("is_unique").map_err(dec)?,
            primary: r.try_get("is_primary").map_err(dec)?,
            definition: r.try_get("definition").map_err(dec)?,
        };
        if let Some(t) = cat.tables.get_mut(&oid) {
            t.indexes.push(idx);
        }
    }
    Ok(cat)
}
